package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// WithStateFile keeps the directory in path, rewritten atomically (write a temporary file
// in the same folder, fsync, rename) after every change, and loaded when the registry
// starts: a restarted registry resumes consuming every known component's queue, so Python
// components, which never register again, keep working (spec quirk 6).
//
// A local file was chosen over state kept in RabbitMQ: it needs no broker feature beyond
// the protocol's own queues, survives a broker restart (transient messages would not), and
// a person can read it.
func WithStateFile(path string) Option { return func(c *config) { c.stateFile = path } }

type savedEntry struct {
	Name        string          `json:"name"`
	SessionID   string          `json:"session_id"`
	Description json.RawMessage `json:"description"`
}

func loadState(path string) ([]savedEntry, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []savedEntry
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("registry state %s: %w", path, err)
	}
	return out, nil
}

func saveState(path string, entries []savedEntry) error {
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".registry-state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
