// Package sqlite is the embedded storage backend: one SQLite file in WAL
// mode, through the pure-Go modernc.org/sqlite driver, so Footfall runs with
// no server at all.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/footfall/footfall/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed queries/*.sql
var queryFiles embed.FS

// Store is a Footfall store in one SQLite file.
type Store struct {
	db      *sql.DB
	path    string
	queries map[string]string
}

// Open opens (creating if needed) the SQLite file at path and its folder.
// The file holds signing keys, salts, password hashes and raw IPs: it is
// readable by its owner only (0600, and so are the -wal and -shm files
// SQLite creates beside it with the same mode), and a folder Open creates
// is 0700.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite at %s: %w", path, err)
		}
	}
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlite at %s: %w", path, err)
	}
	// WAL lets the dashboard read while the collector writes; busy_timeout
	// makes concurrent writers wait for the lock instead of failing.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite at %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite at %s: %w", path, err)
	}
	queries, err := loadQueries()
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, path: path, queries: queries}, nil
}

// ownerOnly creates the database file with mode 0600, or takes group and
// other permissions away from an existing one and its -wal and -shm files
// (made 0644 by earlier versions).
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

func loadQueries() (map[string]string, error) {
	entries, err := fs.ReadDir(queryFiles, "queries")
	if err != nil {
		return nil, fmt.Errorf("read queries: %w", err)
	}
	q := make(map[string]string, len(entries))
	for _, e := range entries {
		b, err := fs.ReadFile(queryFiles, "queries/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read query %s: %w", e.Name(), err)
		}
		name := strings.TrimSuffix(e.Name(), ".sql")
		if q[name], err = store.ExpandDimensions(name, string(b)); err != nil {
			return nil, err
		}
	}
	columns := q["event_columns"]
	params := strings.TrimSuffix(strings.Repeat("?, ", eventParams), ", ")
	for name, sql := range q {
		q[name] = store.InlineFragment(store.InlineFragment(sql, "event_columns", columns), "event_params", params)
	}
	return q, nil
}

// eventParams is how many columns queries/event_columns.sql lists: the
// parameters of one row of insert_event.sql ({{event_params}}).
var eventParams = func() int {
	b, err := fs.ReadFile(queryFiles, "queries/event_columns.sql")
	if err != nil {
		panic(fmt.Sprintf("sqlite: %v", err))
	}
	return strings.Count(store.InlineFragment("{{c}}", "c", string(b)), ",") + 1
}()

// query returns the embedded SQL of that name; a missing name is a bug.
func (s *Store) query(name string) string {
	q, ok := s.queries[name]
	if !ok {
		panic("sqlite: no query named " + name)
	}
	return q
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite at %s: %w", s.path, err)
	}
	return nil
}

// Migrate applies every migration not yet recorded in schema_migrations, each
// in its own transaction, and returns those it applied.
func (s *Store) Migrate(ctx context.Context) ([]store.MigrationFile, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	files, err := store.ReadMigrations(sub)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, s.query("create_schema_migrations")); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	done, err := s.Migrations(ctx)
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	for _, m := range done {
		applied[m.Version] = true
	}
	var ran []store.MigrationFile
	for _, f := range files {
		if applied[f.Version] {
			continue
		}
		if err := s.apply(ctx, f); err != nil {
			return ran, err
		}
		ran = append(ran, f)
	}
	return ran, nil
}

func (s *Store) apply(ctx context.Context, f store.MigrationFile) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %03d_%s: %w", f.Version, f.Name, err)
	}
	defer tx.Rollback()
	for _, stmt := range f.Statements {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %03d_%s: %w", f.Version, f.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.query("record_migration"), f.Version, f.Name, time.Now().Unix()); err != nil {
		return fmt.Errorf("record migration %03d_%s: %w", f.Version, f.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %03d_%s: %w", f.Version, f.Name, err)
	}
	return nil
}

// Migrations lists the applied migrations in version order.
func (s *Store) Migrations(ctx context.Context) ([]store.Migration, error) {
	rows, err := s.db.QueryContext(ctx, s.query("migrations"))
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	var out []store.Migration
	for rows.Next() {
		var m store.Migration
		var at int64
		if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		m.AppliedAt = time.Unix(at, 0).UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return out, nil
}

// AddSite registers a domain under a new random id.
func (s *Store) AddSite(ctx context.Context, domain string) (store.Site, error) {
	site := store.Site{Domain: domain, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	for i := range 5 {
		site.ID = rand.Uint32()
		if i == 0 {
			site.ID = store.SiteID(domain) // as on ClickHouse: the same site, the same id
		}
		if site.ID == 0 {
			continue
		}
		_, err := s.db.ExecContext(ctx, s.query("insert_site"), site.ID, site.Domain, site.CreatedAt.Unix())
		if err == nil {
			return site, nil
		}
		var se *sqlite3.Error
		if !errors.As(err, &se) || se.Code() != sqlite3lib.SQLITE_CONSTRAINT_UNIQUE && se.Code() != sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY {
			return store.Site{}, fmt.Errorf("add site: %w", err)
		}
		if strings.Contains(err.Error(), "sites.domain") {
			return store.Site{}, fmt.Errorf("add site %s: %w", domain, store.ErrSiteExists)
		}
		// An id collision: draw another.
	}
	return store.Site{}, fmt.Errorf("add site %s: no free id after 5 draws", domain)
}

// SiteByDomain returns the site registered for domain, or store.ErrNotFound.
func (s *Store) SiteByDomain(ctx context.Context, domain string) (store.Site, error) {
	site, err := scanSite(s.db.QueryRowContext(ctx, s.query("site_by_domain"), domain))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Site{}, fmt.Errorf("site %s: %w", domain, store.ErrNotFound)
	}
	if err != nil {
		return store.Site{}, fmt.Errorf("site %s: %w", domain, err)
	}
	return site, nil
}

// Sites lists every site by domain.
func (s *Store) Sites(ctx context.Context) ([]store.Site, error) {
	rows, err := s.db.QueryContext(ctx, s.query("sites"))
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []store.Site
	for rows.Next() {
		site, err := scanSite(rows)
		if err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		out = append(out, site)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanSite(row scanner) (store.Site, error) {
	var site store.Site
	var created int64
	if err := row.Scan(&site.ID, &site.Domain, &created); err != nil {
		return store.Site{}, err
	}
	site.CreatedAt = time.Unix(created, 0).UTC()
	return site, nil
}
