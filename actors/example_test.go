package actors_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
)

// The README's "write your first component", kept compiling and running here;
// TestReadmeExampleInSync checks that the README shows exactly this code.
func Example() {
	// README begin
	type SumArgs struct {
		A int `json:"a" desc:"first addend"`
		B int `json:"b"`
	}

	ctx := context.Background()
	sys, err := actors.New() // in-process broker; actors.WithBroker(amqpbridge.NewBroker(url)) for RabbitMQ
	if err != nil {
		log.Fatal(err)
	}
	if _, err := sys.StartRegistry(ctx); err != nil {
		log.Fatal(err)
	}

	summator := component.New("IntSummator")
	component.Method(summator, "int_sum", func(_ context.Context, in SumArgs) (int, error) {
		return in.A + in.B, nil
	})
	if _, err := sys.Spawn(ctx, summator); err != nil {
		log.Fatal(err)
	}

	caller, err := sys.Spawn(ctx, component.New("SumRequester"))
	if err != nil {
		log.Fatal(err)
	}
	var sum int
	if err := caller.Call(ctx, "IntSummator", "int_sum", SumArgs{A: 5, B: 18}, &sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum) // 23

	if err := sys.Shutdown(ctx); err != nil { // components leave the registry, then all stops
		log.Fatal(err)
	}
	// README end

	// Output: 23
}

func TestReadmeExampleInSync(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "## Write your first component\n\n```go\n")
	block, _, ok2 := strings.Cut(block, "```")
	_, code, ok3 := strings.Cut(string(src), "// README "+"begin\n")
	code, _, ok4 := strings.Cut(code, "\t// README "+"end")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatal("README example or its markers not found")
	}
	var lines []string
	for _, l := range strings.Split(code, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	if got, want := strings.TrimSpace(block), strings.TrimSpace(strings.Join(lines, "\n")); got != want {
		t.Fatalf("README.md's example differs from Example in actors/example_test.go:\n--- README\n%s\n--- Example\n%s", got, want)
	}
}
