package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web"
)

func snippetCommand() *command {
	var site, publicURL string
	c := &command{
		name: "snippet",
		summary: "Print the <script> tag a site embeds: this release's versioned tracker, pinned with its SRI hash. " +
			"Every release changes the hash: print it again after upgrading, or embed /f.js without integrity to follow releases.",
		flags: flag.NewFlagSet("snippet", flag.ContinueOnError),
	}
	c.flags.StringVar(&site, "site", "", "the site's `domain`, as registered with footfall site add (required)")
	c.flags.StringVar(&publicURL, "public-url", "http://127.0.0.1:8080", "the `URL` at which browsers reach the collector")
	c.check = func(args []string) []error {
		errs := noArgs(args)
		if site == "" {
			errs = append(errs, errors.New("-site: required, as in -site example.com"))
		} else if _, err := store.NormalizeDomain(site); err != nil {
			errs = append(errs, fmt.Errorf("-site: %w", err))
		}
		if u, err := url.Parse(publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("-public-url: want http(s)://host[:port], got %q", publicURL))
		}
		return errs
	}
	c.run = func(_ context.Context, env *runEnv, _ []string) error {
		b, err := web.Build()
		if err != nil {
			return err
		}
		domain, _ := store.NormalizeDomain(site)
		fmt.Fprintln(env.stdout, web.SnippetTag(b, publicURL, domain))
		return nil
	}
	return c
}
