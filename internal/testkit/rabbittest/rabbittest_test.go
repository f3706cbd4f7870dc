package rabbittest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestVHostCreatesAndDeletes(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		u := VHost(t)
		_, _, err := parse(u)
		if err != nil {
			t.Fatal(err)
		}
		name = u[strings.LastIndex(u, "/")+1:]
		if !strings.HasPrefix(name, "atq-test-TestVHostCreatesAndDeletes_inner-") {
			t.Fatalf("vhost name %q does not follow atq-test-<test>-<random>", name)
		}
		perms := Ctl(t, "list_permissions", "-p", name)
		if !strings.Contains(perms, "guest\t.*\t.*\t.*") {
			t.Fatalf("guest has no full permissions on %s:\n%s", name, perms)
		}
	})
	if name == "" {
		t.Fatal("inner test did not create a vhost")
	}
	if vhosts := Ctl(t, "list_vhosts"); strings.Contains(vhosts, name) {
		t.Fatalf("vhost %s still exists after cleanup:\n%s", name, vhosts)
	}
}

// fatalTB records the first Fatalf and stops the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestVHostFailsClearlyWhenUnreachable(t *testing.T) {
	t.Setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:1/")
	f := &fatalTB{TB: t}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		VHost(f)
		t.Error("VHost returned although the broker is unreachable")
	}()
	wg.Wait()
	for _, want := range []string{"RabbitMQ is not reachable at 127.0.0.1:1", "rabbitmq-server -detached"} {
		if !strings.Contains(f.msg, want) {
			t.Errorf("failure message %q does not contain %q", f.msg, want)
		}
	}
}

func TestURL(t *testing.T) {
	t.Setenv("AMQP_URL", "")
	if URL() != DefaultURL {
		t.Errorf("URL() = %q without AMQP_URL, want %q", URL(), DefaultURL)
	}
	t.Setenv("AMQP_URL", "amqp://u:p@example:5673/v")
	if URL() != "amqp://u:p@example:5673/v" {
		t.Errorf("URL() = %q, want $AMQP_URL", URL())
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"TestX/sub case#1": "TestX_sub_case_1",
		"ok-name_9":        "ok-name_9",
		"тест":             "____",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sanitize(strings.Repeat("a", 200)); len(got) != 60 {
		t.Errorf("sanitize of a long name has %d bytes, want 60", len(got))
	}
}
