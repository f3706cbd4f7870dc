package wire

// Headers is the AMQP header table of a message. Brokers forward it unchanged; the only
// header the protocol reads is "auth_token", whose value may be nil (AMQP void) for
// "no token".
type Headers map[string]any

// AuthTokenHeader is the header that carries a caller's token.
const AuthTokenHeader = "auth_token"

// InstanceHeader is the header in which a Go component names its process instance (a
// random id per run) with register and unregister: a header, so that the register body
// stays what Python sends. The registry refuses a registration of a live component's name
// from another instance, and removes a registration only for its own instance.
const InstanceHeader = "atq_instance"

// ReplyHeader, set to ReplyOnSession by a Go component in its register request, says
// that it already consumes recieve-<uuid3 of its name> and wants the answer there rather
// than on the registry's shared queue, where registrants meet (spec quirk 5). The Go
// registry does so; python -m at_queue ignores the header and answers on the shared queue.
const (
	ReplyHeader    = "atq_reply"
	ReplyOnSession = "session"
)

// DirectHeader, on a request a Go caller publishes straight to a Go receiver's
// recieve- queue, holds the caller's session id: the receiver publishes the answer on
// recieve-<that session> instead of its own send- queue (two queue hops instead of four).
// Python peers never see it: calls to and from them take the registry's route.
const DirectHeader = "atq_direct"

// DirectSession is the caller's session a request's DirectHeader names, if it has a
// well-formed one.
func (h Headers) DirectSession() (string, bool) {
	v, ok := h[DirectHeader].(string)
	if !ok || !isUUID(v) {
		return "", false
	}
	return v, true
}

// isUUID reports whether s has the canonical 8-4-4-4-12 hexadecimal form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// RegistryHeader is set ("go") by the Go registry on its registration answers, so that a
// Go component knows it may wait for the answers to its Go extensions (unregister,
// directory); a Python registry never answers them.
const RegistryHeader = "atq_registry"

// AuthToken returns the auth_token header as a string; ok is false when it is absent,
// void or not a string.
func (h Headers) AuthToken() (token string, ok bool) {
	switch v := h[AuthTokenHeader].(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	default:
		return "", false
	}
}

// WithAuthToken returns headers carrying token, or nil when token is empty.
func WithAuthToken(token string) Headers {
	if token == "" {
		return nil
	}
	return Headers{AuthTokenHeader: token}
}
