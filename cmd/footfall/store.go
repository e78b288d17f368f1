package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/aggregator/mailreport"
	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/enrich"
	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/unsubscribe"
)

// defaultStore keeps everything in one local file, so a newcomer needs no server.
const defaultStore = "sqlite:footfall-data/footfall.db"

// backend is everything the commands use of a store; both backends satisfy it.
type backend interface {
	collector.EventWriter
	collector.SiteLister
	collector.ConsentStore
	enrich.SaltStore
	collector.Ledger
	erasure.Store
	server.Pinger
	Migrate(ctx context.Context) ([]store.MigrationFile, error)
	AddSite(ctx context.Context, domain string) (store.Site, error)
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	ConsentRecords(ctx context.Context, siteID uint32, from, to time.Time) ([]store.ConsentRecord, error)
	RetireConsentKey(ctx context.Context, kid string) error
	auth.Store
	AddUser(ctx context.Context, u store.User) error
	Users(ctx context.Context) ([]store.User, error)
	DeleteUser(ctx context.Context, id string) error
	SetTOTP(ctx context.Context, t store.TOTP) error
	DeleteTOTP(ctx context.Context, userID string) error
	AddToken(ctx context.Context, t store.Token) error
	Tokens(ctx context.Context) ([]store.Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
	retainer
	auditor
	policyRecorder
	SubjectEvents(ctx context.Context, sub store.Subject) ([]store.Event, error)
	EraseSubject(ctx context.Context, sub store.Subject) (int64, error)
	aggregator.Store
	aggregator.CellSource
	mailreport.Store
	unsubscribe.Store
	Close() error
}

// storeTarget is a parsed -store value.
type storeTarget struct {
	sqlitePath string
	clickhouse *clickhouse.Options
}

func parseStore(dsn string) (storeTarget, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if p == "" {
			return storeTarget{}, fmt.Errorf("sqlite: needs a file path, as in sqlite:footfall-data/footfall.db")
		}
		return storeTarget{sqlitePath: p}, nil
	case strings.HasPrefix(dsn, "clickhouse://"):
		opts, err := clickhouse.ParseDSN(dsn)
		if err != nil {
			return storeTarget{}, err
		}
		return storeTarget{clickhouse: &opts}, nil
	}
	return storeTarget{}, fmt.Errorf("want sqlite:PATH or clickhouse://host:9000/db, got %q", redact(dsn))
}

// describe names the store for logs and messages, without a password.
func (t storeTarget) describe() string {
	if t.clickhouse != nil {
		return fmt.Sprintf("clickhouse at %s, database %s", strings.Join(t.clickhouse.Addr, ","), t.clickhouse.Database)
	}
	return "sqlite file " + t.sqlitePath
}

// redact drops a password from a DSN before it is shown.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// openStore opens the store, retrying an unreachable ClickHouse with backoff
// for up to wait. createDatabase lets it create a missing ClickHouse database.
func openStore(ctx context.Context, t storeTarget, createDatabase bool, wait time.Duration, log *slog.Logger) (backend, error) {
	if t.clickhouse == nil {
		return sqlite.Open(ctx, t.sqlitePath)
	}
	opts := *t.clickhouse
	opts.CreateDatabase = createDatabase
	deadline := time.Now().Add(wait)
	backoff := 250 * time.Millisecond
	for {
		st, err := clickhouse.Open(ctx, opts)
		if err == nil {
			return st, nil
		}
		if errors.Is(err, clickhouse.ErrNoDatabase) {
			return nil, err // waiting will not create it
		}
		if time.Now().Add(backoff).After(deadline) {
			return nil, fmt.Errorf("store unreachable: %w (gave up after -store-wait %s)", err, wait)
		}
		log.Warn("store unreachable, retrying", "store", t.describe(), "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("store unreachable: %w", err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// migrate applies pending migrations and logs what ran.
func migrate(ctx context.Context, st backend, log *slog.Logger) error {
	applied, err := st.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range applied {
		log.Info("migration applied", "version", m.Version, "name", m.Name)
	}
	return nil
}

// openMigrated opens the store for an administrative command, creating and
// migrating it as needed so that the command works on a fresh store.
func (c *commonFlags) openMigrated(ctx context.Context, env *runEnv) (backend, error) {
	t, _ := parseStore(c.store) // validated by check
	return c.openMigratedAt(ctx, env, t)
}

// openMigratedAt is openMigrated of the store at t.
func (c *commonFlags) openMigratedAt(ctx context.Context, env *runEnv, t storeTarget) (backend, error) {
	log := c.logger(env.stderr)
	st, err := openStore(ctx, t, true, c.storeWait, log)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, st, log); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// withStore wraps an administrative command's body: the store is opened
// (created and migrated as needed) before it runs and closed after.
func (c *commonFlags) withStore(run func(ctx context.Context, env *runEnv, st backend, args []string) error) func(context.Context, *runEnv, []string) error {
	return func(ctx context.Context, env *runEnv, args []string) error {
		st, err := c.openMigrated(ctx, env)
		if err != nil {
			return err
		}
		defer st.Close()
		return run(ctx, env, st, args)
	}
}

// storeCommand completes a command that runs on the store: the common
// flags (-store, -store-wait, -log-level, -log-format) are registered on
// its flag set, and its check is theirs and no positional arguments until
// the caller sets another (which calls common.check). Its run is
// common.withStore(…).
func storeCommand(c *command) (*command, *commonFlags) {
	common := &commonFlags{}
	common.register(c.flags)
	c.check = func(args []string) []error { return append(common.check(), noArgs(args)...) }
	return c, common
}
