package apitest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Client sends HTTP requests to one base URL (http://host:port), each within Wait. It may
// be used from several goroutines.
type Client struct {
	Base string
	hc   *http.Client
}

// NewClient returns a client of base whose idle connections are closed at the end of the
// test.
func NewClient(t testing.TB, base string) *Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &Client{Base: base, hc: &http.Client{Transport: tr}}
}

// Answer is an HTTP answer read whole, or why there is none.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

// Do sends a request (a JSON body when body is not empty); header holds name, value
// pairs.
func (c *Client) Do(method, path, body string, header ...string) Answer {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return Answer{Err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Answer{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: b, Err: err}
}

// Post sends body to POST /api/exec_method.
func (c *Client) Post(body string) Answer { return c.Do(http.MethodPost, "/api/exec_method", body) }

// SameAsGolden checks status, content type and body against the captured answer name of
// the Python debug server, the random ids aside.
func SameAsGolden(t testing.TB, got Answer, name string) {
	t.Helper()
	if got.Err != nil {
		t.Fatalf("%s: %v", name, got.Err)
	}
	want := LoadGolden(t, name)
	if got.Status != want.Status || got.Header.Get("Content-Type") != want.Header.Get("Content-Type") {
		t.Errorf("%s: status %d, Content-Type %q; want %d, %q", name, got.Status, got.Header.Get("Content-Type"), want.Status, want.Header.Get("Content-Type"))
	}
	if g, w := Normalize(got.Body), Normalize(want.Body); g != w {
		t.Errorf("%s: body\n got %s\nwant %s", name, g, w)
	}
}
