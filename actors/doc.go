// Package actors is the runtime root: it owns the protoactor actor system, the transport,
// the supervisor of the bridge and registry actors, and every component started through
// it. Shutdown stops them in order (components, then the registry, then the bridge, then
// the transport), waits for each, and is idempotent; protoactor's own Shutdown stops no
// actor, so it is only called last.
package actors
