// Package sqlitetest gives tests a real SQLite store: a fresh file in the
// test's temporary folder, migrated, closed when the test ends.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/footfall/footfall/store/sqlite"
)

// Open returns a migrated store in a new file under t.TempDir.
func Open(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "footfall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
