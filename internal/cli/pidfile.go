package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DefaultPidfile is where python -m at_queue writes its process id; deployments check
// its health with `ps -p $(cat /var/run/at_queue/pidfile.pid)`.
const DefaultPidfile = "/var/run/at_queue/pidfile.pid"

// Pidfile is a file holding this process's id, written by WritePidfile.
type Pidfile struct {
	path string
	pid  int
	// Replaced is the id found in the file before, when that process was still running
	// (another registry, or one whose pidfile is about to be overwritten).
	Replaced int
}

// WritePidfile writes the process id and a newline to path, creating its folder, in one
// step (a temporary file renamed over it), so that a reader never sees half of it.
func WritePidfile(path string) (*Pidfile, error) {
	p := &Pidfile{path: path, pid: os.Getpid()}
	if old, err := readPid(path); err == nil && old != p.pid && running(old) {
		p.Replaced = old
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pidfile %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".pidfile-*")
	if err != nil {
		return nil, fmt.Errorf("pidfile %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	_, werr := tmp.WriteString(strconv.Itoa(p.pid) + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		return nil, fmt.Errorf("pidfile %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("pidfile %s: %w", path, err)
	}
	return p, nil
}

// Path is the file's path.
func (p *Pidfile) Path() string { return p.path }

// Remove deletes the file if it still holds this process's id (another process may have
// taken it over since). It is safe to call on a nil *Pidfile and more than once.
func (p *Pidfile) Remove() error {
	if p == nil {
		return nil
	}
	pid, err := readPid(p.path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && pid != p.pid) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfile %s: %w", p.path, err)
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pidfile %s: %w", p.path, err)
	}
	return nil
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// running tells whether a process with that id exists (signal 0 checks without sending).
func running(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
