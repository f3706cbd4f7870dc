package apitest

import (
	"bufio"
	"bytes"
	"net/http"
	"regexp"
	"testing"

	"github.com/at-technology/atqueue/internal/testkit/golden"
)

// Golden is one captured HTTP answer of python -m at_queue's debug server.
type Golden struct {
	Status int
	Header http.Header
	Body   []byte
}

// LoadGolden reads testdata/golden/debug_http/<name>.http; it fails the test when it cannot.
func LoadGolden(t testing.TB, name string) Golden {
	t.Helper()
	path := "debug_http/" + name + ".http"
	raw := golden.Read(t, path)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("golden answer %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("golden answer %s: %v", path, err)
	}
	return Golden{Status: resp.StatusCode, Header: resp.Header, Body: body.Bytes()}
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// fixed are the session ids every run has (uuid3 of the name), kept by Normalize.
var fixed = map[string]bool{
	"3b77ae37-4633-3abc-8d5f-e38581de1aba": true, // IntSummator
}

// Normalize replaces the random UUIDs of body (inspector names and sessions, message
// ids) with <uuid>, so that two answers of different runs compare byte for byte.
func Normalize(body []byte) string {
	return uuidRE.ReplaceAllStringFunc(string(body), func(id string) string {
		if fixed[id] {
			return id
		}
		return "<uuid>"
	})
}
