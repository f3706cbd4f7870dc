package golden_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/at-technology/atqueue/wire"
)

// Every captured publish (both traffic files) decodes with wire.Decode, and writing the
// decoded envelope again gives the captured bytes. (The single *.json files are covered
// by wire/wire_test.go.)
func TestTrafficRoundTrip(t *testing.T) {
	g := loadGolden(t)
	for _, set := range []struct {
		file string
		pubs []*publish
	}{{"traffic_full.jsonl", g.traffic}, {"traffic_headers_probe.jsonl", g.headers}} {
		t.Run(set.file, func(t *testing.T) {
			if len(set.pubs) == 0 {
				t.Fatal("no publishes")
			}
			for _, p := range set.pubs {
				t.Run(fmt.Sprintf("seq%03d", p.Seq), func(t *testing.T) {
					env, err := wire.Decode(p.body(), 0)
					if err != nil {
						t.Fatalf("decode: %v", err)
					}
					out, err := env.Marshal()
					if err != nil {
						t.Fatalf("marshal: %v", err)
					}
					if !bytes.Equal(out, p.body()) {
						t.Fatalf("byte form differs\n got %s\nwant %s", out, p.body())
					}
				})
			}
		})
	}
}

// The golden files are the bodies of traffic_full.jsonl at the seq index.json gives, and
// a broker forwards bodies unchanged (hop 2 == hop 1, hop 4 == hop 3). This checks the
// data the other tests rely on.
func TestGoldenFilesMatchTraffic(t *testing.T) {
	g := loadGolden(t)
	for name, e := range g.index {
		p := g.seq(t, e.Seq)
		if got := g.file(t, name); !bytes.Equal(got, p.body()) {
			t.Errorf("%s differs from traffic_full.jsonl seq %d", name, e.Seq)
		}
		if p.queue() != e.Queue || !headersEqual(p.Headers, e.Headers) {
			t.Errorf("%s: index.json says %s %s, traffic says %s %s", name, e.Queue, showHeaders(e.Headers), p.queue(), showHeaders(p.Headers))
		}
	}
	var unanswered []string
	for _, pc := range g.cases {
		if pc.NoAnswer {
			unanswered = append(unanswered, pc.Name)
		}
	}
	slices.Sort(unanswered)
	listed := slices.Sorted(slices.Values(g.noAnswer))
	if !slices.Equal(unanswered, listed) {
		t.Errorf("probe_cases.json leaves %v unanswered, index.json _no_answer_cases lists %v", unanswered, listed)
	}
	for _, pair := range [][2]string{{"exec_request.json", "exec_request_forwarded.json"}, {"exec_result.json", "exec_result_forwarded.json"}} {
		if !bytes.Equal(g.file(t, pair[0]), g.file(t, pair[1])) {
			t.Errorf("%s and %s differ: Python forwards bodies unchanged", pair[0], pair[1])
		}
	}
	// Every hop-2 publish in the captured traffic repeats a hop-1 publish byte for byte,
	// headers included.
	for _, set := range [][]*publish{g.traffic, g.headers} {
		for i, p := range set {
			if i == 0 {
				continue
			}
			prev := set[i-1]
			if prev.env.MessageID == p.env.MessageID && prev.queue() != p.queue() {
				if !bytes.Equal(prev.body(), p.body()) || !headersEqual(prev.Headers, p.Headers) {
					t.Errorf("seq %d does not repeat seq %d", p.Seq, prev.Seq)
				}
			}
		}
	}
}
