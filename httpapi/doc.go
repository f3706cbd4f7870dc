// Package httpapi is the HTTP API of the debug server of `python -m at_queue` (spec §10),
// which AT-TECHNOLOGY front ends call, as an http.Handler that calls through a running
// component (the inspector, in `atq registry`):
//
//	GET  /api/components    200: the registry's inspect_all payload
//	POST /api/exec_method   {"component": str, "method": str, "kwargs": {...}, "auth_token": str|null}
//	                        200 {"result": ...}
//	                        500 {"detail": {ExternalMethodException}} when the answer has "errors"
//	                        422 {"detail": [{"loc", "msg", "type"}, ...]} for a bad body (pydantic v1's shape)
//	GET  /openapi.json      the OpenAPI document FastAPI serves for these two routes
//
// Bodies are written as FastAPI writes them: compact JSON, keys in the order received,
// non-ASCII characters as they are. The ExternalMethodException's error_message is
// "Got errors while executing external method C.m:\n\n" followed by the errors as
// json.dumps(errors, indent=4) writes them; its session and component are the calling
// component's, message_id is null and message is the whole answer payload. An auth_token
// other than null is sent as the AMQP header auth_token.
//
// Where Python waits forever, every call here has a deadline (WithCallTimeout). A call
// that gets no answer is answered with the same {"detail": {...}} shape, message null:
//
//	504  error_type "TimeoutException"          no answer within the call timeout
//	503  error_type "ShutdownException"         the server is shutting down
//	502  error_type "ExternalMethodException"   the call could not be made
//
// Other answers: 413 {"detail": "..."} for a body over the limit (WithMaxBody), 404
// {"detail":"Not Found"}, 405 {"detail":"Method Not Allowed"}, and 500
// {"detail":"Internal Server Error"} if a handler panics (the server keeps serving).
// Every answer to a request with an Origin header allows that origin with credentials;
// a CORS preflight is answered 200 "OK" allowing every method and the requested headers.
//
// More routes (a console, /metrics, server-sent events) are added with API.Handle, and the
// API can be mounted in another mux; atq registry adds the web console's (package console:
// GET /, /console/..., /api/console, /api/directory, /api/events), and the routes above
// answer exactly as before. Serve runs an http.Server for it on a listener and
// Shutdown stops it; the server's goroutines belong to the Server until Shutdown returns.
package httpapi
