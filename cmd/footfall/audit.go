package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/footfall/footfall/store"
)

// auditor is the part of a store that keeps the audit log.
type auditor interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, from, to time.Time, limit int) ([]store.AuditEntry, error)
}

// audit records an administrative action taken from the command line. The
// action is done already: a failure to record it is returned, so the
// operator sees that the log is incomplete.
func audit(ctx context.Context, st auditor, actor, action, target string, detail any) error {
	d := []byte("{}")
	if detail != nil {
		var err error
		if d, err = json.Marshal(detail); err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
	}
	e := store.AuditEntry{Time: time.Now().UTC().Truncate(time.Second), Actor: actor, Action: action, Target: target, Detail: string(d)}
	if err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("done, but not recorded in the audit log: %w", err)
	}
	return nil
}

func auditCommand() *command {
	var from, to dateFlag
	var limit int
	c, common := storeCommand(&command{
		name:    "audit",
		summary: "Print the audit log of administrative actions (logins, tokens, users, keys, exports, erasures, retention, the configuration each server started with).",
		flags:   flag.NewFlagSet("audit", flag.ContinueOnError),
	})
	c.flags.Var(&from, "from", "first day, YYYY-MM-DD (default: 30 days ago)")
	c.flags.Var(&to, "to", "last day, YYYY-MM-DD, inclusive (default: today)")
	c.flags.IntVar(&limit, "limit", 1000, "at most this many `entries`")
	c.check = func(args []string) []error {
		errs := append(common.check(), noArgs(args)...)
		if limit < 1 {
			errs = append(errs, errors.New("-limit: want at least 1"))
		}
		return errs
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		start, end := from.t, to.t
		if end.IsZero() {
			end = time.Now().UTC().Truncate(24 * time.Hour)
		}
		if start.IsZero() {
			start = end.AddDate(0, 0, -30)
		}
		entries, err := st.AuditLog(ctx, start, end.Add(24*time.Hour), limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tTARGET\tDETAIL")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Actor, e.Action, e.Target, e.Detail)
		}
		return tw.Flush()
	})
	return c
}
