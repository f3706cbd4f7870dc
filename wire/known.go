package wire

// known returns the constant for the keys and type names of the protocol, so that
// reading them allocates nothing; ok is false for any other text.
func known(b []byte) (string, bool) {
	switch string(b) { // compiled to comparisons: no conversion is made
	case "sender":
		return "sender", true
	case "reciever":
		return "reciever", true
	case "message":
		return "message", true
	case "message_id":
		return "message_id", true
	case "answer_to":
		return "answer_to", true
	case "type":
		return "type", true
	case "method":
		return "method", true
	case "args":
		return "args", true
	case "config":
		return "config", true
	case "result":
		return "result", true
	case "errors":
		return "errors", true
	case "component":
		return "component", true
	case "session":
		return "session", true
	case "error_message":
		return "error_message", true
	case "error_type":
		return "error_type", true
	case "argument":
		return "argument", true
	case TypeExecMethod:
		return TypeExecMethod, true
	case TypeMethodResult:
		return TypeMethodResult, true
	case TypePing:
		return TypePing, true
	case TypeCheckConfigured:
		return TypeCheckConfigured, true
	case TypeConfigurate:
		return TypeConfigurate, true
	case TypeRegister:
		return TypeRegister, true
	case TypeCheckRegistered:
		return TypeCheckRegistered, true
	}
	return "", false
}
