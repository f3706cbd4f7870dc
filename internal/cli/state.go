package cli

import (
	"flag"
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
