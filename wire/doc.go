// Package wire owns the AT_QUEUE wire format shared by every other package: the five-key
// envelope, Python-identical JSON bytes, the error objects that cross the wire, uuid3
// session ids and queue names.
//
// Nothing here starts goroutines or does I/O. The byte form follows Python's
// json.dumps(obj, ensure_ascii=False): separators ", " and ": ", non-ASCII kept as UTF-8,
// object keys in the order they were written.
package wire
