package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// LogOptions are the --log-format and --log-level flags every program takes.
type LogOptions struct {
	format string
	level  slog.Level
}

// LogFlags defines --log-format (text or json) and --log-level (debug, info, warn,
// error) on fs; def is the level when --log-level is not given.
func LogFlags(fs *flag.FlagSet, def slog.Level) *LogOptions {
	o := &LogOptions{format: "text", level: def}
	fs.Func("log-format", "`text` (for people) or json (one object per line, for log collectors); default text", func(s string) error {
		switch s {
		case "text", "json":
			o.format = s
			return nil
		}
		return errors.New(`must be "text" or "json"`)
	})
	fs.Func("log-level", fmt.Sprintf("the least `level` logged: debug, info, warn or error (default %s)", strings.ToLower(def.String())), func(s string) error {
		return o.level.UnmarshalText([]byte(s))
	})
	return o
}

// SetLevel changes the level (a program's own shorthand, such as --debug).
func (o *LogOptions) SetLevel(l slog.Level) { o.level = l }

// Level is the least level logged.
func (o *LogOptions) Level() slog.Level { return o.level }

// Logger is the logger the flags ask for, writing to w.
func (o *LogOptions) Logger(w io.Writer) *slog.Logger {
	if o.format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: o.level}))
	}
	return Logger(w, o.level)
}

// Logger is a plain-text slog logger for people: the date and time (UTC, to the
// millisecond), level, message and key=value pairs, from level up.
func Logger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				return slog.String(slog.TimeKey, a.Value.Time().UTC().Format("2006-01-02T15:04:05.000Z"))
			}
			return a
		},
	}))
}

// Level is slog.LevelDebug when verbose, else slog.LevelInfo.
func Level(verbose bool) slog.Level {
	if verbose {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
