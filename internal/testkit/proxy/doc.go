// Package proxy is a TCP proxy between the programs of a test and RabbitMQ, so that a
// test can cut every connection they have, refuse new ones or let them hang, without
// touching the broker or anyone else's connections.
//
// Goroutines: New starts the accept loop, and each connection passed through gets one
// goroutine that dials the broker and two that copy bytes. All of them belong to the
// proxy, which t.Cleanup closes: it stops accepting, closes every connection and waits for
// them, so goleak.VerifyTestMain finds none left. Register the proxy before the clients
// that use it, so that their cleanups (which run first) close them while it still relays.
package proxy
