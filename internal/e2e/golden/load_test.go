package golden_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/at-technology/atqueue/internal/testkit/golden"
	"github.com/at-technology/atqueue/wire"
)

// Sessions of the captured run (uuid3(NAMESPACE_OID, name), spec §3).
const (
	inspectorName = "inspector-b0c50998-6224-439d-b35a-07a35d4d8814"
	summatorName  = "IntSummator"
	requesterName = "SumRequester"
	probeName     = "ProbeTarget"
	hdrTesterName = "HdrTester"
)

// publish is one line of traffic_full.jsonl or traffic_headers_probe.jsonl: one message
// as the firehose saw it.
type publish struct {
	Seq      int            `json:"seq"`
	Keys     []string       `json:"routing_keys"`
	Headers  map[string]any `json:"amqp_headers"`
	BodyText string         `json:"body_text"`

	env wire.Envelope
}

func (p *publish) queue() string { return p.Keys[0] }

func (p *publish) body() []byte { return []byte(p.BodyText) }

func (p *publish) headers() wire.Headers {
	if len(p.Headers) == 0 {
		return nil
	}
	return wire.Headers(p.Headers)
}

type indexEntry struct {
	Seq     int            `json:"seq"`
	Queue   string         `json:"queue"`
	Headers map[string]any `json:"amqp_headers"`
	Note    string         `json:"note"`
}

// probeCase is one entry of probe_cases.json with the captured request and answer
// bodies found in traffic_full.jsonl.
type probeCase struct {
	Name     string
	Direct   bool // published straight onto the registry's own queue
	NoAnswer bool // Python sent no answer
	Answer   json.RawMessage

	request *publish
	answer  *publish // nil when NoAnswer
	reqFile string   // golden file of the request, "" if there is none
	ansFile string   // golden file of the answer, "" if there is none
}

type goldenSet struct {
	dir     string
	traffic []*publish
	headers []*publish
	index   map[string]indexEntry
	bySeq   map[int]string // seq in traffic_full.jsonl → golden file
	// noAnswer lists the probe cases Python never answers (index.json _no_answer_cases).
	noAnswer []string
	cases    []*probeCase
}

var (
	loadOnce sync.Once
	loaded   *goldenSet
	loadErr  error
)

// loadGolden reads the golden folder once per test binary.
func loadGolden(t testing.TB) *goldenSet {
	t.Helper()
	dir := golden.Dir(t)
	loadOnce.Do(func() { loaded, loadErr = readGolden(dir) })
	if loadErr != nil {
		t.Fatalf("reading the golden folder %s: %v", dir, loadErr)
	}
	return loaded
}

func readGolden(dir string) (*goldenSet, error) {
	g := &goldenSet{dir: dir, bySeq: map[int]string{}}
	var err error
	if g.traffic, err = readTraffic(filepath.Join(dir, "traffic_full.jsonl")); err != nil {
		return nil, err
	}
	if g.headers, err = readTraffic(filepath.Join(dir, "traffic_headers_probe.jsonl")); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	var index map[string]json.RawMessage
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("index.json: %v", err)
	}
	g.index = map[string]indexEntry{}
	for f, v := range index {
		if strings.HasPrefix(f, "_") {
			// Annotations such as _no_answer_cases.
			if f == "_no_answer_cases" {
				if err := json.Unmarshal(v, &g.noAnswer); err != nil {
					return nil, fmt.Errorf("index.json %s: %v", f, err)
				}
			}
			continue
		}
		var e indexEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("index.json %s: %v", f, err)
		}
		g.index[f] = e
		g.bySeq[e.Seq] = f
	}
	if g.cases, err = g.readCases(filepath.Join(dir, "probe_cases.json")); err != nil {
		return nil, err
	}
	return g, nil
}

func readTraffic(path string) ([]*publish, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*publish
	for i, line := range bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n")) {
		p := &publish{}
		if err := json.Unmarshal(line, p); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", filepath.Base(path), i+1, err)
		}
		if len(p.Keys) != 1 {
			return nil, fmt.Errorf("%s seq %d: %d routing keys", filepath.Base(path), p.Seq, len(p.Keys))
		}
		if p.env, err = wire.Decode(p.body(), 0); err != nil {
			return nil, fmt.Errorf("%s seq %d: %v", filepath.Base(path), p.Seq, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// readCases reads probe_cases.json in file order and pairs every case with its captured
// request (the n-th matching publish on the inspector's send queue, or the publish with
// the same message_id on the registry's send queue) and answer (the publish on the asking
// party's recieve queue whose answer_to is the request's id).
func (g *goldenSet) readCases(path string) ([]*probeCase, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	names, err := objectKeys(raw)
	if err != nil {
		return nil, fmt.Errorf("probe_cases.json: %v", err)
	}
	var all map[string]struct {
		Request struct {
			Reciever string          `json:"reciever"`
			Message  json.RawMessage `json:"message"`
			Headers  map[string]any  `json:"headers"`
			Queue    string          `json:"queue"`
			Body     json.RawMessage `json:"body"`
		} `json:"request"`
		Answer         json.RawMessage `json:"answer"`
		AnswerEnvelope json.RawMessage `json:"answer_envelope"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("probe_cases.json: %v", err)
	}
	inspectorSend := wire.SendQueue(wire.SessionID(inspectorName))
	used := map[int]bool{}
	var out []*probeCase
	for _, name := range names {
		c := all[name]
		pc := &probeCase{Name: name, Direct: c.Request.Queue != ""}
		pc.Answer = c.Answer
		if pc.Direct {
			pc.Answer = c.AnswerEnvelope
		}
		var noAns struct {
			S *float64 `json:"__no_answer_within_s"`
		}
		_ = json.Unmarshal(pc.Answer, &noAns)
		pc.NoAnswer = noAns.S != nil
		for _, p := range g.traffic {
			if used[p.Seq] {
				continue
			}
			if pc.Direct {
				var b struct {
					ID string `json:"message_id"`
				}
				_ = json.Unmarshal(c.Request.Body, &b)
				if p.queue() == c.Request.Queue && p.env.MessageID == b.ID {
					pc.request = p
				}
			} else if p.queue() == inspectorSend && p.env.Reciever == c.Request.Reciever &&
				jsonEqual(p.env.Message, c.Request.Message) && headersEqual(p.headers(), c.Request.Headers) {
				pc.request = p
			}
			if pc.request != nil {
				used[p.Seq] = true
				break
			}
		}
		if pc.request == nil {
			return nil, fmt.Errorf("probe case %s: its request is not in traffic_full.jsonl", name)
		}
		reply := wire.RecieveQueue(wire.SessionID(pc.request.env.Sender))
		if pc.Direct {
			reply = wire.RecieveQueue(wire.RegistrySession)
		}
		for _, p := range g.traffic {
			if p.queue() == reply && p.env.AnswerTo == pc.request.env.MessageID {
				pc.answer = p
				break
			}
		}
		switch {
		case pc.NoAnswer && pc.answer != nil:
			return nil, fmt.Errorf("probe case %s: marked as unanswered, but seq %d answers it", name, pc.answer.Seq)
		case !pc.NoAnswer && pc.answer == nil:
			return nil, fmt.Errorf("probe case %s: its answer is not in traffic_full.jsonl", name)
		case !pc.NoAnswer:
			want := pc.Answer
			got := pc.answer.env.Message
			if pc.Direct {
				got = json.RawMessage(pc.answer.BodyText)
			}
			if !jsonEqual(got, want) {
				return nil, fmt.Errorf("probe case %s: probe_cases.json and seq %d disagree", name, pc.answer.Seq)
			}
			pc.ansFile = g.bySeq[pc.answer.Seq]
		}
		pc.reqFile = g.bySeq[pc.request.Seq]
		out = append(out, pc)
	}
	return out, nil
}

// file reads a golden message file without its trailing newline.
func (g *goldenSet) file(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.dir, name))
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	return bytes.TrimRight(b, "\n")
}

// seq returns the publish of traffic_full.jsonl with that seq.
func (g *goldenSet) seq(t testing.TB, n int) *publish {
	t.Helper()
	for _, p := range g.traffic {
		if p.Seq == n {
			return p
		}
	}
	t.Fatalf("traffic_full.jsonl has no seq %d", n)
	return nil
}

// hdrSeq returns the publish of traffic_headers_probe.jsonl with that seq.
func (g *goldenSet) hdrSeq(t testing.TB, n int) *publish {
	t.Helper()
	for _, p := range g.headers {
		if p.Seq == n {
			return p
		}
	}
	t.Fatalf("traffic_headers_probe.jsonl has no seq %d", n)
	return nil
}

// objectKeys lists the top-level keys of a JSON object in file order.
func objectKeys(raw []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// headersEqual compares header tables; absent and empty are the same.
func headersEqual(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func showHeaders(h map[string]any) string {
	if len(h) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %#v", k, h[k])
	}
	b.WriteString("}")
	return b.String()
}

// uuid4RE matches a canonical uuid4 string.
var uuid4RE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

// normalize replaces the answer's own message_id (a fresh uuid4 on both sides, the only id
// the answerer invents) by a placeholder. Every other id in an answer comes from the
// request, which the tests publish verbatim, so it must match as it is.
func normalize(t testing.TB, body []byte) []byte {
	t.Helper()
	env, err := wire.Decode(body, 0)
	if err != nil {
		t.Fatalf("answer does not decode: %v\n%s", err, body)
	}
	if !uuid4RE.MatchString(env.MessageID) || len(env.MessageID) != 36 {
		t.Errorf("message_id %q is not a canonical uuid4 string", env.MessageID)
		return body
	}
	return bytes.ReplaceAll(body, []byte(env.MessageID), []byte("<answer message_id>"))
}
