// Package supervision is restart policy as data, applied to protoactor actors.
//
// It owns three things:
//
//   - Backoff: a capped exponential backoff with equal jitter.
//   - Policy: restart intensity (MaxRestarts within a sliding window), the backoff before each
//     restart, which failures restart and which stop or escalate (Decide), and one-for-one or
//     all-for-one. Policy.Strategy turns it into an actor.SupervisorStrategy.
//   - Tree: a supervisor actor that spawns children under one Policy and stops them in
//     reverse spawn order. protoactor's WithSupervisor governs an actor's children, not the
//     actor itself, so a component that needs a policy is spawned as a child of a Tree.
//
// # Goroutines
//
// The package starts no goroutine of its own. The strategy runs on the supervisor's mailbox
// goroutine, and so does the notify callback, which must not block. A restart with a positive
// delay is posted by a time.AfterFunc timer; a Tree cancels a child's pending timer when the
// child terminates and all timers when it stops. A strategy used without a Tree cannot hear
// of terminations: its timers end by firing, and a restart aimed at a child that has gone
// becomes a dead letter.
//
// # What callers must do
//
// Validate a Policy before calling Strategy (NewTree validates). Call Tree methods from
// outside actors, never from a child's Receive: they block until the tree actor answers.
// Stop every Tree before shutting down the actor system; ActorSystem.Shutdown stops no actors.
//
// A child's panic drops the message that caused it; if that message was a request, its caller
// must be answered by someone else or wait for its timeout.
package supervision
