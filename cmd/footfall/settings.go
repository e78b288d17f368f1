package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/footfall/footfall/config"
)

// command is one subcommand: its flags, their validation and what it runs.
type command struct {
	name    string // as typed: "serve", "site add"
	args    string // positional arguments, for the usage line
	summary string
	flags   *flag.FlagSet
	// check validates the parsed settings and positional arguments; it
	// returns every problem at once.
	check func(args []string) []error
	run   func(ctx context.Context, env *runEnv, args []string) error
}

// runEnv is what every command runs with.
type runEnv struct {
	stdout io.Writer
	stderr io.Writer
}

// envName is the environment twin of a flag: -flush-interval is
// FOOTFALL_FLUSH_INTERVAL.
func envName(flagName string) string {
	return "FOOTFALL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse reads flags from args, then fills every flag not given on the
// command line from its environment twin, then validates. All errors are
// returned together.
func (c *command) parse(args []string, getenv func(string) string) ([]string, error) {
	c.flags.SetOutput(io.Discard)
	pos, err := parseInterspersed(c.flags, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	set := map[string]bool{}
	c.flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	c.flags.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
		}
	})
	if c.check != nil {
		errs = append(errs, c.check(pos)...)
	}
	if len(errs) > 0 {
		return nil, usageError{errors.Join(errs...)}
	}
	return pos, nil
}

// parseInterspersed parses flags before, between and after the positional
// arguments (footfall site add example.com -store …), as most command
// lines allow; the flag package alone stops at the first positional one.
// After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// usageError is a problem with how the command was called: exit status 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// usage writes the command's help: every flag with its env twin and default.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: footfall %s", c.name)
	n := 0
	c.flags.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, " [flags]")
	}
	if c.args != "" {
		fmt.Fprint(w, " "+c.args)
	}
	fmt.Fprintf(w, "\n\n%s\n", c.summary)
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags (each can also be set by the environment variable shown):\n")
	c.flags.VisitAll(func(f *flag.Flag) {
		typ, help := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  -%s %s\n", f.Name, typ)
		fmt.Fprintf(w, "        %s\n", help)
		fmt.Fprintf(w, "        env %s", envName(f.Name))
		if f.DefValue != "" {
			fmt.Fprintf(w, ", default %s", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// commonFlags are the settings every store-using command shares.
type commonFlags struct {
	store     string
	storeWait time.Duration
	logLevel  string
	logFormat string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", defaultStore, "`DSN` of the store: sqlite:PATH (embedded) or clickhouse://[user:pass@]host:9000/db[?cluster=NAME] (cluster mode: see docs/operations.md)")
	fs.DurationVar(&c.storeWait, "store-wait", 15*time.Second, "how long to keep retrying an unreachable store at start-up before giving up")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `format`: text or json")
}

func (c *commonFlags) check() []error {
	var errs []error
	if _, err := parseStore(c.store); err != nil {
		errs = append(errs, fmt.Errorf("-store: %w", err))
	}
	if c.storeWait < 0 {
		errs = append(errs, fmt.Errorf("-store-wait: must not be negative"))
	}
	if _, err := parseLevel(c.logLevel); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %w", err))
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format: want text or json, got %q", c.logFormat))
	}
	return errs
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("want debug, info, warn or error, got %q", s)
	}
	return l, nil
}

// logger builds the process logger on stderr.
func (c *commonFlags) logger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.logLevel) // validated by check
	opts := &slog.HandlerOptions{Level: level}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// configFlag is -config: the YAML config file, or the defaults without it.
type configFlag struct{ path string }

func (c *configFlag) register(fs *flag.FlagSet, usage string) {
	fs.StringVar(&c.path, "config", "", "`path` of the YAML config file"+usage)
}

func (c *configFlag) check() []error {
	if _, err := c.load(); err != nil {
		return []error{fmt.Errorf("-config: %w", err)}
	}
	return nil
}

// load reads the file, or returns the defaults when there is none.
func (c *configFlag) load() (*config.Config, error) {
	if c.path == "" {
		return config.Parse(nil)
	}
	return config.Load(c.path)
}
