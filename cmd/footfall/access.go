package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// siteScopeFlag collects -site domains: repeated, or comma-separated.
// None means every site.
type siteScopeFlag []string

func (f *siteScopeFlag) String() string { return strings.Join(*f, ",") }

func (f *siteScopeFlag) Set(s string) error {
	for _, d := range strings.Split(s, ",") {
		d, err := store.NormalizeDomain(d)
		if err != nil {
			return err
		}
		*f = append(*f, d)
	}
	return nil
}

// resolve turns the domains into site ids; nil (every site) when none.
func (f siteScopeFlag) resolve(ctx context.Context, st backend) ([]uint32, error) {
	if len(f) == 0 {
		return nil, nil
	}
	ids := make([]uint32, 0, len(f))
	for _, d := range f {
		s, err := st.SiteByDomain(ctx, d)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("site %s is not registered (footfall site add %s)", d, d)
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// grantFlags are the role, partner and site scope of a new user or token.
type grantFlags struct {
	role    string
	partner string
	sites   siteScopeFlag
}

func (g *grantFlags) register(fs *flag.FlagSet, what string) {
	fs.StringVar(&g.role, "role", "", "`role` of the "+what+": admin, analyst or partner (required)")
	fs.StringVar(&g.partner, "partner", "", "partner `name` (required for role partner, as in the config's partners)")
	fs.Var(&g.sites, "site", "`domain` the "+what+" may read; repeat or separate with commas (default: every site)")
}

func (g *grantFlags) check() []error {
	if g.role == "" {
		return []error{errors.New("-role: required (admin, analyst or partner)")}
	}
	if err := auth.ValidateGrant(auth.Role(g.role), g.partner, nil); err != nil {
		return []error{err}
	}
	return nil
}

// scopeNames shows a site scope by domain.
func scopeNames(ctx context.Context, st backend) (func([]uint32) string, error) {
	all, err := st.Sites(ctx)
	if err != nil {
		return nil, err
	}
	domains := make(map[uint32]string, len(all))
	for _, s := range all {
		domains[s.ID] = s.Domain
	}
	return func(ids []uint32) string {
		if ids == nil {
			return "all"
		}
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = domains[id]
			if names[i] == "" {
				names[i] = fmt.Sprintf("#%d", id) // a site removed since
			}
		}
		return strings.Join(names, ",")
	}, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// userAddCommand reads -password-stdin from stdin.
func userAddCommand(stdin io.Reader) *command {
	var grant grantFlags
	var email, passwordFile string
	var passwordStdin bool
	c, common := storeCommand(&command{
		name: "user add",
		summary: "Add a user who signs in to the dashboard. The password comes from -password-file or -password-stdin " +
			"(never from a flag's value, which other users of the machine could see); with neither, a random one is generated and printed once.",
		flags: flag.NewFlagSet("user add", flag.ContinueOnError),
	})
	c.flags.StringVar(&email, "email", "", "e-mail `address` the user signs in with (required)")
	grant.register(c.flags, "user")
	c.flags.StringVar(&passwordFile, "password-file", "", "`file` whose first line is the password")
	c.flags.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	c.check = func(args []string) []error {
		errs := append(common.check(), noArgs(args)...)
		if email == "" {
			errs = append(errs, errors.New("-email: required"))
		} else if _, err := auth.NormalizeEmail(email); err != nil {
			errs = append(errs, fmt.Errorf("-email: %w", err))
		}
		errs = append(errs, grant.check()...)
		if passwordFile != "" && passwordStdin {
			errs = append(errs, errors.New("-password-file and -password-stdin: give one"))
		}
		return errs
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		password, generated := "", false
		var err error
		switch {
		case passwordFile != "":
			f, err := os.Open(passwordFile)
			if err != nil {
				return fmt.Errorf("-password-file: %w", err)
			}
			password, err = firstLine(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("-password-file %s: %w", passwordFile, err)
			}
		case passwordStdin:
			if password, err = firstLine(stdin); err != nil {
				return fmt.Errorf("-password-stdin: %w", err)
			}
		default:
			password, generated = auth.GeneratePassword(), true
		}
		sites, err := grant.sites.resolve(ctx, st)
		if err != nil {
			return err
		}
		u, err := auth.NewUser(auth.UserSpec{Email: email, Role: auth.Role(grant.role), Partner: grant.partner, Sites: sites}, password, time.Now())
		if err != nil {
			return err
		}
		if err := st.AddUser(ctx, u); errors.Is(err, store.ErrUserExists) {
			return fmt.Errorf("a user with e-mail %s exists", u.Email)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added user %s (id %s, role %s, sites %s)\n", u.Email, u.ID, u.Role, grant.sites.scope())
		if generated {
			fmt.Fprintf(env.stdout, "password: %s\n", password)
			fmt.Fprintln(env.stderr, "The generated password is shown once, above: hand it to the user now.")
		}
		return audit(ctx, st, "cli", "user_add", u.ID, map[string]any{"role": u.Role, "partner": u.Partner, "sites": u.Sites})
	})
	return c
}

// scope describes the flag's site scope for a message.
func (f siteScopeFlag) scope() string {
	if len(f) == 0 {
		return "all"
	}
	return f.String()
}

// firstLine reads a password: the first line of r, without its line end.
func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password: the first line is empty")
	}
	return line, nil
}

func userListCommand() *command {
	c, common := storeCommand(&command{
		name:    "user list",
		summary: "List the users: e-mail address, id, role, partner and sites (never passwords or their hashes).",
		flags:   flag.NewFlagSet("user list", flag.ContinueOnError),
	})
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		names, err := scopeNames(ctx, st)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tID\tROLE\tPARTNER\tSITES\tADDED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, u.ID, u.Role, dash(u.Partner), names(u.Sites), u.CreatedAt.Format(time.DateOnly))
		}
		return tw.Flush()
	})
	return c
}

// oneEmail checks the arguments of a command on one user: one e-mail address.
func oneEmail(args []string) []error {
	if len(args) != 1 {
		return []error{fmt.Errorf("want exactly one EMAIL, got %d arguments", len(args))}
	}
	if _, err := auth.NormalizeEmail(args[0]); err != nil {
		return []error{err}
	}
	return nil
}

// userArg finds the user an EMAIL argument names.
func userArg(ctx context.Context, st backend, arg string) (store.User, error) {
	email, _ := auth.NormalizeEmail(arg)
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("no user has e-mail %s", email)
	}
	return u, err
}

func userDeleteCommand() *command {
	c, common := storeCommand(&command{
		name:    "user delete",
		args:    "EMAIL",
		summary: "Delete a user. Their sessions end at once.",
		flags:   flag.NewFlagSet("user delete", flag.ContinueOnError),
	})
	c.check = func(args []string) []error { return append(common.check(), oneEmail(args)...) }
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, args []string) error {
		u, err := userArg(ctx, st, args[0])
		if err != nil {
			return err
		}
		if err := st.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "deleted user %s (id %s)\n", u.Email, u.ID)
		return audit(ctx, st, "cli", "user_delete", u.ID, nil)
	})
	return c
}

func userTOTPCommand() *command {
	var disable bool
	c, common := storeCommand(&command{
		name: "user totp",
		args: "EMAIL",
		summary: "Turn on two-factor sign-in for a user: prints, once, the otpauth:// URL (show it as a QR code, or type the secret into an authenticator app); " +
			"from then on the dashboard asks for the app's 6-digit code after the password. Running it again replaces the secret. " +
			"With -disable, turns it off: the way back for a user who lost their authenticator.",
		flags: flag.NewFlagSet("user totp", flag.ContinueOnError),
	})
	c.flags.BoolVar(&disable, "disable", false, "remove the user's second factor instead")
	c.check = func(args []string) []error { return append(common.check(), oneEmail(args)...) }
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, args []string) error {
		u, err := userArg(ctx, st, args[0])
		if err != nil {
			return err
		}
		if disable {
			err := st.DeleteTOTP(ctx, u.ID)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s has no second factor", u.Email)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stderr, "two-factor sign-in off for %s: the password alone signs in\n", u.Email)
			return audit(ctx, st, "cli", "user_totp_disable", u.ID, nil)
		}
		factor, link, err := auth.NewTOTP(u.ID, u.Email, time.Now())
		if err != nil {
			return err
		}
		if err := st.SetTOTP(ctx, factor); err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, link)
		fmt.Fprintf(env.stderr, "two-factor sign-in on for %s: give them the URL above (its secret= is for typing in), shown once\n", u.Email)
		return audit(ctx, st, "cli", "user_totp_enable", u.ID, nil)
	})
	return c
}

func tokenCreateCommand() *command {
	var grant grantFlags
	var name string
	c, common := storeCommand(&command{
		name: "token create",
		summary: "Create an API token for the reports API (admin, analyst) or the partner API (partner) and print it once, " +
			"alone on standard output. Only its SHA-256 is stored: a lost token cannot be shown again; revoke it and create another.",
		flags: flag.NewFlagSet("token create", flag.ContinueOnError),
	})
	grant.register(c.flags, "token")
	c.flags.StringVar(&name, "name", "", "`label` saying what the token is for, shown by token list")
	c.check = func(args []string) []error {
		errs := append(common.check(), noArgs(args)...)
		return append(errs, grant.check()...)
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		sites, err := grant.sites.resolve(ctx, st)
		if err != nil {
			return err
		}
		tok, secret, err := auth.NewToken(auth.TokenSpec{Role: auth.Role(grant.role), Partner: grant.partner, Sites: sites, Name: name}, time.Now())
		if err != nil {
			return err
		}
		if err := st.AddToken(ctx, tok); err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, secret)
		fmt.Fprintf(env.stderr, "Created token %s (role %s, sites %s). It is shown once, above: store it now.\n", tok.ID, tok.Role, grant.sites.scope())
		return audit(ctx, st, "cli", "token_create", tok.ID, map[string]any{"role": tok.Role, "partner": tok.Partner, "sites": tok.Sites, "name": tok.Name})
	})
	return c
}

func tokenListCommand() *command {
	c, common := storeCommand(&command{
		name:    "token list",
		summary: "List the API tokens: id, label, role, partner, sites, when created and last used (to the hour), and whether revoked. Never the tokens themselves.",
		flags:   flag.NewFlagSet("token list", flag.ContinueOnError),
	})
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		tokens, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		names, err := scopeNames(ctx, st)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tPARTNER\tSITES\tCREATED\tLAST USED\tSTATE")
		for _, t := range tokens {
			used := "never"
			if !t.LastUsed.IsZero() {
				used = t.LastUsed.Format(time.RFC3339)
			}
			state := "active"
			if t.Revoked() {
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, dash(t.Name), t.Role, dash(t.Partner), names(t.Sites),
				t.CreatedAt.Format(time.RFC3339), used, state)
		}
		return tw.Flush()
	})
	return c
}

func tokenRevokeCommand() *command {
	c, common := storeCommand(&command{
		name:    "token revoke",
		args:    "ID",
		summary: "Revoke an API token by its id (as token list shows it). Requests with it are refused at once.",
		flags:   flag.NewFlagSet("token revoke", flag.ContinueOnError),
	})
	c.check = func(args []string) []error {
		errs := common.check()
		if len(args) != 1 {
			return append(errs, fmt.Errorf("want exactly one token ID, got %d arguments", len(args)))
		}
		switch {
		case strings.HasPrefix(args[0], "ff_"):
			// Not echoed: it may be a whole token, secret included.
			errs = append(errs, errors.New("give the token's id (16 hex digits, as token list shows), not the token"))
		case !auth.ValidTokenID(args[0]):
			errs = append(errs, fmt.Errorf("%q is not a token id (16 hex digits, as token list shows)", args[0]))
		}
		return errs
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, args []string) error {
		if err := st.RevokeToken(ctx, args[0], time.Now()); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no token has id %s", args[0])
		} else if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "revoked token %s\n", args[0])
		return audit(ctx, st, "cli", "token_revoke", args[0], nil)
	})
	return c
}
