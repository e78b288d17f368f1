package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/footfall/footfall/web/auth"
)

// firstAdmin is the e-mail address of the admin serve creates on an
// embedded store that has no users.
const firstAdmin = "admin@localhost"

// ensureFirstUser makes sure a newcomer can sign in to the dashboard.
// When the store has no users at all, on the embedded store it creates
// firstAdmin with a random password and prints both once to stderr (the
// console, never the structured log); on ClickHouse, where several
// collectors start at once, it only says how to create one.
func ensureFirstUser(ctx context.Context, st backend, t storeTarget, stderr io.Writer, addr string, log *slog.Logger) error {
	users, err := st.Users(ctx)
	if err != nil {
		return fmt.Errorf("first user: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	if t.clickhouse != nil {
		log.Warn("no dashboard users yet: create one with footfall user add -email you@example.com -role admin")
		return nil
	}
	password, err := addAdmin(ctx, st, firstAdmin)
	if err != nil {
		return fmt.Errorf("first user: %w", err)
	}
	fmt.Fprintf(stderr, "\nFootfall: no users yet, so an admin was created. Open http://%s/ and sign in as\n  e-mail:   %s\n  password: %s\n"+
		"This password is shown only now. Add your own users with footfall user add -email you@example.com -role admin,\n"+
		"then remove this one with footfall user delete %s.\n\n", addr, firstAdmin, password, firstAdmin)
	return nil
}

// addAdmin adds an admin with a fresh random password, records it in the
// audit log and returns the password.
func addAdmin(ctx context.Context, st backend, email string) (string, error) {
	password := auth.GeneratePassword()
	u, err := auth.NewUser(auth.UserSpec{Email: email, Role: auth.RoleAdmin}, password, time.Now())
	if err != nil {
		return "", err
	}
	if err := st.AddUser(ctx, u); err != nil {
		return "", err
	}
	return password, audit(ctx, st, "serve", "user_add", u.ID, map[string]any{"role": u.Role})
}
