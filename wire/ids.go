package wire

import (
	"crypto/rand"
	"strings"
	"sync"

	"github.com/google/uuid"
)

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
func SendQueue(sid string) string {
	if sid == RegistrySession {
		return registrySend
	}
	return sendPrefix + sid
}

// RecieveQueue (sic, wire spelling) is the queue a party's component side consumes.
func RecieveQueue(sid string) string {
	if sid == RegistrySession {
		return registryRecieve // asked for each delivery a component takes: no new string
	}
	return recievePrefix + sid
}

// NewID returns a fresh uuid4 string, used as message_id for every message. Its random
// bits come from crypto/rand, read for 32 ids at a time into buffers kept per processor
// (a sync.Pool), so that callers on every core do not queue for one.
func NewID() string {
	r := randomBits.Get().(*idBits)
	if r.next == len(r.random) {
		_, _ = rand.Read(r.random[:]) // never fails (crypto/rand crashes the program instead)
		r.next = 0
	}
	var u uuid.UUID
	r.next += copy(u[:], r.random[r.next:])
	randomBits.Put(r)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant RFC 4122
	return u.String()
}

// idBits holds random bits for NewID, which takes 16 bytes of them per id. A buffer is
// used by one caller at a time (it is out of the pool meanwhile).
type idBits struct {
	random [32 * 16]byte
	next   int
}

var randomBits = sync.Pool{New: func() any { return &idBits{next: 32 * 16} }}

const (
	sendPrefix      = "send-"
	recievePrefix   = "recieve-"
	registrySend    = sendPrefix + RegistrySession
	registryRecieve = recievePrefix + RegistrySession
)

// ParseQueue reads a session queue name: its session id, and whether it is the send side
// (send-<sid>) or the recieve side (recieve-<sid>). ok is false for any other name.
func ParseQueue(name string) (sid string, send bool, ok bool) {
	if sid, ok := strings.CutPrefix(name, sendPrefix); ok && sid != "" {
		return sid, true, true
	}
	if sid, ok := strings.CutPrefix(name, recievePrefix); ok && sid != "" {
		return sid, false, true
	}
	return "", false, false
}
