package httpapi

import "net/http"

// allowedMethods is what Starlette's CORSMiddleware answers for allow_methods=["*"].
const allowedMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"

// preflightMaxAge is Starlette's default, in seconds.
const preflightMaxAge = "600"

// cors lets a page from any origin call the API with credentials, as python -m at_queue's
// CORSMiddleware(allow_origins=["*"], allow_credentials=True, allow_methods=["*"],
// allow_headers=["*"]) does. The origin is always mirrored rather than answered "*",
// which browsers refuse for requests with credentials; a preflight (OPTIONS with
// Access-Control-Request-Method) is answered 200 "OK" and goes no further.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", origin)
		hd.Set("Access-Control-Allow-Credentials", "true")
		hd.Add("Vary", "Origin")
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			h.ServeHTTP(w, r)
			return
		}
		hd.Set("Access-Control-Allow-Methods", allowedMethods)
		hd.Set("Access-Control-Max-Age", preflightMaxAge)
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			hd.Set("Access-Control-Allow-Headers", req)
		}
		hd.Set("Content-Type", "text/plain; charset=utf-8")
		hd.Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("OK"))
	})
}
