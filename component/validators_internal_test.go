package component

import (
	"reflect"
	"testing"
)

type cachedArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

// Methods with the same arguments type share one compiled validator, per allowExtra, and
// the shared one still validates.
func TestValidatorsAreCompiledOncePerType(t *testing.T) {
	derive := func(allowExtra bool) *method {
		m := &method{allowExtra: allowExtra}
		if err := m.derive(reflect.TypeFor[cachedArgs](), reflect.TypeFor[int]()); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b, extra := derive(false), derive(false), derive(true)
	if a.validator != b.validator {
		t.Fatal("two methods with one arguments type compiled two validators")
	}
	if a.validator == extra.validator {
		t.Fatal("allowExtra shares the validator of a method without it")
	}
	if _, err := b.validator.Validate(map[string]any{"a": 1, "b": "x"}); err == nil {
		t.Fatal(`the shared validator let b="x" through`)
	}
	if _, err := extra.validator.Validate(map[string]any{"a": 1, "b": 2, "c": 3}); err != nil {
		t.Fatalf("allowExtra refused an extra argument: %v", err)
	}
}
