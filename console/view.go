package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// Registry is what a view is read from: a running component's queries to the registry.
// *component.Handle is one.
type Registry interface {
	Directory(ctx context.Context) ([]wire.DirectoryEntry, error)
	InspectAll(ctx context.Context) (json.RawMessage, error)
}

// DirectoryGrace is how long Load waits for the answer to the directory request once
// inspect_all has been answered. The registry answers both from memory, in the order they
// came; a registry that answers inspect_all and not the directory within this time is
// taken for python -m at_queue, which never answers it.
const DirectoryGrace = 500 * time.Millisecond

// View is what the operator tools show of the registry: every component in registration
// order, with what the registry knows of its liveness.
type View struct {
	// Liveness is true when the registry answered the directory request (a Go
	// registry); false means python -m at_queue, which knows nothing of liveness or
	// registration times: Alive is then null and RegisteredAt empty.
	Liveness   bool    `json:"liveness"`
	Components []Entry `json:"components"`
}

// Entry is one component of a View.
type Entry struct {
	Name      string `json:"name"`
	SessionID string `json:"session_id"`
	Alive     *bool  `json:"alive"` // nil: unknown
	// Consumers of its recieve- queue at the registry's last check; -1 before the first,
	// nil when unknown.
	Consumers    *int   `json:"consumers,omitempty"`
	Methods      int    `json:"methods"`
	RegisteredAt string `json:"registered_at,omitempty"` // RFC 3339
	// LastAlive is set for a component that is not alive: when its queue last had a
	// consumer (RFC 3339). It is left empty for a live one, so that a View only changes
	// when something an operator cares about changes.
	LastAlive string `json:"last_alive,omitempty"`
	Go        bool   `json:"go"` // registered by a Go component (false also when unknown)
	// Description is the component's description as the registry keeps it (docs/protocol.md
	// §8), when the view was loaded with descriptions.
	Description json.RawMessage `json:"description,omitempty"`
}

// ErrUnexpected marks an answer of the registry that does not have the expected shape.
var ErrUnexpected = errors.New("unexpected answer from the registry")

// Load reads the view: it asks the registry for the directory and for inspect_all at the
// same time, and waits for both until ctx ends (or for inspect_all and then DirectoryGrace,
// see View.Liveness). Descriptions are kept when withDescriptions is true.
func Load(ctx context.Context, r Registry, withDescriptions bool) (View, error) {
	type dirResult struct {
		entries []wire.DirectoryEntry
		err     error
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dirCh := make(chan dirResult, 1)
	go func() {
		e, err := r.Directory(dctx)
		dirCh <- dirResult{e, err}
	}()
	raw, err := r.InspectAll(ctx)
	if err != nil {
		cancel()
		<-dirCh
		return View{}, fmt.Errorf("inspect_all: %w", err)
	}
	all, err := parseInspectAll(raw)
	if err != nil {
		cancel()
		<-dirCh
		return View{}, err
	}
	grace := time.NewTimer(DirectoryGrace)
	defer grace.Stop()
	var dir dirResult
	select {
	case dir = <-dirCh:
	case <-grace.C:
		cancel()
		dir = <-dirCh
	}
	if dir.err != nil {
		// No directory: python -m at_queue (or a Go registry that failed to answer it,
		// which the next Load will tell).
		return fromInspectAll(all, withDescriptions), nil
	}
	return merge(dir.entries, all, withDescriptions), nil
}

// described is one registration of an inspect_all answer.
type described struct {
	name      string
	sessionID string
	alive     *bool // a Go registry's "alive": false in the broker object; nil otherwise
	desc      json.RawMessage
	methods   int
}

// parseInspectAll reads an inspect_all answer, {"<name>": {"broker": {...}, "component":
// {...}}, ...}, keeping the registration order of its keys.
func parseInspectAll(raw json.RawMessage) ([]described, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: inspect_all is not an object", ErrUnexpected)
	}
	var out []described
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: inspect_all: %v", ErrUnexpected, err)
		}
		name, _ := tok.(string)
		var reg struct {
			Broker struct {
				SessionID string `json:"session_id"`
				Alive     *bool  `json:"alive"`
			} `json:"broker"`
			Component json.RawMessage `json:"component"`
		}
		if err := dec.Decode(&reg); err != nil {
			return nil, fmt.Errorf("%w: inspect_all[%q]: %v", ErrUnexpected, name, err)
		}
		out = append(out, described{name: name, sessionID: reg.Broker.SessionID, alive: reg.Broker.Alive,
			desc: reg.Component, methods: countMethods(reg.Component)})
	}
	return out, nil
}

// countMethods is the number of keys of a description's "methods" object.
func countMethods(desc json.RawMessage) int {
	var d struct {
		Methods map[string]json.RawMessage `json:"methods"`
	}
	_ = json.Unmarshal(desc, &d)
	return len(d.Methods)
}

// fromInspectAll is the view of a registry that did not answer the directory request.
func fromInspectAll(all []described, withDescriptions bool) View {
	v := View{Components: make([]Entry, 0, len(all))}
	for _, d := range all {
		e := Entry{Name: d.name, SessionID: d.sessionID, Methods: d.methods, Alive: d.alive}
		if withDescriptions {
			e.Description = d.desc
		}
		v.Components = append(v.Components, e)
	}
	return v
}

// merge is the view of a registry that answered both: the directory's entries in their
// order, with the descriptions of inspect_all.
func merge(entries []wire.DirectoryEntry, all []described, withDescriptions bool) View {
	descs := make(map[string]json.RawMessage, len(all))
	for _, d := range all {
		descs[d.name] = d.desc
	}
	v := View{Liveness: true, Components: make([]Entry, 0, len(entries))}
	for _, d := range entries {
		v.Components = append(v.Components, fromDirectory(d, descs[d.Name], withDescriptions))
	}
	return v
}

func fromDirectory(d wire.DirectoryEntry, desc json.RawMessage, withDescriptions bool) Entry {
	alive, consumers := d.Alive, d.Consumers
	e := Entry{Name: d.Name, SessionID: d.SessionID, Alive: &alive, Consumers: &consumers, Methods: d.Methods,
		RegisteredAt: d.RegisteredAt, Go: d.Go}
	if !alive {
		e.LastAlive = d.LastAlive
	}
	if withDescriptions {
		e.Description = desc
	}
	return e
}

// Find is the entry named name, or nil.
func (v View) Find(name string) *Entry {
	for i := range v.Components {
		if v.Components[i].Name == name {
			return &v.Components[i]
		}
	}
	return nil
}
