package procs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
)

// helpRuns are the command lines that ask every program of the module for its help.
// logs marks the help of a program that runs (not atq's list of commands), which must
// offer --log-format and --log-level (issue 9: on every program).
var helpRuns = []struct {
	bin  string
	args []string
	logs bool
}{
	{"atq", []string{"-h"}, false}, {"atq", []string{"--help"}, false}, {"atq", []string{"help"}, false},
	{"atq", []string{"help", "registry"}, true}, {"atq", []string{"registry", "-h"}, true},
	{"atq", []string{"ls", "-h"}, true}, {"atq", []string{"inspect", "-h"}, true}, {"atq", []string{"call", "-h"}, true},
	{"atq", []string{"ping", "-h"}, true}, {"atq", []string{"configurate", "-h"}, true}, {"atq", []string{"watch", "-h"}, true},
	{"atq", []string{"help", "call"}, true},
	{"demo", []string{"-h"}, true},
	{"intsummator", []string{"-h"}, true},
	{"sumrequester", []string{"-h"}, true},
	{"atqbench", []string{"-h"}, true},
	{"atqhost", []string{"-h"}, true},
	{"counter", []string{"-h"}, true},
}

// extraPrograms are the programs TestMain does not build, which only this file runs.
var extraPrograms = []string{
	"github.com/at-technology/atqueue/internal/bench/cmd/atqbench",
	"github.com/at-technology/atqueue/internal/bench/cmd/atqhost",
	"github.com/at-technology/atqueue/internal/e2e/faults/cmd/counter",
}

// shortFlags says what each short option (one or two letters) means wherever it
// appears: a pattern its help line matches. The connection options are python -m
// at_queue's, which atq keeps for drop-in use, so -v is the virtual host everywhere.
var shortFlags = map[string]*regexp.Regexp{
	"h":  regexp.MustCompile(`(?i)help|show this text`),
	"u":  regexp.MustCompile(`URL`),
	"H":  regexp.MustCompile(`(?i)host`),
	"p":  regexp.MustCompile(`(?i)port`),
	"L":  regexp.MustCompile(`(?i)login`),
	"U":  regexp.MustCompile(`(?i)login`),
	"P":  regexp.MustCompile(`(?i)password`),
	"v":  regexp.MustCompile(`(?i)virtual.?host`),
	"dh": regexp.MustCompile(`debugger-host`),
	"dp": regexp.MustCompile(`debugger-port`),
}

// knownConflicts are short options that still mean something else in programs this
// change could not edit (internal/bench, internal/e2e/faults): logged, not failed, so
// that a new conflict fails while these wait for their owners. Remove an entry once its
// program is fixed.
var knownConflicts = map[string]string{}

// Every program answers -h (and atq its help command) with its usage and exit status 0,
// every one that runs offers --log-format and --log-level, and no short option means two
// things across the programs.
func TestHelpOfEveryProgram(t *testing.T) {
	t.Parallel()
	extra, err := proctest.Build("atq-help-", extraPrograms...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(extra) })
	seen := map[string]bool{}
	for _, run := range helpRuns {
		path := filepath.Join(binDir, run.bin)
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(extra, run.bin)
		}
		p := proctest.Start(t, path, run.args, proctest.Unset("AMQP_URL"), proctest.Setenv("XDG_STATE_HOME", t.TempDir()))
		name := run.bin + " " + strings.Join(run.args, " ")
		code := p.Wait(stopped)
		text := p.Stdout() + p.Stderr()
		if code != 0 || !strings.Contains(strings.ToLower(text), "usage") {
			t.Errorf("%s: exit status %d, want 0 and a usage text\n%s", name, code, text)
			continue
		}
		if run.logs && (!strings.Contains(text, "-log-format") || !strings.Contains(text, "-log-level")) {
			t.Errorf("%s: the usage offers no --log-format or no --log-level\n%s", name, text)
		}
		for _, o := range options(text) {
			key := run.bin + " -" + o.name
			want, ok := shortFlags[o.name]
			switch {
			case want != nil && want.MatchString(o.help):
			case knownConflicts[key] != "":
				if !seen[key] {
					t.Logf("known conflict, left to its owner: %s means %q here (%s)", key, o.help, knownConflicts[key])
				}
			case !ok:
				t.Errorf("%s: a new short option -%s (%q): give it a long name, or add it to shortFlags if it means the same in every program", name, o.name, o.help)
			default:
				t.Errorf("%s: -%s means %q here, elsewhere it matches %s", name, o.name, o.help, want)
			}
			seen[key] = true
		}
	}
	for key := range knownConflicts {
		if !seen[key] {
			t.Logf("%s is no longer offered: remove it from knownConflicts", key)
		}
	}
}

// option is a short option a usage text lists, with the text that describes it.
type option struct{ name, help string }

// optionLine matches an option line of a usage text: the flag package's ("  -v\tverbose",
// "  -amqp URL" with its help on the next line) and atq's ("  -u, --url URL   help").
var optionLine = regexp.MustCompile(`^\s+-`)

// options lists the options of one or two letters in a usage text.
func options(text string) []option {
	lines := strings.Split(text, "\n")
	var out []option
	for i, l := range lines {
		if !optionLine.MatchString(l) {
			continue
		}
		head, rest := strings.TrimSpace(l), ""
		if j := strings.IndexAny(head, "\t"); j >= 0 {
			head, rest = head[:j], head[j:]
		} else if j := strings.Index(head, "  "); j >= 0 {
			head, rest = head[:j], head[j:]
		}
		if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" && !optionLine.MatchString(lines[i+1]) {
			rest += " " + lines[i+1] // the help, or the rest of it, on the next line
		}
		for _, tok := range strings.Split(head, ", ") {
			name, _, _ := strings.Cut(strings.TrimLeft(tok, "-"), " ")
			if len(name) <= 2 && strings.HasPrefix(tok, "-") {
				out = append(out, option{name: name, help: strings.Join(strings.Fields(head+rest), " ")})
			}
		}
	}
	return out
}
