package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/footfall/footfall/collector/links"

	"github.com/footfall/footfall/store"
)

func linkSignCommand() *command {
	var site, campaign, linkID, target, cats, base, subscriber string
	var days int
	c, common := storeCommand(&command{
		name: "link sign",
		summary: "Sign a newsletter link and open pixel. Prints the tracked click URL (/r/TOKEN, a 302 to -target) and the open pixel URL (/p/TOKEN.gif). " +
			"They are recorded only when -consent includes marketing: pass the subscriber's consent, as your newsletter tool knows it.",
		flags: flag.NewFlagSet("link sign", flag.ContinueOnError),
	})
	c.flags.StringVar(&site, "site", "", "`domain` whose statistics the link counts in (required)")
	c.flags.StringVar(&campaign, "campaign", "", "campaign `name` (required)")
	c.flags.StringVar(&linkID, "link", "", "link `id` within the campaign")
	c.flags.StringVar(&target, "target", "", "`URL` the click redirects to (none: an open pixel only)")
	c.flags.StringVar(&cats, "consent", "", "the subscriber's consent, comma-separated: `categories` among analytics, marketing")
	c.flags.IntVar(&days, "expires-days", links.DefaultDays, "track opens and clicks for this many `days` (the link keeps redirecting after)")
	c.flags.StringVar(&subscriber, "subscriber", "", "your newsletter tool's `reference` of the subscriber (an id, never an address): their opens and clicks are erasable with footfall erase -user-id subscriber:REFERENCE")
	c.flags.StringVar(&base, "base", "http://127.0.0.1:8080", "public base `URL` of the collector")
	c.check = func(args []string) []error {
		errs := append(common.check(), noArgs(args)...)
		if site == "" {
			errs = append(errs, errors.New("-site: required"))
		}
		if _, err := parseCategoryList(cats); err != nil {
			errs = append(errs, fmt.Errorf("-consent: %w", err))
		}
		if days < 1 || days > links.MaxDays {
			errs = append(errs, fmt.Errorf("-expires-days: want 1 to %d, got %d", links.MaxDays, days))
		}
		if len(subscriber) > links.MaxSubscriberLen {
			errs = append(errs, fmt.Errorf("-subscriber: at most %d bytes", links.MaxSubscriberLen))
		}
		if u, err := url.Parse(base); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("-base: want an absolute URL, got %q", base))
		}
		return errs
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		sites, err := siteArg(ctx, st, site)
		if err != nil {
			return err
		}
		keys, err := st.ConsentKeys(ctx)
		if err != nil {
			return err
		}
		granted, _ := parseCategoryList(cats)
		expires := time.Now().UTC().Truncate(time.Second).AddDate(0, 0, days)
		tok, err := links.NewSigner(keys).Sign(links.Link{SiteID: sites[0].ID, Campaign: campaign, LinkID: linkID, Target: target, Consent: granted,
			Expires: expires, Subscriber: subscriber})
		if errors.Is(err, links.ErrUnknownKey) {
			return errors.New("no signing key yet: run footfall serve once, or footfall consent rotate-key")
		}
		if err != nil {
			return err
		}
		base = strings.TrimSuffix(base, "/")
		if target != "" {
			fmt.Fprintf(env.stdout, "click: %s/r/%s\n", base, tok)
		}
		fmt.Fprintf(env.stdout, "open:  %s/p/%s.gif\n", base, tok)
		if !granted.Has(store.ConsentMarketing) {
			fmt.Fprintln(env.stderr, "note: without marketing consent the link redirects but nothing is recorded")
		}
		return nil
	})
	return c
}

func parseCategoryList(s string) (store.Categories, error) {
	m := map[string]bool{}
	for _, name := range splitList(s) {
		m[name] = true
	}
	return store.ParseCategories(m)
}
