package wire

// Headers is the AMQP header table of a message. Brokers forward it unchanged; the only
// header the protocol reads is "auth_token", whose value may be nil (AMQP void) for
// "no token".
type Headers map[string]any

// AuthTokenHeader is the header that carries a caller's token.
const AuthTokenHeader = "auth_token"

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
