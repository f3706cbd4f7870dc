// Package console is the operator's view of a running AT_QUEUE deployment: the web console
// that atq registry serves beside the debug HTTP API, and the View of the registry's
// directory that both the console and `atq ls` show.
//
// Load reads a View through a running component (a Registry: *component.Handle): the Go
// registry's directory request (liveness, consumers, registration time) and inspect_all
// (the descriptions), asked at once; a registry that answers inspect_all but not the
// directory within DirectoryGrace is python -m at_queue, and the View says it knows no
// liveness.
//
// A Console adds its routes to an http mux (Register; *httpapi.API is one): the page and
// its script and style sheet (embedded; plain JavaScript, no build step, nothing fetched
// from elsewhere), the View as JSON, and a stream of server-sent events that carries the
// View whenever it changes. The page calls methods through the HTTP API's
// POST /api/exec_method and generates its forms from the JSON Schema of each method's
// inputs; its labels are in English and Russian.
//
// Goroutines: while at least one event stream is open, one goroutine asks the registry
// for the directory every poll period (WithPollEvery), and for inspect_all only when a
// component registered or left; the first stream starts it, the last to close stops it
// and waits for it. The streams end when their requests' contexts do (the client leaves,
// or the HTTP server shuts down), so stopping the server stops everything here.
package console
