package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/at-technology/atqueue/internal/testkit/apitest"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// The console test drives Debian's chromium (installed by .ci/run); ATQ_CHROMIUM names
// another browser. ATQ_SCREENSHOTS=DIR keeps the screenshots it takes there (the ones
// in docs/ are made so: ATQ_SCREENSHOTS=$PWD/docs go test -run TestConsole ./cmd/atq/).
const (
	envChromium    = "ATQ_CHROMIUM"
	envScreenshots = "ATQ_SCREENSHOTS"
	browserStep    = 15 * time.Second // bounds each step in the browser
)

// chromium finds the browser, or fails the test saying how to install it.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("the console test needs Chromium: `apt-get install -y chromium` (.ci/run installs it), or set %s to a Chrome or Chromium binary", envChromium)
	return ""
}

// browser starts a headless Chromium with a fresh profile and nothing that reaches out
// to the internet; it is closed (and waited for) at the end of the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // kills the browser if it is still running, and waits for it
	})
	if err := chromedp.Do(ctx); err != nil { // starts it, bound to ctx rather than a step's deadline
		t.Fatalf("starting %s: %v", chromium(t), err)
	}
	return ctx
}

// step runs actions within browserStep.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v\npage: %s", what, err, pageText(ctx))
	}
}

// until waits until the JavaScript expression is truthy in the page.
func until(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("waiting until %s: %v\npage: %s", what, err, pageText(ctx))
	}
}

// js evaluates expr in the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// pageText is what the page shows, for failure messages.
func pageText(ctx context.Context) string {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : document.body.innerText`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// screenshot takes a PNG of the whole page into the folder of ATQ_SCREENSHOTS (else a
// temporary one) and checks that it is one.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		dir = t.TempDir()
	}
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	b, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() < 1000 || img.Bounds().Dy() < 500 {
		t.Fatalf("screenshot %s is not a full page PNG: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// showcaseBody registers Showcase, a Python-like component whose one method's inputs
// have every kind of schema the console's forms handle, in pydantic's v1 and v2 shapes.
func showcaseBody() []byte {
	in := func(name string, required bool, schema, desc string) string {
		d := "null"
		if desc != "" {
			d = wire.PyString(desc)
		}
		return fmt.Sprintf(`%q: {"name": %q, "required": %v, "schema": %s, "strict_validation": false, "description": %s}`, name, name, required, schema, d)
	}
	inputs := strings.Join([]string{
		in("count", true, `{"title": "Count", "type": "integer"}`, "how many boxes"),
		in("ratio", false, `{"title": "Ratio", "default": 0.5, "type": "number"}`, ""),
		in("label", true, `{"title": "Label", "type": "string"}`, "written on the box"),
		in("urgent", true, `{"title": "Urgent", "type": "boolean"}`, ""),
		in("color", false, `{"title": "Color", "default": "red", "allOf": [{"title": "Color", "description": "An enumeration.", "enum": ["red", "green", "blue"], "type": "string"}]}`, ""),
		in("note", false, `{"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Note"}`, ""),
		in("point", true, `{"title": "Point", "type": "object", "properties": {"x": {"title": "X", "type": "integer"}, "y": {"title": "Y", "default": 0, "type": "integer"}}, "required": ["x"]}`, "where it goes"),
		in("tags", false, `{"title": "Tags", "type": "array", "items": {"type": "string"}}`, ""),
		in("extra", false, `{"title": "Extra"}`, ""),
	}, ", ")
	msg := `{"type": "register", "component": {"name": "Showcase", "description": "Every kind of argument a form is generated for", "methods": {"record": {"name": "record", "description": "Answers with the arguments it got", "inputs": {` +
		inputs + `}, "output": {"schema": {"title": "Result", "type": "object"}, "strict_validation": false, "description": null}}}}}`
	b, err := (&wire.Envelope{Sender: "Showcase", Reciever: wire.RegistryName, Message: json.RawMessage(msg), MessageID: wire.NewID()}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// record answers with its arguments, or, as pydantic would, with the error of a point
// without x.
func record(args json.RawMessage) (any, []any) {
	var in struct {
		Point map[string]any `json:"point"`
	}
	_ = json.Unmarshal(args, &in)
	if _, ok := in.Point["x"]; !ok {
		issues := `[{"loc": ["point", "x"], "msg": "field required", "type": "value_error.missing"}]`
		return nil, []any{wire.Object{{Key: "error_message", Value: issues}, {Key: "error_type", Value: "MethodArgumentSchemaException"},
			{Key: "component", Value: "Showcase"}, {Key: "method", Value: "record"}, {Key: "argument", Value: "count"}}}
	}
	return args, nil
}

// The web console in a real headless Chromium, served by atq registry over RabbitMQ: the
// list shows the registered components and their liveness, and follows registrations
// live; the form generated for int_sum calls it and shows 23; a bad value shows the
// validation error on its field; a form with every kind of field sends what was typed;
// the labels switch to Russian. It keeps screenshots of both languages.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	ctx := browser(t)
	url := rabbittest.VHost(t)
	reg := start(t, "registry", "-u", url, "-dp", "0", "--pidfile", "", "--state", "none", "--dead-after", "300ms", "--probe-every", "100ms")
	base := listening(t, reg.WaitLine("debug HTTP API listening on ", ready))
	reg.WaitLine("web console on "+base+"/", ready)
	reg.WaitLine("registry listening on ", ready)
	t.Cleanup(func() { stop(t, reg, os.Interrupt) })

	sys, _ := apitest.System(t, url, nil)
	apitest.Spawn(t, sys, apitest.IntSummator())
	pctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
	defer cancel()
	showcase, err := pypeer.Register(pctx, url, showcaseBody(), pypeer.Since6ddd4b0, map[string]pypeer.Method{"record": record})
	if err != nil {
		t.Fatal(err)
	}
	defer showcase.Close()
	legacy, err := pypeer.Register(pctx, url, pypeer.RegisterBody("Legacy", wire.NewID()), pypeer.Since6ddd4b0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ready := time.Now()

	// The list, and liveness as it changes: Legacy's process goes away.
	step(t, ctx, "opening the console", chromedp.Navigate(base+"/?lang=en"))
	until(t, ctx, "the list shows IntSummator, Showcase and Legacy, alive",
		`["IntSummator", "Showcase", "Legacy"].every(n => document.querySelector('#list tr[data-name="' + n + '"][data-alive="true"]'))`)
	if n := js[int](t, ctx, `document.querySelectorAll('#list tr[data-name^="inspector-"]').length`); n != 0 {
		t.Errorf("the inspector is listed without asking for tools")
	}
	if err := legacy.Close(); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "Legacy is shown not alive", `document.querySelector('#list tr[data-name="Legacy"][data-alive="false"]')`)
	apitest.Spawn(t, sys, apitest.Guard())
	until(t, ctx, "Guard appears without a reload", `document.querySelector('#list tr[data-name="Guard"][data-alive="true"]')`)

	// int_sum: 5 + 18, then a bad value for b.
	const sum = `form.method[data-method="int_sum"]`
	step(t, ctx, "choosing IntSummator", chromedp.Click(chromedp.CSS(`#list tr[data-name="IntSummator"]`)), chromedp.WaitVisible(chromedp.CSS(sum)))
	step(t, ctx, "calling int_sum(5, 18)",
		chromedp.SendKeys(chromedp.CSS(sum+` .field[data-path="a"] input`), "5"),
		chromedp.SendKeys(chromedp.CSS(sum+` .field[data-path="b"] input`), "18"),
		chromedp.Click(chromedp.CSS(sum+` button[type="submit"]`)))
	until(t, ctx, "the result 23 shows", `document.querySelector('`+sum+` .result[data-state="ok"] pre')?.textContent === "23"`)
	js[bool](t, ctx, `(document.querySelector('`+sum+` .field[data-path="b"] input').value = "") === ""`)
	step(t, ctx, "calling int_sum(5, \"x\")",
		chromedp.SendKeys(chromedp.CSS(sum+` .field[data-path="b"] input`), "x"),
		chromedp.Click(chromedp.CSS(sum+` button[type="submit"]`)))
	until(t, ctx, "the error shows on field b", `document.querySelector('`+sum+` .field[data-path="b"].invalid .field-error:not([hidden])')`)
	if got := js[string](t, ctx, `document.querySelector('`+sum+` .field[data-path="b"] .field-error').textContent`); got != "value is not a valid integer" {
		t.Errorf("the error on b: %q", got)
	}
	if js[bool](t, ctx, `!!document.querySelector('`+sum+` .field[data-path="a"].invalid')`) {
		t.Error("field a is marked too")
	}
	if got := js[string](t, ctx, `document.querySelector('`+sum+` .result[data-state="error"] pre').textContent`); got != "Invalid arguments: b: value is not a valid integer" {
		t.Errorf("the error shown under the form: %q", got)
	}
	screenshot(t, ctx, "console-en.png")

	// Showcase: a form with every kind of field.
	const rec = `form.method[data-method="record"]`
	field := func(path string) string { return rec + ` .field[data-path="` + path + `"]` }
	step(t, ctx, "choosing Showcase", chromedp.Click(chromedp.CSS(`#list tr[data-name="Showcase"]`)), chromedp.WaitVisible(chromedp.CSS(rec)))
	step(t, ctx, "filling the form without point.x",
		chromedp.SendKeys(chromedp.CSS(field("count")+" input"), "3"),
		chromedp.SendKeys(chromedp.CSS(field("label")+" input"), "Ящик 7"),
		chromedp.Click(chromedp.CSS(field("urgent")+` input[type="checkbox"]`)),
		chromedp.SetValue(chromedp.CSS(field("color")+" select"), `"green"`),
		chromedp.Click(chromedp.CSS(field("note")+" input.null")),
		chromedp.Click(chromedp.CSS(field("tags")+" button.add")),
		chromedp.Click(chromedp.CSS(field("tags")+" button.add")),
		chromedp.Click(chromedp.CSS(field("tags")+" button.add")),
		chromedp.SendKeys(chromedp.CSS(field("tags.0")+" input"), "fragile"),
		chromedp.SendKeys(chromedp.CSS(field("tags.1")+" input"), "drop me"),
		chromedp.SendKeys(chromedp.CSS(field("tags.2")+" input"), "top"),
		chromedp.Click(chromedp.CSS(field("tags.1")+" + button")),
		chromedp.SendKeys(chromedp.CSS(field("extra")+" textarea"), `{"k": [1, 2]}`),
		chromedp.Click(chromedp.CSS(rec+` button[type="submit"]`)))
	until(t, ctx, "the error shows on point.x", `document.querySelector('`+field("point.x")+`.invalid .field-error:not([hidden])')`)
	step(t, ctx, "filling point.x",
		chromedp.SendKeys(chromedp.CSS(field("point.x")+" input"), "4"),
		chromedp.Click(chromedp.CSS(rec+` button[type="submit"]`)))
	until(t, ctx, "the answer shows", `document.querySelector('`+rec+` .result[data-state="ok"] pre')`)
	var got map[string]any
	if err := json.Unmarshal([]byte(js[string](t, ctx, `document.querySelector('`+rec+` .result pre').textContent`)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"count": 3.0, "label": "Ящик 7", "urgent": true, "color": "green", "note": nil,
		"point": map[string]any{"x": 4.0}, "tags": []any{"fragile", "top"}, "extra": map[string]any{"k": []any{1.0, 2.0}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the form sent\n%v\nwant\n%v", got, want)
	}
	if js[bool](t, ctx, `!!document.querySelector('`+rec+` .field.invalid')`) {
		t.Error("a field is still marked after a call that succeeded")
	}

	// Russian.
	step(t, ctx, "switching to Russian", chromedp.Click(chromedp.CSS(`.lang button[data-lang="ru"]`)))
	until(t, ctx, "the labels are Russian", `document.querySelector("h1").textContent === "Консоль AT Queue" && document.querySelector('`+rec+` button[type="submit"]').textContent === "Вызвать"`)
	if got := js[string](t, ctx, `document.querySelector('#list tr[data-name="Legacy"] .state').textContent`); !strings.HasPrefix(got, "не отвечает") {
		t.Errorf("Legacy's state in Russian: %q", got)
	}
	screenshot(t, ctx, "console-ru.png")
	t.Logf("the browser test took %v, %v of it in the browser after the components were up", time.Since(begin).Round(time.Millisecond), time.Since(ready).Round(time.Millisecond))
}
