package bench_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/bench"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMeasure(t *testing.T) {
	var n atomic.Int64
	s := bench.Measure(context.Background(), "concurrent4", 100, 4, func(context.Context) error {
		if n.Add(1)%10 == 0 {
			return errors.New("every tenth fails")
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if s.Calls != 100 || s.Errors != 10 || s.FirstErr == nil || s.P50 < time.Millisecond || s.P99 < s.P50 || s.PerSecond() <= 0 {
		t.Errorf("%+v", s)
	}
	line := s.JSON()
	if !strings.HasPrefix(line, `{"mode": "concurrent4", "calls": 100, "calls_per_s": `) || !strings.HasSuffix(line, `, "errors": 10}`) {
		t.Errorf("JSON line %s", line)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Errorf("%s: %v", line, err)
	}
}

func TestRunOverRabbitMQ(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []bench.RelayOption
	}{{"confirms", nil}, {"without confirms", []bench.RelayOption{bench.WithoutConfirms()}}} {
		t.Run(tc.name, func(t *testing.T) {
			url := rabbittest.VHost(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := bench.Run(ctx, url, 50, 200, 16, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []bench.Stats{res.Serial, res.Concurrent} {
				t.Log(s.JSON())
				if s.Errors != 0 || s.P50 <= 0 || s.Max < s.P99 {
					t.Errorf("%s: %+v", s.Mode, s)
				}
			}
			if res.Serial.Calls != 50 || res.Concurrent.Calls != 200 || res.Concurrent.Mode != "concurrent16" {
				t.Errorf("%+v", res)
			}
			// Run deletes its queues: the vhost is empty again.
			if out := rabbittest.Ctl(t, "list_queues", "-p", strings.TrimPrefix(url[strings.LastIndex(url, "/"):], "/"), "name"); strings.Contains(out, "send-") {
				t.Errorf("queues left behind:\n%s", out)
			}
		})
	}
}

func TestMeasureUntil(t *testing.T) {
	stop := make(chan struct{})
	var n atomic.Int64
	s := bench.MeasureUntil(context.Background(), "until", stop, func(context.Context) error {
		switch n.Add(1) {
		case 3:
			return errors.New("the third fails")
		case 10:
			close(stop) // the call that closes it still counts; none starts after it
		}
		return nil
	})
	if s.Calls != 10 || s.Errors != 1 || s.FirstErr == nil || s.Mode != "until" || s.Max < s.P50 {
		t.Errorf("%+v", s)
	}
}
