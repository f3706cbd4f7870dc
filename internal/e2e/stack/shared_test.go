package stack_test

import (
	"errors"
	"testing"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// The components of one process consume their queues on a few shared channels
// (amqpbridge.SharedShards), and a name that another process holds is refused without
// closing them: the components already on them keep their consumers and answer.
func TestComponentsOfAProcessShareTheirChannel(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	startRegistry(t, url)
	proc := process(t, url)
	names := []string{"SharedA", "SharedB", "SharedC", "SharedD", "SharedE", "SharedF", "SharedG", "SharedH", "SharedI"}
	for _, name := range names {
		if _, err := proc.Spawn(ctx, seedSummator(name)); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := amqp.ParseURI(url)
	before := rabbittest.ConsumerChannels(t, u.Vhost)
	used := map[string]bool{}
	for _, name := range names {
		ch := before[wire.RecieveQueue(wire.SessionID(name))]
		if ch == "" {
			t.Fatalf("%s has no consumer\n%v", name, before)
		}
		used[ch] = true
	}
	if len(used) > amqpbridge.SharedShards {
		t.Fatalf("%d components consume on %d channels, want at most %d shared ones\n%v", len(names), len(used), amqpbridge.SharedShards, before)
	}

	// The same name from another process: counted, refused, and the channel stays.
	_, err := process(t, url).Spawn(ctx, seedSummator(names[1]))
	if !errors.Is(err, component.ErrRegistration) {
		t.Fatalf("a second instance of %s: %v, want ErrRegistration", names[1], err)
	}
	caller, err := process(t, url).Spawn(ctx, component.New("SharedCaller"))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		var sum int
		if err := caller.Call(ctx, name, "int_sum", seed.SumArgs{A: i, B: 1}, &sum); err != nil || sum != i+1 {
			t.Fatalf("%s after the refusal: %d, %v", name, sum, err)
		}
	}
	after := rabbittest.ConsumerChannels(t, u.Vhost)
	for _, name := range names {
		if q := wire.RecieveQueue(wire.SessionID(name)); after[q] != before[q] {
			t.Fatalf("%s consumes on %q after the refusal, want %q still: a shared channel was disturbed", name, after[q], before[q])
		}
	}
}
