package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/store"
)

// subjectFlags name the subject of an erasure or access request.
type subjectFlags struct {
	consentID, userID, ip, site string
}

func (f *subjectFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.consentID, "consent-id", "", "the visitor's consent `id`")
	fs.StringVar(&f.userID, "user-id", "", "a signed-in user `id` (as the site sent it)")
	fs.StringVar(&f.ip, "ip", "", "a raw client `IP` (only events whose raw IP is still kept); needs -site")
	fs.StringVar(&f.site, "site", "", "`domain` of the site, with -ip")
}

func (f *subjectFlags) check() []error {
	n := 0
	for _, v := range []string{f.consentID, f.userID, f.ip} {
		if v != "" {
			n++
		}
	}
	var errs []error
	if n != 1 {
		errs = append(errs, errors.New("give exactly one of -consent-id, -user-id or -ip"))
	}
	if f.consentID != "" {
		if _, err := uuid.Parse(f.consentID); err != nil {
			errs = append(errs, errors.New("-consent-id: want a UUID"))
		}
	}
	if f.ip != "" {
		if _, err := netip.ParseAddr(f.ip); err != nil {
			errs = append(errs, fmt.Errorf("-ip: %q is not an IP address", f.ip))
		}
		if f.site == "" {
			errs = append(errs, errors.New("-ip needs -site"))
		}
	}
	return errs
}

// subject resolves the flags to a store.Subject (check has validated them).
func (f *subjectFlags) subject(ctx context.Context, st backend) (store.Subject, string, error) {
	switch {
	case f.consentID != "":
		id, _ := uuid.Parse(f.consentID)
		sub := store.Subject{ConsentID: id}
		return sub, sub.Label(""), nil
	case f.userID != "":
		sub := store.Subject{UserID: f.userID}
		return sub, sub.Label(""), nil
	}
	sites, err := siteArg(ctx, st, f.site)
	if err != nil {
		return store.Subject{}, "", err
	}
	// The audit log names the site, not the IP.
	sub := store.Subject{IP: f.ip, SiteID: sites[0].ID}
	return sub, sub.Label(sites[0].Domain), nil
}

// subjectCommand is a command on one subject (erase, access): the subject
// flags, then do with the store, the subject-rights service and the
// subject. No erasure loop runs in a command, so a consent id's erasure is
// recorded and done at once.
func subjectCommand(name, summary string, do func(ctx context.Context, env *runEnv, st backend, s *subject.Service, sub store.Subject, label string) error) *command {
	var sub subjectFlags
	c, common := storeCommand(&command{name: name, summary: summary, flags: flag.NewFlagSet(name, flag.ContinueOnError)})
	sub.register(c.flags)
	c.check = func(args []string) []error { return append(append(common.check(), noArgs(args)...), sub.check()...) }
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		s, label, err := sub.subject(ctx, st)
		if err != nil {
			return err
		}
		service := subject.New(subject.Options{Store: st, Erasures: erasure.New(erasure.Options{Store: st}), Inline: true})
		return do(ctx, env, st, service, s, label)
	})
	return c
}

func eraseCommand() *command {
	return subjectCommand("erase", "Erase every raw event of one subject (a consent id, a user id, or a raw IP on one site) and print a receipt. "+
		"The consent ledger keeps its records as proof; published aggregates hold no subject.",
		func(ctx context.Context, env *runEnv, st backend, s *subject.Service, sub store.Subject, label string) error {
			r, err := s.Erase(ctx, sub, label, 0)
			if err != nil {
				return err
			}
			if err := json.NewEncoder(env.stdout).Encode(r); err != nil {
				return err
			}
			return audit(ctx, st, "cli", "erase", label, r)
		})
}

func accessCommand() *command {
	return subjectCommand("access", "Print, as JSON, every raw event held about one subject (a consent id, a user id, or a raw IP on one site): the answer to a subject access request.",
		func(ctx context.Context, env *runEnv, st backend, s *subject.Service, sub store.Subject, label string) error {
			out, err := s.Access(ctx, sub, label)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				return err
			}
			return audit(ctx, st, "cli", "access", label, map[string]any{"events": len(out.Events)})
		})
}
