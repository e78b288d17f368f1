package clickhouse

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"time"

	"github.com/footfall/footfall/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var (
	qCreateSchemaMigrations = mustQuery("schema_migrations_create")
	qSchemaMigrations       = mustQuery("schema_migrations")
	qInsertSchemaMigration  = mustQuery("schema_migrations_insert")
)

// Migrate applies every embedded migration not yet recorded in
// schema_migrations, in version order, and returns the ones it applied (none
// when the schema is current). Each migration's statements run one by one;
// the migration is recorded after its last statement succeeds, so a failed
// migration is retried whole next time (its statements are idempotent). On
// error it also returns the migrations applied before the failure. In
// cluster mode each statement is rewritten to run ON CLUSTER (cluster.go).
func (s *Store) Migrate(ctx context.Context) ([]store.MigrationFile, error) {
	return s.migrate(ctx, math.MaxInt)
}

// migrate applies the pending migrations up to version upTo (the tests
// build an older schema with it).
func (s *Store) migrate(ctx context.Context, upTo int) ([]store.MigrationFile, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	files, err := store.ReadMigrations(sub)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ddl := s.ddlContext(ctx)
	create, err := s.cluster.migration(qCreateSchemaMigrations)
	if err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for _, stmt := range create {
		if err := s.conn.Exec(ddl, stmt); err != nil {
			return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
		}
	}
	done, err := s.Migrations(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make(map[int]bool, len(done))
	for _, m := range done {
		applied[m.Version] = true
	}
	var out []store.MigrationFile
	for _, f := range files {
		if applied[f.Version] || f.Version > upTo {
			continue
		}
		for i, stmt := range f.Statements {
			rewritten, err := s.cluster.migration(stmt)
			if err != nil {
				return out, fmt.Errorf("migrate: %03d_%s statement %d: %w", f.Version, f.Name, i+1, err)
			}
			for _, stmt := range rewritten {
				if err := s.conn.Exec(ddl, stmt); err != nil {
					return out, fmt.Errorf("migrate: %03d_%s statement %d: %w", f.Version, f.Name, i+1, err)
				}
			}
		}
		if err := s.recordMigration(ctx, f); err != nil {
			return out, fmt.Errorf("migrate: record %03d_%s: %w", f.Version, f.Name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// recordMigration writes one schema_migrations row. It is a one-row batch:
// an INSERT … VALUES sent with Exec hangs on 18.16.
func (s *Store) recordMigration(ctx context.Context, f store.MigrationFile) error {
	batch, err := s.conn.PrepareBatch(ctx, qInsertSchemaMigration)
	if err != nil {
		return err
	}
	defer batch.Close()
	if err := batch.Append(uint32(f.Version), f.Name, time.Now().UTC().Truncate(time.Second)); err != nil {
		return err
	}
	return batch.Send()
}

// Migrations lists the applied migrations, oldest first.
func (s *Store) Migrations(ctx context.Context) ([]store.Migration, error) {
	rows, err := s.conn.Query(ctx, qSchemaMigrations)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	var out []store.Migration
	for rows.Next() {
		var (
			version uint32
			m       store.Migration
		)
		if err := rows.Scan(&version, &m.Name, &m.AppliedAt); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		m.Version = int(version)
		m.AppliedAt = m.AppliedAt.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return out, nil
}
