package cli

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParseAll(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		pos      string
		json     bool
		token    string
		dashdash bool
	}{
		{[]string{"call", "X", "m", "a=1", "--json", "--token", "T", "b=2"}, "call X m a=1 b=2", true, "T", false},
		{[]string{"--json", "ls"}, "ls", true, "", false},
		{[]string{"configurate", "X", "--"}, "configurate X", false, "", true},
		{[]string{"configurate", "X", "--", "--json"}, "configurate X --json", false, "", true},
		{[]string{"configurate", "X", "-", "-json"}, "configurate X -", true, "", false},
		{nil, "", false, "", false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		j := fs.Bool("json", false, "")
		tok := fs.String("token", "", "")
		pos, dd, err := ParseAll(fs, tc.args)
		if err != nil || strings.Join(pos, " ") != tc.pos || *j != tc.json || *tok != tc.token || dd != tc.dashdash {
			t.Errorf("ParseAll(%q) = %q %v %v; json %v token %q", tc.args, pos, dd, err, *j, *tok)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, _, err := ParseAll(fs, []string{"ls", "--nope"}); !errors.Is(err, ErrUsage) {
		t.Errorf("an unknown option: %v, want a usage error", err)
	}
	if _, _, err := ParseAll(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

func TestExit(t *testing.T) {
	cause := errors.New("cause")
	err := Exit(4, cause)
	var e *ExitError
	if !errors.As(err, &e) || e.Code != 4 || !errors.Is(err, cause) || err.Error() != "cause" {
		t.Errorf("Exit(4, cause) = %#v", err)
	}
	if Exit(3, nil) != nil {
		t.Error("Exit of a nil error is not nil")
	}
}
