package dropin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/golden"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Every pairing of the registry's --durable with the at_queue version of the Python
// components: the registry's own pair is declared by whoever comes first, so the operator
// must choose to match the deployment; then a Python component registering with the
// golden bytes works both ways with Go components, and Go components join either kind of
// deployment with their default settings (they adopt the queues they find). A mismatch
// fails on the Python side exactly as a real at_queue component fails (RabbitMQ refuses
// its declare), and the Go side keeps working.
func TestDurability(t *testing.T) {
	t.Parallel()
	for _, durable := range []bool{true, false} {
		for _, v := range []pypeer.Version{pypeer.Before6ddd4b0, pypeer.Since6ddd4b0} {
			t.Run(fmt.Sprintf("durable=%t/%s", durable, v.Name), func(t *testing.T) {
				t.Parallel()
				url := rabbittest.VHost(t)
				ctx := deadline(t, 90*time.Second)
				reg, _ := process(t, url, amqpbridge.WithDurable(durable))
				if _, err := reg.StartRegistry(ctx); err != nil {
					t.Fatal(err)
				}
				goSys, _ := process(t, url) // a Go component with default settings
				if _, err := goSys.Spawn(ctx, summator("GoSummator")); err != nil {
					t.Fatalf("a Go component joining the deployment: %v", err)
				}
				caller, err := goSys.Spawn(ctx, summator("GoCaller"))
				if err != nil {
					t.Fatal(err)
				}

				p, err := pypeer.Register(ctx, url, golden.Read(t, "register_request.json"), v,
					map[string]pypeer.Method{"int_sum": pypeer.IntSum})
				if durable != v.Durable {
					if err == nil {
						_ = p.Close()
						t.Fatalf("%s registered although the registry's queues were declared durable=%t", v.Name, durable)
					}
					if !strings.Contains(err.Error(), "PRECONDITION_FAILED") || !strings.Contains(err.Error(), "durable") {
						t.Fatalf("%s: %v, want RabbitMQ's PRECONDITION_FAILED about 'durable'", v.Name, err)
					}
					var got int
					if err := caller.Call(ctx, "GoSummator", "int_sum", sumArgs{A: 2, B: 3}, &got); err != nil || got != 5 {
						t.Fatalf("the Go side after the refused peer: %d, %v", got, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s against a registry with durable=%t: %v", v.Name, durable, err)
				}
				t.Cleanup(func() { _ = p.Close() })
				var got int
				if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{A: 5, B: 18}, &got); err != nil || got != 23 {
					t.Fatalf("Go calls the Python IntSummator: %d, %v", got, err)
				}
				requester := pyRegister(t, ctx, url, "SumRequester", v)
				wantSum(t, ctx, requester, "GoSummator")
				wantSum(t, ctx, requester, "IntSummator")

				flags := queueDurability(t, url)
				for _, sid := range []string{wire.RegistrySession, wire.SessionID("IntSummator"), wire.SessionID("SumRequester")} {
					for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
						if got, ok := flags[q]; !ok || got != durable {
							t.Errorf("queue %s: durable=%t (present %t), want %t", q, got, ok, durable)
						}
					}
				}
			})
		}
	}
}

// A registry started with the default --durable=true in a virtual host where an old
// deployment left the registry's queues non-durable adopts them: old components keep
// registering, and nothing needs deleting.
func TestRegistryAdoptsQueuesItFinds(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	raw := rabbittest.Channel(t, url)
	for _, q := range []string{wire.SendQueue(wire.RegistrySession), wire.RecieveQueue(wire.RegistrySession)} {
		if _, err := raw.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	reg, _ := process(t, url) // WithDurable(true), the default
	if _, err := reg.StartRegistry(ctx, registry.WithLiveness(0, 0)); err != nil {
		t.Fatalf("a registry over non-durable queues: %v", err)
	}
	old := pyRegister(t, ctx, url, "IntSummator", pypeer.Before6ddd4b0)
	requester := pyRegister(t, ctx, url, "SumRequester", pypeer.Before6ddd4b0)
	wantSum(t, ctx, requester, old.Name)
	if flags := queueDurability(t, url); flags[wire.SendQueue(wire.RegistrySession)] {
		t.Errorf("the registry's queue became durable: %v", flags)
	}
}

// queueDurability maps every queue of the virtual host to its durable flag.
func queueDurability(t *testing.T, url string) map[string]bool {
	t.Helper()
	u, err := amqp.ParseURI(url)
	if err != nil {
		t.Fatal(err)
	}
	out := rabbittest.Ctl(t, "list_queues", "-p", u.Vhost, "--no-table-headers", "name", "durable")
	flags := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, d, ok := strings.Cut(line, "\t")
		if ok {
			flags[name] = d == "true"
		}
	}
	return flags
}
