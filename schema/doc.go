// Package schema owns the method descriptions and argument validation that make a Go
// component look like a Python at_queue component to its peers.
//
// A component method is func(ctx, in Args) (Result, error); Args is a struct whose
// exported fields are the method's named arguments. Inputs and Output derive the JSON
// Schemas pydantic v1 would publish for the same parameter and return types, byte for
// byte after re-formatting (key order title, description, default, type, then the type's
// keys; nested models inlined, as at_queue does with jsonref):
//
//	Go                          pydantic v1          schema keys
//	bool                        bool                 "type": "boolean"
//	int…, uint…, big.Int        int                  "type": "integer"
//	float32, float64            float                "type": "number"
//	json.Number                 float                "type": "number"
//	string                      str                  "type": "string"
//	[]byte                      bytes                "type": "string", "format": "binary"
//	time.Time                   datetime             "type": "string", "format": "date-time"
//	[]T, [N]T                   List[T]              "type": "array", "items" (+ min/maxItems)
//	map[string]T                Dict[str, T]         "type": "object", "additionalProperties"
//	struct (named S)            model S              "title": "S", "properties", "required"
//	*T                          Optional[T] = None   as T, not required, accepts null
//	any, json.RawMessage        Any                  no type
//
// Struct tags: `json` gives the name (",omitempty" makes the field optional, "-" hides
// it), `default` a JSON default (not required; filled in by Validate), `desc` the
// description. Anonymous embedded structs are flattened as encoding/json does.
//
// Compile and Validator.Validate check the arguments of one call the way pydantic v2
// (the version at_queue pins) does in lax mode, on the values Python's json.loads makes:
// "2", " 2 ", "1_000", 2.0 and true are the int 2, 2, 1000, 2 and 1; 2.5 and "１２" are
// not ints; NaN, Infinity and 1e400 (inf) are floats; numbers are not strings. Every issue
// is reported with pydantic v1's location, message and type code, the text the golden
// captures show, so that ValidationError.PydanticJSON reproduces Python's error_message.
// After the coercions the arguments are checked by a compiled JSON Schema
// (santhosh-tekuri/jsonschema/v6), which has the last word. A value the Go type cannot
// hold (300 for an int8, 2**63 for an int) is an issue at its location, in the words of
// pydantic's conint bounds; big.Int holds any integer, as Python's int does. The whole
// table, with pydantic v1 and v2 beside each choice, is docs/numbers.md.
//
// Nothing here starts goroutines or does I/O. Validators are immutable and safe for
// concurrent use.
package schema
