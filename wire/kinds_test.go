package wire_test

import (
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/golden"
	"github.com/at-technology/atqueue/wire"
)

// Every error answer Python sent in the captured run, and every one the Go side adds, is
// read as the kind a caller tests for.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		file string
		want wire.Kind
	}{
		{"exec_validation_error.json", wire.KindInvalidArguments},
		{"exec_extra_arg_answer.json", wire.KindInvalidArguments},
		{"exec_missing_arg_answer.json", wire.KindInvalidArguments},
		{"auth_method_without_token_answer.json", wire.KindInvalidArguments},
		{"exec_unknown_method_answer.json", wire.KindUnknownMethod},
		{"auth_method_not_authorized_answer.json", wire.KindNotAuthorized},
		{"unknown_component_answer.json", wire.KindUnknownComponent},
		{"exec_method_raised_answer.json", wire.KindRemote},
		{"auth_method_undeclared_token_answer.json", wire.KindRemote},
		// inspect's "not registered" (no "yet") comes from the asker's own name: only
		// Inspect reads it, as an unknown component.
		{"inspect_unknown_answer.json", wire.KindRemote},
	} {
		env, err := wire.Decode(golden.Read(t, tc.file), 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		a, err := wire.DecodeAnswer(env.Message)
		if err != nil || !a.HasErrors {
			t.Fatalf("%s: %v, errors %t", tc.file, err, a.HasErrors)
		}
		if got := wire.Classify(env.Sender, a.Errors); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.file, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		from string
		item wire.ErrorItem
		want wire.Kind
	}{
		{"dead", wire.RegistryName, wire.ErrorItem{Text: wire.NotAliveFor("X", 3*time.Second)}, wire.KindNotAlive},
		{"no queue", wire.RegistryName, wire.ErrorItem{Text: wire.NotAliveNoQueue("X", "recieve-x")}, wire.KindNotAlive},
		{"not registered", wire.RegistryName, wire.ErrorItem{Text: wire.NotRegisteredYet("X")}, wire.KindUnknownComponent},
		{"stopped", wire.RegistryName, wire.ErrorItem{Type: wire.ComponentStoppedException, Text: wire.Stopped("X", "1", "Y")}, wire.KindNotAlive},
		{"crashed", "X", wire.ErrorItem{Type: wire.ComponentCrashedException}, wire.KindCrashed},
		// A component may not pass its errors off as the registry's.
		{"registry text from a component", "X", wire.ErrorItem{Text: wire.NotRegisteredYet("Y")}, wire.KindRemote},
	} {
		if got := wire.Classify(tc.from, []wire.ErrorItem{tc.item}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	env, err := wire.Decode(golden.Read(t, "unknown_component_answer.json"), 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := wire.DecodeAnswer(env.Message)
	if got := a.Errors[0].Text; got != wire.NotRegisteredYet("NoSuchComponent") {
		t.Errorf("NotRegisteredYet writes %q, Python wrote %q", wire.NotRegisteredYet("NoSuchComponent"), got)
	}
	env, _ = wire.Decode(golden.Read(t, "inspect_unknown_answer.json"), 0)
	a, _ = wire.DecodeAnswer(env.Message)
	if got := a.Errors[0].Text; got != wire.NotRegistered("NoSuchComponent") {
		t.Errorf("NotRegistered writes %q, Python wrote %q", wire.NotRegistered("NoSuchComponent"), got)
	}
}
