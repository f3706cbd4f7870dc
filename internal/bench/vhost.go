package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/at-technology/atqueue/internal/rabbitctl"
)

// ErrBroker wraps failures to manage the broker with rabbitmqctl.
var ErrBroker = errors.New("rabbitmqctl failed")

// ctlTimeout bounds one rabbitmqctl call; deleting a virtual host with thousands of
// queues takes a few seconds.
const ctlTimeout = 2 * time.Minute

// VHost is a virtual host made for one measurement, on the broker of the URL it was made
// from; Delete removes it with everything in it.
type VHost struct {
	Name string
	URL  string // the AMQP URL of the virtual host

	once sync.Once
	err  error
}

// NewVHost creates the virtual host atqbench-<label>-<random> with rabbitmqctl (which must
// manage the broker that base points at) and gives base's user every permission on it.
func NewVHost(ctx context.Context, base, label string) (*VHost, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("AMQP URL: %w", err)
	}
	user := "guest"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	v := &VHost{Name: "atqbench-" + label + "-" + hex.EncodeToString(b[:])}
	if _, err := Ctl(ctx, "add_vhost", v.Name); err != nil {
		return nil, err
	}
	if _, err := Ctl(ctx, "set_permissions", "-p", v.Name, user, ".*", ".*", ".*"); err != nil {
		return nil, errors.Join(err, v.Delete(context.WithoutCancel(ctx)))
	}
	u.Path, u.RawPath = "/"+v.Name, "/"+url.PathEscape(v.Name)
	v.URL = u.String()
	return v, nil
}

// NewVHosts creates one virtual host per label at once (rabbitmqctl takes about a second
// per call); on an error it deletes those it made.
func NewVHosts(ctx context.Context, base string, labels ...string) ([]*VHost, error) {
	vs := make([]*VHost, len(labels))
	errs := make([]error, len(labels))
	var wg sync.WaitGroup
	for i, l := range labels {
		wg.Go(func() { vs[i], errs[i] = NewVHost(ctx, base, l) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, DeleteVHosts(context.WithoutCancel(ctx), vs...))
	}
	return vs, nil
}

// Delete deletes the virtual host and all it holds; later calls return the first's error.
func (v *VHost) Delete(ctx context.Context) error {
	v.once.Do(func() { _, v.err = Ctl(ctx, "delete_vhost", v.Name) })
	return v.err
}

// DeleteVHosts deletes the virtual hosts at once; nil ones are skipped.
func DeleteVHosts(ctx context.Context, vs ...*VHost) error {
	errs := make([]error, len(vs))
	var wg sync.WaitGroup
	for i, v := range vs {
		if v != nil {
			wg.Go(func() { errs[i] = v.Delete(ctx) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Queues counts the queues of the virtual host.
func (v *VHost) Queues(ctx context.Context) (int, error) {
	out, err := Ctl(ctx, "list_queues", "-p", v.Name, "--no-table-headers", "name")
	if err != nil {
		return 0, err
	}
	return len(strings.Fields(out)), nil
}

// Ctl runs `rabbitmqctl -q args...` and returns its standard output.
func Ctl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ctlTimeout)
	defer cancel()
	out, err := rabbitctl.Run(ctx, args...)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBroker, err)
	}
	return out, nil
}
