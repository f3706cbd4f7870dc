package httpapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/wire"
)

// Caller is the running component the API calls through; *component.Handle is one.
type Caller interface {
	Name() string
	SessionID() string
	Request(ctx context.Context, receiver string, message any, opts ...component.CallOption) (component.Reply, error)
}

// Defaults of the options.
const (
	DefaultCallTimeout = 30 * time.Second
	DefaultMaxBody     = wire.DefaultMaxBody
)

// Option changes an API.
type Option func(*options)

type options struct {
	callTimeout time.Duration
	maxBody     int64
	log         *slog.Logger
}

// WithCallTimeout bounds each call the API makes (default DefaultCallTimeout); a call
// without an answer by then is answered 504 (see the package comment).
func WithCallTimeout(d time.Duration) Option { return func(o *options) { o.callTimeout = d } }

// WithMaxBody limits a request body to n bytes (default DefaultMaxBody); a larger one is
// answered 413.
func WithMaxBody(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithLogger logs each request at debug level and failures at warn (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// API is the HTTP API of python -m at_queue's debug server as an http.Handler. Its
// methods are safe for concurrent use.
type API struct {
	c    Caller
	opts options
	mux  *http.ServeMux
	h    http.Handler
}

// New returns the API calling through c, a registered component.
func New(c Caller, opts ...Option) (*API, error) {
	o := options{callTimeout: DefaultCallTimeout, maxBody: DefaultMaxBody}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case c == nil:
		return nil, fmt.Errorf("%w: no component to call through", ErrInvalidOption)
	case o.callTimeout <= 0:
		return nil, fmt.Errorf("%w: call timeout %v is not positive", ErrInvalidOption, o.callTimeout)
	case o.maxBody <= 0:
		return nil, fmt.Errorf("%w: body limit %d is not positive", ErrInvalidOption, o.maxBody)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	a := &API{c: c, opts: o, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /api/components", a.components)
	a.mux.HandleFunc("/api/components", methodNotAllowed("GET, HEAD"))
	a.mux.HandleFunc("POST /api/exec_method", a.execMethod)
	a.mux.HandleFunc("/api/exec_method", methodNotAllowed("POST"))
	a.mux.HandleFunc("GET /openapi.json", openAPI)
	a.mux.HandleFunc("/{path...}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, []byte(`{"detail":"Not Found"}`))
	})
	a.h = cors(recovered(o.log, a.mux))
	return a, nil
}

// Handle adds a route to the API (a pattern of http.ServeMux, e.g. "GET /metrics"); the
// API's CORS headers and panic recovery apply to it. It panics, as ServeMux.Handle does,
// when the pattern conflicts with one registered before.
func (a *API) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// components answers GET /api/components with the registry's inspect_all payload.
func (a *API) components(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.callTimeout)
	defer cancel()
	rep, err := a.c.Request(ctx, wire.RegistryName, wire.Object{{Key: "type", Value: wire.TypeInspectAll}})
	if err != nil {
		a.failed(w, r, "the registry", "inspect_all", err)
		return
	}
	var b bytes.Buffer
	if err := fastAPI.encode(&b, rep.Raw); err != nil {
		a.failed(w, r, "the registry", "inspect_all", err)
		return
	}
	writeJSON(w, http.StatusOK, b.Bytes())
}

// failed answers a call that got no answer: 504 after the deadline, 503 when the request
// was cancelled (the server is shutting down, or the component stopped), 502 otherwise.
func (a *API) failed(w http.ResponseWriter, r *http.Request, target, what string, err error) {
	status, typ, text := http.StatusBadGateway, ExternalMethodException, fmt.Sprintf("Could not execute %s of %s: %v", what, target, err)
	switch {
	case errors.Is(err, component.ErrTimeout):
		status, typ = http.StatusGatewayTimeout, TimeoutException
		text = fmt.Sprintf("No answer from %s to %s within %v", target, what, a.opts.callTimeout)
	case errors.Is(err, context.Canceled), errors.Is(err, component.ErrStopped):
		status, typ = http.StatusServiceUnavailable, ShutdownException
		text = fmt.Sprintf("The server is shutting down; %s of %s was abandoned", what, target)
	}
	a.opts.log.Warn("debug HTTP API call failed", "path", r.URL.Path, "target", target, "call", what, "status", status, "err", err)
	writeJSON(w, status, a.exception(text, typ, nil))
}

// exception is the body {"detail": {exception dict}} with the keys of an
// ExternalMethodException (spec §10) in Python's order; message is compact JSON or nil.
func (a *API) exception(text, typ string, message []byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"detail":{"error_message":`)
	b.WriteString(wire.PyString(text))
	b.WriteString(`,"error_type":`)
	b.WriteString(wire.PyString(typ))
	b.WriteString(`,"session":`)
	b.WriteString(wire.PyString(a.c.SessionID()))
	b.WriteString(`,"component":`)
	b.WriteString(wire.PyString(a.c.Name()))
	b.WriteString(`,"message_id":null,"message":`)
	if message == nil {
		message = []byte("null")
	}
	b.Write(message)
	b.WriteString(`}}`)
	return b.Bytes()
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, []byte(`{"detail":"Method Not Allowed"}`))
	}
}

// openAPIDoc is the OpenAPI document python -m at_queue serves (FastAPI's), so that tools
// that read it see the same two routes.
//
//go:embed openapi.json
var openAPIDoc []byte

func openAPI(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, openAPIDoc) }

// recovered answers 500 {"detail":"Internal Server Error"} for a handler that panics, as
// Starlette does, and logs the panic; the process keeps serving.
func recovered(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("debug HTTP API handler panicked", "path", r.URL.Path, "panic", v)
			writeJSON(w, http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`))
		}()
		h.ServeHTTP(w, r)
	})
}

// readBody reads at most limit bytes of r's body; ok is false when it has answered 413 or
// the body could not be read.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		detail, _ := json.Marshal(fmt.Sprintf("Request body too large: the limit is %d bytes", limit))
		writeJSON(w, http.StatusRequestEntityTooLarge, append(append([]byte(`{"detail":`), detail...), '}'))
		return nil, false
	case err != nil:
		// The client went away or sent a broken chunked body: nobody reads an answer.
		writeJSON(w, http.StatusBadRequest, []byte(`{"detail":"There was an error reading the body"}`))
		return nil, false
	}
	return body, true
}
