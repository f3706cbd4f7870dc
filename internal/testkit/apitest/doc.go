// Package apitest holds what the tests of the debug HTTP API (httpapi, cmd/atq) share:
// the Python debug server's captured answers in testdata/golden/debug_http, the
// components they call (Go mirrors of the Python ones, plus one that never answers and
// one that returns its token), and the comparison of bodies whose ids are random.
//
// It starts no goroutines of its own; the components it defines run where the test
// starts them.
package apitest
