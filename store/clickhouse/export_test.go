package clickhouse

import (
	"context"
	"os"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

// Endless runs a query that never ends by itself, as the report queries
// run: under ctx's budget.
func (s *Store) Endless(ctx context.Context) error {
	var n uint64
	err := s.conn.QueryRow(budgeted(ctx, nil), "SELECT count() FROM system.numbers").Scan(&n)
	return budgetErr(ctx, err)
}

// MigrateTo applies the pending migrations up to version: the schema as
// an older release left it.
func (s *Store) MigrateTo(ctx context.Context, version int) ([]store.MigrationFile, error) {
	return s.migrate(ctx, version)
}

// InsertVisits writes the visit rows and rollups of spec's windows (but
// the e-mail ones) as ReplaceRollups does, or, with reference, by the SQL
// statements insertVisits replaced (testdata/*_reference.sql).
func (s *Store) InsertVisits(ctx context.Context, spec store.RollupSpec, reference bool) error {
	if _, err := spec.Validate(); err != nil {
		return err
	}
	args := append(append(windowArgs(spec.SiteID, spec.Granularity, spec.TimeZone, spec.From, spec.To), goalArgs(nil, "g")...),
		ch.Named("dims", store.TouchedDimensions),
		ch.Named("touched_version", store.TouchedVersion),
		ch.Named("exclude_gpc", 0),
		ch.Named("partial", boolUInt8(spec.Partial)),
		ch.Named("version", spec.Version),
	)
	if !reference {
		return s.insertVisits(ctx, spec, args)
	}
	for _, name := range []string{"visits_insert_reference", "rollups_insert_sessions_reference", "rollups_insert_events_reference"} {
		body, err := os.ReadFile("testdata/" + name + ".sql")
		if err != nil {
			return err
		}
		q, err := store.ExpandDimensions(name, string(body))
		if err != nil {
			return err
		}
		if name != "visits_insert_reference" {
			args = append(args, ch.Named("dims", store.RollupDimensions))
		}
		if err := s.conn.Exec(ch.Context(ctx, ch.WithSettings(aggregationSettings)), expandFragments(q, 0), args...); err != nil {
			return err
		}
	}
	return nil
}
