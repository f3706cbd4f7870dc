package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/httpapi"
	"github.com/at-technology/atqueue/internal/testkit/apitest"
)

// The answers of python -m at_queue's debug server, byte for byte but for random ids.
func TestGoldenAnswers(t *testing.T) {
	t.Parallel()
	r := newRig(t)

	t.Run("components", func(t *testing.T) {
		got := r.do(http.MethodGet, "/api/components", "")
		apitest.SameAsGolden(t, got, "get_components")
		if !bytes.Contains(got.Body, []byte(`{"`+r.inspector.Name()+`":{"broker":{"session_id":"`+r.inspector.SessionID()+`"}`)) {
			t.Errorf("the inspector %s is not the first entry: %s", r.inspector.Name(), got.Body)
		}
	})
	t.Run("ok", func(t *testing.T) {
		apitest.SameAsGolden(t, r.post(`{"component": "IntSummator", "method": "int_sum", "kwargs": {"a": 5, "b": 18}}`), "post_exec_method_ok")
	})
	t.Run("validation error", func(t *testing.T) {
		apitest.SameAsGolden(t, r.post(`{"component": "IntSummator", "method": "int_sum", "kwargs": {"a": 5, "b": "b"}}`), "post_exec_method_validation_error")
	})
	t.Run("unknown component", func(t *testing.T) {
		apitest.SameAsGolden(t, r.post(`{"component": "NoSuchComponent", "method": "int_sum", "kwargs": {"a": 5, "b": 18}}`), "post_exec_method_unknown_component")
	})
	t.Run("bad body", func(t *testing.T) {
		apitest.SameAsGolden(t, r.post(`{"component": "IntSummator"}`), "post_exec_method_bad_body")
	})
	t.Run("openapi", func(t *testing.T) {
		apitest.SameAsGolden(t, r.do(http.MethodGet, "/openapi.json", ""), "openapi.json")
	})
	t.Run("auth token", func(t *testing.T) {
		r.spawn(apitest.Guard())
		apitest.SameAsGolden(t, r.post(`{"component": "Guard", "method": "add", "kwargs": {"a": 1, "b": 2}, "auth_token": "tok"}`), "post_exec_method_with_auth_token")
		// The token reaches the method as the AMQP header auth_token.
		got := r.post(`{"component": "Guard", "method": "whoami", "kwargs": {}, "auth_token": "tëst-42"}`)
		if got.Status != http.StatusOK || string(got.Body) != `{"result":"tëst-42"}` {
			t.Errorf("whoami: %d %s", got.Status, got.Body)
		}
		// Without a token an authorized method refuses: nothing is sent.
		got = r.post(`{"component": "Guard", "method": "add", "kwargs": {"a": 1, "b": 2}, "auth_token": null}`)
		if got.Status != http.StatusInternalServerError || !bytes.Contains(got.Body, []byte(`"error_type":"NotAuthorizedMethodException"`)) {
			t.Errorf("without a token: %d %s", got.Status, got.Body)
		}
	})
	t.Run("components list every registration", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		raw, err := r.inspector.InspectAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := r.do(http.MethodGet, "/api/components", "")
		if !jsonEqual(t, got.Body, raw) {
			t.Errorf("GET /api/components\n got %s\nwant %s", got.Body, raw)
		}
		for _, name := range []string{r.inspector.Name(), "IntSummator", "Guard"} {
			if !bytes.Contains(got.Body, []byte(`"`+name+`":{"broker"`)) {
				t.Errorf("%s is missing: %s", name, got.Body)
			}
		}
	})
}

// jsonEqual compares two JSON texts as values, keys in order.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var ca, cb bytes.Buffer
	if err := json.Compact(&ca, a); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Compact(&cb, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return ca.String() == cb.String()
}

// Bodies FastAPI refuses get its 422 shape; the rest of what pydantic v1 accepts is
// accepted; nothing crashes the server.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	r := newRig(t, httpapi.WithMaxBody(1024))
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   string
		status int
		want   string // the body, or a part of it ending in "…"
	}{
		{"not JSON", "POST", "/api/exec_method", `{"component": nope}`, 422,
			`{"detail":[{"loc":["body",15],"msg":"Invalid character 'o' in literal null (expecting 'u'): line 1 column 16 (char 15)","type":"value_error.jsondecode"}]}`},
		{"truncated JSON", "POST", "/api/exec_method", `{"component": `, 422,
			`{"detail":[{"loc":["body",14],"msg":"Unexpected end of JSON input: line 1 column 15 (char 14)","type":"value_error.jsondecode"}]}`},
		{"empty body", "POST", "/api/exec_method", ``, 422,
			`{"detail":[{"loc":["body"],"msg":"field required","type":"value_error.missing"}]}`},
		{"array", "POST", "/api/exec_method", `[1, 2]`, 422,
			`{"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}`},
		{"wrong types", "POST", "/api/exec_method", `{"component": {}, "method": null, "kwargs": [1], "auth_token": ["x"]}`, 422,
			`{"detail":[{"loc":["body","component"],"msg":"str type expected","type":"type_error.str"},` +
				`{"loc":["body","method"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"},` +
				`{"loc":["body","kwargs"],"msg":"value is not a valid dict","type":"type_error.dict"},` +
				`{"loc":["body","auth_token"],"msg":"str type expected","type":"type_error.str"}]}`},
		{"kwargs null", "POST", "/api/exec_method", `{"component": "IntSummator", "method": "int_sum", "kwargs": null}`, 422,
			`{"detail":[{"loc":["body","kwargs"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}`},
		{"a number for a string is text, as pydantic v1 makes it", "POST", "/api/exec_method", `{"component": 5, "method": true, "kwargs": {}}`, 500,
			`{"detail":{"error_message":"Got errors while executing external method 5.True:\n\n[\n    \"Component \\\"5\\\" is not registered yet\"\n]",…`},
		{"unknown fields are ignored", "POST", "/api/exec_method", `{"component": "IntSummator", "method": "int_sum", "kwargs": {"a": 1, "b": 2}, "extra": [1]}`, 200,
			`{"result":3}`},
		{"unknown method", "POST", "/api/exec_method", `{"component": "IntSummator", "method": "nope", "kwargs": {}}`, 500,
			`{"detail":{"error_message":"Got errors while executing external method IntSummator.nope:\n\n[\n    {\n        \"error_message\": \"Component \\\"IntSummator\\\" received execute method message with id …`},
		{"too large", "POST", "/api/exec_method", `{"component": "` + strings.Repeat("x", 2000) + `", "method": "m", "kwargs": {}}`, 413,
			`{"detail":"Request body too large: the limit is 1024 bytes"}`},
		{"GET exec_method", "GET", "/api/exec_method", ``, 405, `{"detail":"Method Not Allowed"}`},
		{"POST components", "POST", "/api/components", `{}`, 405, `{"detail":"Method Not Allowed"}`},
		{"unknown path", "GET", "/api/nothing", ``, 404, `{"detail":"Not Found"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.do(tc.method, tc.path, tc.body)
			if got.Status != tc.status {
				t.Errorf("status %d, want %d: %s", got.Status, tc.status, got.Body)
			}
			if ct := got.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if prefix, ok := strings.CutSuffix(tc.want, "…"); ok {
				if !strings.HasPrefix(string(got.Body), prefix) {
					t.Errorf("body\n got %s\nwant %s…", got.Body, prefix)
				}
			} else if string(got.Body) != tc.want {
				t.Errorf("body\n got %s\nwant %s", got.Body, tc.want)
			}
			if !json.Valid(got.Body) {
				t.Errorf("not JSON: %s", got.Body)
			}
		})
	}
	// Still serving.
	if got := r.post(`{"component": "IntSummator", "method": "int_sum", "kwargs": {"a": 5, "b": 18}}`); string(got.Body) != `{"result":23}` {
		t.Errorf("after the bad requests: %d %s", got.Status, got.Body)
	}
}

// Any origin may call the API with credentials, as FastAPI's CORSMiddleware allows.
func TestCORS(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	const origin = "http://front.example:3000"
	pre := r.do(http.MethodOptions, "/api/exec_method", "",
		"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-custom")
	if pre.Status != http.StatusOK || string(pre.Body) != "OK" {
		t.Errorf("preflight: %d %q", pre.Status, pre.Body)
	}
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
		"Access-Control-Allow-Headers":     "content-type,x-custom",
		"Access-Control-Max-Age":           "600",
		"Vary":                             "Origin",
	} {
		if got := pre.Header.Get(name); got != want {
			t.Errorf("preflight %s: %q, want %q", name, got, want)
		}
	}
	for _, path := range []string{"/api/components", "/api/nothing"} {
		got := r.do(http.MethodGet, path, "", "Origin", origin)
		if got.Header.Get("Access-Control-Allow-Origin") != origin || got.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("GET %s with an Origin: %v", path, got.Header)
		}
	}
	plain := r.do(http.MethodGet, "/api/components", "")
	if v := plain.Header.Get("Access-Control-Allow-Origin"); v != "" || plain.Status != http.StatusOK {
		t.Errorf("without an Origin: %d, Access-Control-Allow-Origin %q", plain.Status, v)
	}
}

// A call that gets no answer ends at the call timeout with 504 (Python waits forever).
func TestCallTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	r := newRig(t, httpapi.WithCallTimeout(timeout))
	r.spawn(apitest.Silent(nil))
	begin := time.Now()
	got := r.post(`{"component": "Mute", "method": "hang", "kwargs": {}}`)
	took := time.Since(begin)
	if got.Status != http.StatusGatewayTimeout {
		t.Fatalf("status %d: %s", got.Status, got.Body)
	}
	if took < timeout {
		t.Errorf("answered after %v, before the call timeout %v", took, timeout)
	}
	want := `{"detail":{"error_message":"No answer from Mute to method hang within 500ms","error_type":"TimeoutException","session":"` +
		r.inspector.SessionID() + `","component":"` + r.inspector.Name() + `","message_id":null,"message":null}}`
	if string(got.Body) != want {
		t.Errorf("body\n got %s\nwant %s", got.Body, want)
	}
}

// Shutdown answers the calls in flight 503 at once instead of waiting for their deadline.
func TestShutdownAbandonsCalls(t *testing.T) {
	t.Parallel()
	r := newRig(t, httpapi.WithCallTimeout(time.Minute))
	started := make(chan struct{})
	r.spawn(apitest.Silent(started))
	got := make(chan apitest.Answer, 1)
	go func() { got <- r.c.Post(`{"component": "Mute", "method": "hang", "kwargs": {}}`) }()
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the call did not reach Mute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case a := <-got:
		if a.Status != http.StatusServiceUnavailable || !bytes.Contains(a.Body, []byte(`"error_type":"ShutdownException"`)) {
			t.Errorf("the call in flight got %d %s %v", a.Status, a.Body, a.Err)
		}
	case <-time.After(wait):
		t.Fatal("the call in flight got no answer")
	}
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Errorf("a second Shutdown: %v", err)
	}
}

// Routes added with Handle get the CORS headers and panic recovery of the API.
func TestHandleExtends(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	api, err := httpapi.New(r.inspector)
	if err != nil {
		t.Fatal(err)
	}
	api.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("atq_up 1\n"))
	}))
	api.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(errors.New("boom")) }))
	r.serve(api)
	if got := r.do(http.MethodGet, "/metrics", "", "Origin", "http://x"); got.Status != 200 || string(got.Body) != "atq_up 1\n" || got.Header.Get("Access-Control-Allow-Origin") != "http://x" {
		t.Errorf("/metrics: %d %q %v", got.Status, got.Body, got.Header)
	}
	if got := r.do(http.MethodGet, "/boom", ""); got.Status != 500 || string(got.Body) != `{"detail":"Internal Server Error"}` {
		t.Errorf("/boom: %d %s", got.Status, got.Body)
	}
	if got := r.do(http.MethodGet, "/api/components", ""); got.Status != 200 {
		t.Errorf("after a panic: %d %s", got.Status, got.Body)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, opts := range map[string][]httpapi.Option{
		"zero call timeout": {httpapi.WithCallTimeout(0)},
		"negative body":     {httpapi.WithMaxBody(-1)},
	} {
		if _, err := httpapi.New(nopCaller{}, opts...); !errors.Is(err, httpapi.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
	if _, err := httpapi.New(nil); !errors.Is(err, httpapi.ErrInvalidOption) {
		t.Errorf("no caller: %v, want ErrInvalidOption", err)
	}
}
