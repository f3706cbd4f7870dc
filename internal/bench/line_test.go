package bench_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/bench"
)

func TestLine(t *testing.T) {
	got := bench.Line(bench.F("mode", "x\"y"), bench.F("n", 3), bench.F("r", bench.Num(2.34567, 2)),
		bench.F("ms", bench.Ms(1500*time.Microsecond)), bench.F("nan", bench.Num(math.NaN(), 1)), bench.F("list", []int{1, 2}))
	want := `{"mode": "x\"y", "n": 3, "r": 2.35, "ms": 1.5, "nan": null, "list": [1,2]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Error(err)
	}
}
