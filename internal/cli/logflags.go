package cli

import (
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// logFlags are --log-format and --log-level, which every command has.
type logFlags struct {
	format, level string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.Var(&choiceValue{p: &l.format, choices: []string{"text", "json"}}, "log-format",
		"write log records in this `format`: text (key=value, the default) or json (one JSON object a line, for log collectors)")
	fs.Var(levelValue{&l.level}, "log-level", "show log records of this `level` and above: debug, info, warn or error (default info; error for one-shot commands)")
}

// choiceValue is a string flag limited to a few words.
type choiceValue struct {
	p       *string
	choices []string
}

func (c *choiceValue) String() string {
	if c == nil || c.p == nil {
		return ""
	}
	return *c.p
}

func (c *choiceValue) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(c.choices, s) {
		return fmt.Errorf("want %s", strings.Join(c.choices, " or "))
	}
	*c.p = s
	return nil
}

func (c *choiceValue) Get() any { return c.String() }

// levelValue is a slog level name.
type levelValue struct{ p *string }

func (v levelValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v levelValue) Set(s string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return fmt.Errorf("want debug, info, warn or error")
	}
	*v.p = strings.TrimSpace(s)
	return nil
}

func (v levelValue) Get() any { return v.String() }
