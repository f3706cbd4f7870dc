package wire

import "github.com/google/uuid"

// RegistryName is the reserved receiver name of the registry services.
const RegistryName = "registry"

// RegistrySession is uuid3(NAMESPACE_OID, "at_registry"): the fixed session of the registry,
// on whose queues every component registers.
const RegistrySession = "953352fc-f4e1-3f2b-adbb-1a3dc739d8cf"

// SessionID derives a component's session id the way the Python registry does:
// uuid3(NAMESPACE_OID, name) over the UTF-8 bytes of name, in canonical lowercase form.
func SessionID(name string) string {
	return uuid.NewMD5(uuid.NameSpaceOID, []byte(name)).String()
}

// SendQueue is the queue a party's component side publishes to (the registry consumes it).
func SendQueue(sid string) string { return "send-" + sid }

// RecieveQueue (sic, wire spelling) is the queue a party's component side consumes.
func RecieveQueue(sid string) string { return "recieve-" + sid }

// NewID returns a fresh uuid4 string, used as message_id for every message.
func NewID() string { return uuid.NewString() }
