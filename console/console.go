package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of the options.
const (
	DefaultPollEvery = time.Second
	DefaultTimeout   = 5 * time.Second
	// keepAlive is how often an idle event stream gets a comment line, so that proxies
	// and browsers keep the connection and a client that left is noticed.
	keepAlive = 15 * time.Second
)

// ErrInvalidOption marks an option New cannot work with.
var ErrInvalidOption = errors.New("invalid option")

// Option changes a Console.
type Option func(*options)

type options struct {
	pollEvery  time.Duration
	timeout    time.Duration
	callStream string
	log        *slog.Logger
}

// WithPollEvery sets how often the registry is asked for the directory while a page is
// open (default DefaultPollEvery). One request per period, whatever the number of pages.
func WithPollEvery(d time.Duration) Option { return func(o *options) { o.pollEvery = d } }

// WithTimeout bounds each query to the registry (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithCallStream tells the page that a stream of calls is served at path, relative to the
// page (e.g. "api/calls"): server-sent events, one JSON object per "call" event, which the
// page shows in its calls panel (hidden without it) with whichever of the fields at,
// from, to, method, ms and error it has. The Console does not serve that path.
func WithCallStream(path string) Option { return func(o *options) { o.callStream = path } }

// WithLogger logs the console's failures at warn level (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Console is the web console: the page, its assets, and the directory it shows, read from
// a Registry. Its methods are safe for concurrent use.
type Console struct {
	reg  Registry
	opts options
	feed *feed
}

// New returns the console of the registry r reads from.
func New(r Registry, opts ...Option) (*Console, error) {
	o := options{pollEvery: DefaultPollEvery, timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case r == nil:
		return nil, fmt.Errorf("%w: no registry to read from", ErrInvalidOption)
	case o.pollEvery <= 0:
		return nil, fmt.Errorf("%w: poll period %v is not positive", ErrInvalidOption, o.pollEvery)
	case o.timeout <= 0:
		return nil, fmt.Errorf("%w: timeout %v is not positive", ErrInvalidOption, o.timeout)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return &Console{reg: r, opts: o, feed: newFeed(r, o.pollEvery, o.timeout, o.log)}, nil
}

// Mux is where the console's routes are added; *httpapi.API and *http.ServeMux are ones.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Paths of the console's routes.
const (
	PathPage      = "/"
	PathAssets    = "/console/"
	PathInfo      = "/api/console"
	PathDirectory = "/api/directory"
	PathEvents    = "/api/events"
)

// Register adds the console's routes to m:
//
//	GET /               the page
//	GET /console/...    its script and style sheet
//	GET /api/console    {"streams": {"directory": "api/events", "calls": path or absent}}
//	GET /api/directory  the View, descriptions included (200), or 502 {"detail": "..."}
//	GET /api/events     server-sent events: "directory" with the View whenever it changes
//	                    (at once on connecting), "problem" {"error"} while the registry
//	                    does not answer
//
// The page calls methods through POST /api/exec_method of package httpapi.
func (c *Console) Register(m Mux) {
	m.Handle("GET /{$}", http.HandlerFunc(c.page))
	m.Handle("GET "+PathAssets+"{file...}", http.StripPrefix(PathAssets, http.FileServerFS(assetFS)))
	m.Handle("GET "+PathInfo, http.HandlerFunc(c.info))
	m.Handle("GET "+PathDirectory, http.HandlerFunc(c.directory))
	m.Handle("GET "+PathEvents, http.HandlerFunc(c.events))
}

//go:embed assets
var assets embed.FS

// assetFS is the assets folder as the root of the served files.
var assetFS = func() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}()

func (c *Console) page(w http.ResponseWriter, _ *http.Request) {
	b, err := fs.ReadFile(assetFS, "index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func (c *Console) info(w http.ResponseWriter, _ *http.Request) {
	streams := map[string]string{"directory": strings.TrimPrefix(PathEvents, "/")} // relative to the page
	if c.opts.callStream != "" {
		streams["calls"] = c.opts.callStream
	}
	writeJSON(w, http.StatusOK, map[string]any{"streams": streams})
}

func (c *Console) directory(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), c.opts.timeout)
	defer cancel()
	v, err := Load(ctx, c.reg, true)
	if err != nil {
		c.opts.log.Warn("console: reading the directory", "err", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"detail": "the registry does not answer: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// openEvents starts a server-sent events stream on w: the headers, status 200 and the
// client's reconnection delay, flushed. Without an http.Flusher it answers 500 and
// returns false.
func openEvents(w http.ResponseWriter) (http.Flusher, bool) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return nil, false
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	return fl, true
}

func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := openEvents(w)
	if !ok {
		return
	}

	ch := c.feed.subscribe()
	defer c.feed.unsubscribe(ch)
	t := time.NewTicker(keepAlive)
	defer t.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data)
		case <-t.C:
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err != nil {
			return
		}
		fl.Flush()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
