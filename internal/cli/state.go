package cli

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// StateFlag registers --state: where a registry keeps its directory. The default is a
// file per broker and virtual host under $XDG_STATE_HOME/atq (else ~/.local/state/atq);
// "none" keeps nothing.
func StateFlag(fs *flag.FlagSet) *string {
	return fs.String("state", "", "`FILE` the registry keeps its directory in, so a restart forgets no component (default: one per broker under $XDG_STATE_HOME/atq; \"none\": keep nothing)")
}

// StatePath resolves the --state value for a broker URL: "" when nothing is to be kept.
// It creates the default folder.
func StatePath(flagValue, amqpURL string) (string, error) {
	switch flagValue {
	case "none":
		return "", nil
	case "":
	default:
		return flagValue, nil
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".local", "state")
	}
	dir = filepath.Join(dir, "atq")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := "registry"
	if u, err := url.Parse(amqpURL); err == nil {
		vhost := strings.TrimPrefix(u.Path, "/")
		if vhost == "" {
			vhost = "default"
		}
		name += "-" + u.Host + "-" + vhost
	}
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == '%' || r == ' ' {
			return '_'
		}
		return r
	}, name)
	return filepath.Join(dir, clean+".json"), nil
}

// CheckStateFile tells whether a registry can keep its directory in path: the file, if
// it exists, is a file that can be read, and its folder (created if missing) takes new
// files, since the state is written to a temporary file there and renamed over it. It
// changes nothing in an existing file.
func CheckStateFile(path string) error {
	if path == "" {
		return nil
	}
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return fmt.Errorf("%s is a folder", path)
	case err == nil:
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		f.Close()
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".registry-state-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
