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
