package supervision_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/at-technology/atqueue/supervision"
)

func TestPolicyValidate(t *testing.T) {
	withBackoff := func(b supervision.Backoff) supervision.Policy {
		p := supervision.DefaultPolicy()
		p.Backoff = b
		return p
	}
	tests := []struct {
		name    string
		p       supervision.Policy
		wantErr bool
	}{
		{"default", supervision.DefaultPolicy(), false},
		{"zero value stops at once", supervision.Policy{}, false},
		{"all for one", supervision.Policy{MaxRestarts: 1, Within: time.Second, AllForOne: true}, false},
		{"multiplier 0 means 2", withBackoff(supervision.Backoff{Initial: time.Millisecond, Max: time.Second}), false},
		{"multiplier 1", withBackoff(supervision.Backoff{Initial: time.Millisecond, Max: time.Second, Multiplier: 1}), false},
		{"jitter 1", withBackoff(supervision.Backoff{Initial: time.Millisecond, Max: time.Second, Jitter: 1}), false},
		{"negative max restarts", supervision.Policy{MaxRestarts: -1, Within: time.Second}, true},
		{"negative within", supervision.Policy{Within: -time.Second}, true},
		{"restarts without window", supervision.Policy{MaxRestarts: 3}, true},
		{"negative initial", withBackoff(supervision.Backoff{Initial: -time.Millisecond}), true},
		{"negative max", withBackoff(supervision.Backoff{Max: -time.Millisecond}), true},
		{"multiplier below 1", withBackoff(supervision.Backoff{Multiplier: 0.5}), true},
		{"negative multiplier", withBackoff(supervision.Backoff{Multiplier: -2}), true},
		{"NaN multiplier", withBackoff(supervision.Backoff{Multiplier: math.NaN()}), true},
		{"negative jitter", withBackoff(supervision.Backoff{Jitter: -0.1}), true},
		{"jitter above 1", withBackoff(supervision.Backoff{Jitter: 1.5}), true},
		{"NaN jitter", withBackoff(supervision.Backoff{Jitter: math.NaN()}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.wantErr != (err != nil) {
				t.Fatalf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, supervision.ErrInvalidPolicy) {
				t.Fatalf("Validate() = %v, does not wrap ErrInvalidPolicy", err)
			}
		})
	}
}

func TestDirectiveString(t *testing.T) {
	for d, want := range map[supervision.Directive]string{
		supervision.Restart:       "restart",
		supervision.Stop:          "stop",
		supervision.Escalate:      "escalate",
		supervision.Resume:        "resume",
		supervision.Directive(42): "Directive(42)",
	} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(d), got, want)
		}
	}
}
