package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/store"
)

// dateFlag is a YYYY-MM-DD flag; the zero value means "not set".
type dateFlag struct{ t time.Time }

func (d *dateFlag) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

func (d *dateFlag) Set(s string) error {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("want YYYY-MM-DD, got %q", s)
	}
	d.t = t
	return nil
}

// siteArg resolves -site to one site, or every site when empty.
func siteArg(ctx context.Context, st backend, domain string) ([]store.Site, error) {
	if domain == "" {
		return st.Sites(ctx)
	}
	d, err := store.NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	s, err := st.SiteByDomain(ctx, d)
	if err != nil {
		return nil, err
	}
	return []store.Site{s}, nil
}

// ledgerStart is before any record: the ledger is read whole.
var ledgerStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func consentVerifyCommand() *command {
	var site string
	var cfg configFlag
	var cps checkpointFlags
	c, common := storeCommand(&command{
		name: "consent verify",
		summary: "Re-walk the consent ledger's hash chains and report the first broken link of each site, then check the ledger against the collectors' signed checkpoints " +
			"(records cut off a chain's end, or altered). Exit status 1 if anything is broken.",
		flags: flag.NewFlagSet("consent verify", flag.ContinueOnError),
	})
	c.flags.StringVar(&site, "site", "", "`domain` of the site to verify (default: every site)")
	cfg.register(c.flags, " (its retention section: checkpoints older than the ledger's keeping time may name removed records)")
	cps.register(c.flags, false)
	c.check = func(args []string) []error { return append(append(common.check(), noArgs(args)...), cfg.check()...) }
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		sites, err := siteArg(ctx, st, site)
		if err != nil {
			return err
		}
		target, _ := parseStore(common.store)
		checkpoints, files, err := cps.read(target)
		if err != nil {
			return err
		}
		// Checkpoints older than the ledger's retention may name records
		// retention removed.
		conf, err := cfg.load()
		if err != nil {
			return err
		}
		kept := retentionPlan(conf.Retention, time.Now()).LedgerBefore
		broken := 0
		for _, s := range sites {
			recs, err := st.ConsentRecords(ctx, s.ID, ledgerStart, time.Now().Add(24*time.Hour))
			if err != nil {
				return err
			}
			chains := map[string]bool{}
			for _, r := range recs {
				chains[r.ChainID.String()] = true
			}
			if br := store.VerifyChain(recs); br != nil {
				broken++
				fmt.Fprintf(env.stdout, "%s: BROKEN: %s\n", s.Domain, br)
				continue
			}
			var mine []consent.Checkpoint
			for _, cp := range checkpoints {
				if cp.SiteID == s.ID {
					mine = append(mine, cp)
				}
			}
			if brs := consent.VerifyCheckpoints(recs, mine, kept); len(brs) > 0 {
				broken++
				for _, br := range brs {
					fmt.Fprintf(env.stdout, "%s: BROKEN: %s\n", s.Domain, &br)
				}
				continue
			}
			fmt.Fprintf(env.stdout, "%s: intact (%d records in %d chains, %d checkpoints)\n", s.Domain, len(recs), len(chains), len(mine))
		}
		if len(files) == 0 {
			fmt.Fprintln(env.stdout, "no checkpoint file: only the chains were checked (records cut off a chain's end would not show)")
		}
		if broken > 0 {
			return fmt.Errorf("%d of %d sites have a broken consent ledger", broken, len(sites))
		}
		return nil
	})
	return c
}

// exportedRecord is one ledger record as written by consent export.
type exportedRecord struct {
	Site           string    `json:"site"`
	ChainID        string    `json:"chain_id"`
	Seq            uint64    `json:"seq"`
	ConsentID      string    `json:"consent_id"`
	Time           time.Time `json:"time"`
	Action         string    `json:"action"`
	Categories     []string  `json:"categories"`
	PolicyVersion  uint32    `json:"policy_version"`
	BannerHash     string    `json:"banner_hash"`
	Language       string    `json:"language"`
	GPC            bool      `json:"gpc"`
	DNT            bool      `json:"dnt"`
	SnippetVersion string    `json:"snippet_version"`
	Signal         string    `json:"signal,omitempty"` // none in records made before signals were kept
	PrevHash       string    `json:"prev_hash"`
	Hash           string    `json:"hash"`
}

func consentExportCommand() *command {
	var site, out string
	var from, to dateFlag
	c, common := storeCommand(&command{
		name:    "consent export",
		summary: "Write one site's consent ledger records in [-from, -to] as JSON lines (with their hash chain), as proof of consent for a regulator.",
		flags:   flag.NewFlagSet("consent export", flag.ContinueOnError),
	})
	c.flags.StringVar(&site, "site", "", "`domain` of the site (required)")
	c.flags.Var(&from, "from", "first day, YYYY-MM-DD (default: the ledger's start)")
	c.flags.Var(&to, "to", "last day, YYYY-MM-DD, inclusive (default: today)")
	c.flags.StringVar(&out, "out", "", "`file` to write (default: standard output)")
	c.check = func(args []string) []error {
		errs := append(common.check(), noArgs(args)...)
		if site == "" {
			errs = append(errs, errors.New("-site: required"))
		}
		if !from.t.IsZero() && !to.t.IsZero() && to.t.Before(from.t) {
			errs = append(errs, errors.New("-to: before -from"))
		}
		return errs
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		sites, err := siteArg(ctx, st, site)
		if err != nil {
			return err
		}
		start, end := from.t, to.t
		if start.IsZero() {
			start = ledgerStart
		}
		if end.IsZero() {
			end = time.Now().UTC().Truncate(24 * time.Hour)
		}
		recs, err := st.ConsentRecords(ctx, sites[0].ID, start, end.Add(24*time.Hour))
		if err != nil {
			return err
		}
		w := env.stdout
		if out != "" {
			// The records name consent ids: readable by the owner only.
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		if err := writeRecords(w, sites[0].Domain, recs); err != nil {
			return err
		}
		if out != "" {
			fmt.Fprintf(env.stderr, "wrote %d records to %s\n", len(recs), out)
		}
		return nil
	})
	return c
}

func writeRecords(w io.Writer, domain string, recs []store.ConsentRecord) error {
	enc := json.NewEncoder(w)
	for _, r := range recs {
		names := r.Granted.Names()
		if names == nil {
			names = []string{}
		}
		if err := enc.Encode(exportedRecord{
			Site: domain, ChainID: r.ChainID.String(), Seq: r.Seq, ConsentID: r.ConsentID.String(), Time: r.Time,
			Action: string(r.Action), Categories: names, PolicyVersion: r.PolicyVersion, BannerHash: r.BannerHash,
			Language: r.Language, GPC: r.GPC, DNT: r.DNT, SnippetVersion: r.SnippetVersion,
			Signal: string(r.Signal), PrevHash: hex.EncodeToString(r.PrevHash[:]), Hash: hex.EncodeToString(r.Hash[:]),
		}); err != nil {
			return fmt.Errorf("write records: %w", err)
		}
	}
	return nil
}

func consentKeysCommand() *command {
	c, common := storeCommand(&command{
		name:    "consent keys",
		summary: "List the keys that sign consent tokens (ids and state, never secrets).",
		flags:   flag.NewFlagSet("consent keys", flag.ContinueOnError),
	})
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		keys, err := st.ConsentKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tCREATED\tSTATE")
		for _, k := range keys {
			state := "verifies"
			if k.Retired {
				state = "retired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.Created.Format(time.RFC3339), state)
		}
		return tw.Flush()
	})
	return c
}

func consentRotateCommand() *command {
	c, common := storeCommand(&command{
		name:    "consent rotate-key",
		summary: "Create a new signing key. New tokens are signed with it; tokens of older keys keep verifying until those keys are retired. Collectors pick it up within -consent-refresh.",
		flags:   flag.NewFlagSet("consent rotate-key", flag.ContinueOnError),
	})
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		k, err := consent.NewKey(time.Now())
		if err != nil {
			return err
		}
		if err := st.AddConsentKey(ctx, k); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "new signing key %s\n", k.ID)
		return audit(ctx, st, "cli", "consent_key_rotate", k.ID, nil)
	})
	return c
}

func consentRetireCommand() *command {
	c, common := storeCommand(&command{
		name:    "consent retire-key",
		args:    "KID",
		summary: "Retire a signing key: tokens it signed stop verifying (their visitors are asked again). Retire a key only after rotating to a new one.",
		flags:   flag.NewFlagSet("consent retire-key", flag.ContinueOnError),
	})
	c.check = func(args []string) []error {
		errs := common.check()
		if len(args) != 1 {
			errs = append(errs, fmt.Errorf("want exactly one KID, got %d arguments", len(args)))
		}
		return errs
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, args []string) error {
		keys, err := st.ConsentKeys(ctx)
		if err != nil {
			return err
		}
		active := 0
		for _, k := range keys {
			if !k.Retired && k.ID != args[0] {
				active++
			}
		}
		if active == 0 {
			return fmt.Errorf("%s is the last active key: run footfall consent rotate-key first", args[0])
		}
		if err := st.RetireConsentKey(ctx, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "retired key %s\n", args[0])
		return audit(ctx, st, "cli", "consent_key_retire", args[0], nil)
	})
	return c
}
