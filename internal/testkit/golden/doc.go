// Package golden gives tests the captured messages of the Python package, kept in
// testdata/golden at the root of the module (see testdata/README.md).
//
// Tests run with their package folder as working directory; Dir walks up from there to the
// folder holding go.mod, so the same call works from any package of the module. A missing
// folder fails the test; nothing here skips.
package golden
