// Command footfall is the one Footfall binary: the collector and dashboard
// server, the aggregator, exports, migrations and administration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// commands lists every subcommand, in the order help shows them.
func commands() []*command {
	return []*command{
		serveCommand(),
		aggregateCommand(),
		exportCommand(),
		reportCommand(),
		migrateCommand(),
		siteAddCommand(),
		siteListCommand(),
		consentVerifyCommand(),
		consentExportCommand(),
		consentKeysCommand(),
		consentRotateCommand(),
		consentRetireCommand(),
		retentionCommand(),
		snippetCommand(),
		linkSignCommand(),
		auditCommand(),
		eraseCommand(),
		accessCommand(),
		healthcheckCommand(),
		userAddCommand(os.Stdin),
		userListCommand(),
		userDeleteCommand(),
		userTOTPCommand(),
		tokenCreateCommand(),
		tokenListCommand(),
		tokenRevokeCommand(),
		versionCommand(),
	}
}

// run executes one command line and returns the exit status: 0 done, 1
// failed, 2 called wrongly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		overview(stderr, cmds)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) == 1 {
			overview(stdout, cmds)
			return 0
		}
		c, _ := find(cmds, args[1:])
		if c == nil {
			fmt.Fprintf(stderr, "footfall: no command %q; see footfall help\n", strings.Join(args[1:], " "))
			return 2
		}
		c.usage(stdout)
		return 0
	}
	c, rest := find(cmds, args)
	if c == nil {
		fmt.Fprintf(stderr, "footfall: no command %q; see footfall help\n", strings.Join(args, " "))
		return 2
	}
	pos, err := c.parse(rest, getenv)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(stdout)
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "footfall %s: invalid settings:\n", c.name)
		for _, line := range strings.Split(ue.Error(), "\n") {
			fmt.Fprintf(stderr, "  %s\n", line)
		}
		fmt.Fprintf(stderr, "see footfall help %s\n", c.name)
		return 2
	}
	env := &runEnv{stdout: stdout, stderr: stderr}
	if err := c.run(ctx, env, pos); err != nil {
		fmt.Fprintf(stderr, "footfall %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

// find matches the longest command name at the start of args.
func find(cmds []*command, args []string) (*command, []string) {
	var best *command
	var rest []string
	for _, c := range cmds {
		words := strings.Fields(c.name)
		if len(args) < len(words) {
			continue
		}
		if strings.Join(args[:len(words)], " ") == c.name && (best == nil || len(words) > len(strings.Fields(best.name))) {
			best, rest = c, args[len(words):]
		}
	}
	return best, rest
}

func overview(w io.Writer, cmds []*command) {
	fmt.Fprint(w, "footfall: consent-aware web analytics.\n\nUsage: footfall COMMAND [flags]\n\nCommands:\n")
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, firstSentence(c.summary))
	}
	fmt.Fprint(w, "\nRun footfall help COMMAND for its flags. Every flag -x-y can also be set as FOOTFALL_X_Y.\n")
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
