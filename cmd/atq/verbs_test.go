package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/console"
	"github.com/at-technology/atqueue/internal/testkit/apitest"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// verbRig is a registry over RabbitMQ (atq registry, as a process) with components to
// point the verbs at: IntSummator, Guard (authorized methods), Mute (never answers), Tools
// (a method that fails, one with nested arguments, a configurate that records what it
// got) and Legacy, an at_queue component whose process is gone (registered, not alive).
type verbRig struct {
	url     string
	probe   *component.Handle // a Go component of the test, to read the registry
	configs chan string       // what Tools' configurate received: token + " " + config
	hangs   chan struct{}     // a call to Mute.hang began
}

// PointArgs are the arguments of Tools.place: a nested object, a list and an optional
// value with a default.
type PointArgs struct {
	P struct {
		X int `json:"x" desc:"across"`
		Y int `json:"y" default:"0"`
	} `json:"p" desc:"where"`
	Tags  []string `json:"tags"`
	Times int      `json:"times" default:"1"`
}

func newVerbRig(t *testing.T) *verbRig {
	t.Helper()
	url := rabbittest.VHost(t)
	reg := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", "", "--state", "none", "--dead-after", "300ms", "--probe-every", "100ms")
	reg.WaitLine("registry listening on ", ready)
	t.Cleanup(func() { stop(t, reg, os.Interrupt) })
	sys, _ := apitest.System(t, url, nil)
	r := &verbRig{url: url, configs: make(chan string, 4), hangs: make(chan struct{}, 4)}
	apitest.Spawn(t, sys, apitest.IntSummator())
	apitest.Spawn(t, sys, apitest.Guard())
	apitest.Spawn(t, sys, apitest.Silent(r.hangs))
	tools := component.New("Tools", component.Describe("Things to test atq with"),
		component.OnConfigurate(func(_ context.Context, config json.RawMessage, token string) (any, error) {
			var c struct{ Refuse bool }
			if json.Unmarshal(config, &c) == nil && c.Refuse {
				return nil, errors.New("this configuration is refused")
			}
			r.configs <- token + " " + string(config)
			return "configured", nil
		}))
	component.Method(tools, "fail", func(context.Context, struct{}) (int, error) {
		return 0, errors.New("it went wrong")
	}, component.Description("Always fails"))
	component.Method(tools, "place", func(_ context.Context, in PointArgs) (PointArgs, error) { return in, nil })
	apitest.Spawn(t, sys, tools)
	r.probe = apitest.Spawn(t, sys, component.New("Probe"))

	ctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
	defer cancel()
	legacy, err := pypeer.Register(ctx, url, pypeer.RegisterBody("Legacy", wire.NewID()), pypeer.Since6ddd4b0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Closed once the registry has seen it consume (else it would wait for its start
	// grace before finding it dead).
	r.waitEntry(t, "Legacy has a consumer", func(e wire.DirectoryEntry) bool { return e.Name == "Legacy" && e.Consumers > 0 })
	if err := legacy.Close(); err != nil {
		t.Fatal(err)
	}
	r.waitEntry(t, "Legacy is not alive", func(e wire.DirectoryEntry) bool { return e.Name == "Legacy" && !e.Alive })
	return r
}

// waitEntry waits until the registry's directory has an entry for which cond holds.
func (r *verbRig) waitEntry(t *testing.T, what string, cond func(wire.DirectoryEntry) bool) {
	t.Helper()
	deadline := time.Now().Add(apitest.Wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
		entries, err := r.probe.Directory(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if cond(e) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry's directory never said %s: %+v", what, entries)
		}
		time.Sleep(50 * time.Millisecond) // the registry probes every 100ms
	}
}

// config is the next configuration Tools received.
func (r *verbRig) config(t *testing.T) string {
	t.Helper()
	select {
	case got := <-r.configs:
		return got
	case <-time.After(apitest.Wait):
		t.Fatal("Tools got no configuration")
	}
	return ""
}

// hang waits until a call to Mute.hang has begun.
func (r *verbRig) hang(t *testing.T) {
	t.Helper()
	select {
	case <-r.hangs:
	case <-time.After(apitest.Wait):
		t.Fatal("the call did not reach Mute")
	}
}

// result is how a verb ended.
type result struct {
	code           int
	stdout, stderr string
}

// atq runs a verb against the rig's broker and waits for it to end.
func (r *verbRig) atq(t *testing.T, args ...string) result {
	t.Helper()
	p := start(t, append(args, "-u", r.url)...)
	code := p.Wait(stopped + ready)
	out := p.Stdout()
	if out != "" {
		out += "\n" // proctest keeps lines
	}
	return result{code, out, p.Stderr()}
}

func (res result) want(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if res.code != code || !strings.Contains(res.stdout, stdout) || !strings.Contains(res.stderr, stderr) {
		t.Errorf("exit status %d, want %d; stdout should have %q, stderr %q\nstdout:\n%s\nstderr:\n%s", res.code, code, stdout, stderr, res.stdout, res.stderr)
	}
}

// Every verb against a registry over RabbitMQ: output for people, --json, and the exit
// statuses scripts rely on; each verb's component unregisters on exit.
func TestVerbs(t *testing.T) {
	t.Parallel()
	r := newVerbRig(t)

	t.Run("ls", func(t *testing.T) {
		res := r.atq(t, "ls")
		res.want(t, 0, "NAME", "")
		for _, line := range []string{"IntSummator ", "Guard ", "Tools ", "Legacy "} {
			if !strings.Contains(res.stdout, "\n"+line) {
				t.Errorf("no line for %s:\n%s", line, res.stdout)
			}
		}
		if !regexpLine(res.stdout, `^IntSummator +yes +1 +20\d\d-\d\d-\d\d \d\d:\d\d:\d\d \(\d+s ago\)$`) ||
			!regexpLine(res.stdout, `^Legacy +no, last seen 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d +1 +`) ||
			!regexpLine(res.stdout, `^Tools +yes +2 `) {
			t.Errorf("table:\n%s", res.stdout)
		}
		if strings.Contains(res.stdout, "atq-ls-") || strings.Contains(res.stdout, "python -m at_queue") {
			t.Errorf("lists itself, or takes a Go registry for a Python one:\n%s", res.stdout)
		}

		res = r.atq(t, "ls", "--json")
		res.want(t, 0, "", "")
		var v console.View
		if err := json.Unmarshal([]byte(res.stdout), &v); err != nil || strings.Count(res.stdout, "\n") != 1 {
			t.Fatalf("--json: %v\n%s", err, res.stdout)
		}
		sum, legacy := v.Find("IntSummator"), v.Find("Legacy")
		if !v.Liveness || sum == nil || legacy == nil || !*sum.Alive || *legacy.Alive || legacy.LastAlive == "" || sum.Methods != 1 ||
			sum.RegisteredAt == "" || !sum.Go || legacy.Go || sum.Description != nil {
			t.Errorf("--json: %s", res.stdout)
		}
	})

	t.Run("inspect", func(t *testing.T) {
		r.atq(t, "inspect", "IntSummator").want(t, 0, "IntSummator (session 3b77ae37-4633-3abc-8d5f-e38581de1aba)\n\n  int_sum(a: integer, b: integer) -> integer\n      a  integer  required\n      b  integer  required", "")
		res := r.atq(t, "inspect", "Tools")
		res.want(t, 0, "Tools (session ", "")
		for _, want := range []string{
			"Things to test atq with\n",
			"  fail() -> integer\n      Always fails\n",
			"  place(p: P, tags: array of string, times?: integer = 1) -> PointArgs\n",
			"      p      P                required             where\n",
			"        p.x  integer          required             across\n",
			"        p.y  integer          optional, default 0\n",
			"      tags   array of string  required\n",
			"      times  integer          optional, default 1\n",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("no %q in\n%s", want, res.stdout)
			}
		}
		res = r.atq(t, "inspect", "Legacy")
		res.want(t, 0, "Legacy (session ", "")
		if !strings.Contains(res.stdout, ", NOT ALIVE)") {
			t.Errorf("a dead component is not shown as such:\n%s", res.stdout)
		}

		res = r.atq(t, "inspect", "IntSummator", "--json")
		ctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
		defer cancel()
		raw, err := r.probe.Inspect(ctx, "IntSummator")
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		_ = json.Compact(&want, raw)
		if res.code != 0 || res.stdout != want.String()+"\n" {
			t.Errorf("--json: %d\n got %s\nwant %s", res.code, res.stdout, want.String())
		}

		r.atq(t, "inspect", "Nobody").want(t, exitUnknown, "", `atq: registry: unknown component: Component "Nobody" is not registered`)
	})

	t.Run("call", func(t *testing.T) {
		r.atq(t, "call", "IntSummator", "int_sum", "a=5", "b=18").want(t, 0, "23\n", "")
		r.atq(t, "call", "--json", "IntSummator", "int_sum", "--args", `{"a": 5, "b": 1}`, "b=18").want(t, 0, "23\n", "")
		res := r.atq(t, "call", "IntSummator", "int_sum", "a=5", "b=x")
		res.want(t, exitInvalidArgs, "", "atq: IntSummator.int_sum: invalid arguments: b: value is not a valid integer\n")
		if res.stdout != "" || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("not one line on stderr:\n%s%s", res.stdout, res.stderr)
		}
		res = r.atq(t, "call", "IntSummator", "int_sum", "a=5", "b=x", "--json")
		var doc struct {
			Errors []map[string]any `json:"errors"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || len(doc.Errors) != 1 || doc.Errors[0]["error_type"] != "MethodArgumentSchemaException" ||
			!strings.Contains(doc.Errors[0]["error_message"].(string), `"loc": [`) || res.code != exitInvalidArgs {
			t.Errorf("--json of invalid arguments: %d %v\n%s", res.code, err, res.stdout)
		}

		res = r.atq(t, "call", "Tools", "place", `p={"x": 3}`, "tags=[\"a\",\"b\"]")
		res.want(t, 0, "{\n  \"p\": {\n    \"x\": 3,\n    \"y\": 0\n  },\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ],\n  \"times\": 1\n}\n", "")
		r.atq(t, "call", "Tools", "place", `p={"y": 3}`).want(t, exitInvalidArgs, "", "invalid arguments: p.x: field required; tags: field required\n")
		r.atq(t, "call", "Tools", "fail").want(t, exitFailed, "", "atq: Tools.fail: remote method failed: ")
		r.atq(t, "call", "Nobody", "int_sum").want(t, exitUnknown, "", `atq: Nobody.int_sum: unknown component: Component "Nobody" is not registered yet`)
		r.atq(t, "call", "IntSummator", "nope").want(t, exitUnknown, "", `atq: IntSummator.nope: unknown method: IntSummator has no method "nope"; its methods: ['int_sum']`+"\n")
		r.atq(t, "call", "Guard", "add", "a=1", "b=2").want(t, exitUnauthorized, "", "atq: Guard.add: not authorized: ")
		r.atq(t, "call", "Guard", "whoami", "--token", "tok-1").want(t, 0, "tok-1\n", "")
		r.atq(t, "call", "Legacy", "int_sum", "a=1", "b=2").want(t, exitFailed, "", "is registered but not alive")
		r.atq(t, "call", "Mute", "hang", "--timeout", "700ms").want(t, exitNoAnswer, "", "atq: no answer from Mute.hang within 700ms (--timeout)\n")
		r.hang(t)
		p := start(t, "call", "Mute", "hang", "-u", r.url)
		r.hang(t)
		if code := p.Stop(os.Interrupt, stopped); code != exitInterrupted || !strings.Contains(p.Stderr(), "atq: interrupted (received SIGINT)") {
			t.Errorf("SIGINT during a call: exit status %d\n%s", code, p.Stderr())
		}
		r.atq(t, "call", "IntSummator", "int_sum", "a").want(t, exitUsage, "", `atq: usage: argument "a" is not key=value`)
		r.atq(t, "call", "IntSummator", "int_sum", "--args", "[1]").want(t, exitUsage, "", "atq: usage: --args must be a JSON object")
		r.atq(t, "call", "IntSummator").want(t, exitUsage, "", "atq: usage: call needs the NAME of a component and a METHOD")
	})

	t.Run("ping", func(t *testing.T) {
		r.atq(t, "ping", "IntSummator").want(t, 0, "pong from IntSummator in ", "")
		res := r.atq(t, "ping", "--json", "Tools")
		var doc struct {
			Component, Result string
			Seconds           float64
		}
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || res.code != 0 || doc.Component != "Tools" || doc.Result != "pong" || doc.Seconds <= 0 {
			t.Errorf("--json: %d %v %s", res.code, err, res.stdout)
		}
		r.atq(t, "ping", "Legacy").want(t, exitFailed, "", `Component "Legacy" is registered but not alive`)
		r.atq(t, "ping", "Nobody").want(t, exitUnknown, "", "unknown component")
		r.atq(t, "ping", "Nobody", "--json").want(t, exitUnknown, `{"errors":["Component \"Nobody\" is not registered yet"]}`, "")
	})

	t.Run("configurate", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "config.json")
		if err := os.WriteFile(file, []byte(`{"level": "high", "ёмкость": 3}`), 0o644); err != nil {
			t.Fatal(err)
		}
		r.atq(t, "configurate", "Tools", file, "--token", "T").want(t, 0, "configured\n", "")
		if got := r.config(t); got != `T {"level": "high", "ёмкость": 3}` {
			t.Errorf("Tools got %q", got)
		}
		refuse := filepath.Join(dir, "refuse.json")
		if err := os.WriteFile(refuse, []byte(`{"refuse": true}`), 0o644); err != nil {
			t.Fatal(err)
		}
		r.atq(t, "configurate", "Tools", refuse).want(t, exitFailed, "", "this configuration is refused")
		r.atq(t, "configurate", "Tools", "--json", file).want(t, 0, `"configured"`+"\n", "")
		r.config(t)
		bad := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(bad, []byte(`[1, 2]`), 0o644); err != nil {
			t.Fatal(err)
		}
		r.atq(t, "configurate", "Tools", bad).want(t, exitUsage, "", "atq: usage: the configuration must be a JSON object")
		r.atq(t, "configurate", "Tools", filepath.Join(dir, "none.json")).want(t, exitUsage, "", "no such file or directory")
		r.atq(t, "configurate", "Tools").want(t, exitUsage, "", "configurate needs a FILE after Tools (- for stdin)")

		// The configuration on stdin: run in this process, with stdin replaced.
		stdin = strings.NewReader(`{"from": "stdin"}`)
		defer func() { stdin = os.Stdin }()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"configurate", "-u", r.url, "Tools", "--"}, &out, &errOut); err != nil || out.String() != "configured\n" {
			t.Errorf("from stdin: %v %q %q", err, out.String(), errOut.String())
		}
		if got := r.config(t); got != ` {"from": "stdin"}` {
			t.Errorf("Tools got %q", got)
		}
	})

	// Every verb's component left the registry.
	ctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
	defer cancel()
	raw, err := r.probe.InspectAll(ctx)
	if err != nil || bytes.Contains(raw, []byte(`"atq-`)) {
		t.Errorf("a verb's component is still registered: %s %v", raw, err)
	}
}

// Without a broker, or without a registry on the virtual host, a verb exits 5 and says
// why; -h exits 0 and lists the exit statuses.
func TestVerbsWithoutRegistry(t *testing.T) {
	t.Parallel()
	p := start(t, "ls", "-u", dead)
	if code := p.Wait(stopped); code != exitNoAnswer || !strings.Contains(p.Stderr(), "atq: cannot reach RabbitMQ at 127.0.0.1:1") {
		t.Errorf("no broker: %d %s", code, p.Stderr())
	}
	url := rabbittest.VHost(t)
	p = start(t, "ping", "X", "-u", url, "--timeout", "1s", "--json")
	if code := p.Wait(stopped + ready); code != exitNoAnswer || !strings.Contains(p.Stderr(), "is the registry running on this broker and virtual host?") ||
		!strings.HasPrefix(p.Stdout(), `{"errors":["registration failed: atq-ping-`) {
		t.Errorf("no registry: %d\n%s\n%s", code, p.Stdout(), p.Stderr())
	}
	for _, args := range [][]string{{"call", "-h"}, {"help", "ls"}, {"help"}} {
		p := start(t, args...)
		if code := p.Wait(stopped); code != 0 || !strings.Contains(p.Stdout()+p.Stderr(), "  4    the component refused the arguments") {
			t.Errorf("atq %v: %d\n%s%s", args, code, p.Stdout(), p.Stderr())
		}
	}
	p = start(t, "ls", "-x")
	if code := p.Wait(stopped); code != exitUsage {
		t.Errorf("an unknown option: exit status %d", code)
	}
}

// Each verb's -h names every option it takes.
func TestVerbHelpNamesEveryOption(t *testing.T) {
	for name, mk := range verbs {
		v := mk()
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		var o verbOptions
		o.flags(fs, v.withToken, v.withArgs)
		text := v.usage + verbCommonUsage + connectionUsage
		fs.VisitAll(func(f *flag.Flag) {
			n := "-" + f.Name
			if len(f.Name) > 2 {
				n = "--" + f.Name
			}
			if !strings.Contains(text, n) {
				t.Errorf("atq %s -h does not name %s", name, n)
			}
		})
		if strings.Contains(text, "-v, --verbose") || !strings.HasPrefix(v.usage, "usage: atq "+name) {
			t.Errorf("atq %s -h:\n%s", name, v.usage)
		}
	}
}

// regexpLine tells whether a line of text matches expr.
func regexpLine(text, expr string) bool {
	return regexp.MustCompile("(?m)" + expr).MatchString(text)
}
