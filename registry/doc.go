// Package registry is the registry actor: the directory of component names, their
// session ids and descriptions; registration on the registry's own session; routing of
// every envelope by its "reciever"; and the registry services check_registered, inspect
// and inspect_all (spec §5.2 and §6).
//
// The actor owns its state and never blocks: queues are opened through the bridge actor,
// which answers with messages, and every answer or forwarded message is a bridge.Publish.
// A delivery is acknowledged once what it caused has been accepted by the transport.
//
// Re-registration: a name keeps one session and one consumer. Registering a name again
// (a restarted component) replaces its description and keeps its queue pair, so nothing
// that waited in it is lost and no second consumer is attached (the Python registry leaks
// one per re-registration). A different session_id for a known name moves the name to the
// new session and releases the old consumer.
package registry
