package enrich

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/footfall/footfall/store"
)

// memSalts is an in-memory SaltStore that enforces what the real backends
// do: a cancelled context fails every call, salts are whole UTC days of
// store.SaltSize bytes, and callers get copies, never the stored slices.
type memSalts struct {
	mu      sync.Mutex
	salts   []store.Salt
	unique  bool // refuse a second salt of a day, as a store with a unique key does
	stamp   bool // set Created on insert, strictly increasing, as a store's clock does
	last    time.Time
	fail    error // every call fails with it when set
	calls   int
	deletes int // DeleteSaltsBefore calls
	// beforeAdd runs before AddSalt stores, outside the lock; tests use it
	// to line up replicas.
	beforeAdd func()
}

// lockedBuffer is a log sink safe for concurrent writers and readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

var errDuplicateDay = errors.New("salt of that day exists")

func (m *memSalts) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	return m.fail
}

func (m *memSalts) Salts(ctx context.Context) ([]store.Salt, error) {
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.Salt, len(m.salts))
	for i, s := range m.salts {
		s.Secret = bytes.Clone(s.Secret)
		out[i] = s
	}
	return out, nil
}

func (m *memSalts) AddSalt(ctx context.Context, s store.Salt) error {
	if err := m.begin(ctx); err != nil {
		return err
	}
	if !s.Day.Equal(utcDay(s.Day)) || s.Day.Location() != time.UTC {
		return fmt.Errorf("salt day %v is not a UTC midnight", s.Day)
	}
	if len(s.Secret) != store.SaltSize {
		return fmt.Errorf("salt of %d bytes", len(s.Secret))
	}
	if m.beforeAdd != nil {
		m.beforeAdd()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unique && slices.ContainsFunc(m.salts, func(x store.Salt) bool { return x.Day.Equal(s.Day) }) {
		return errDuplicateDay
	}
	if m.stamp {
		s.Created = time.Now()
		if !s.Created.After(m.last) {
			s.Created = m.last.Add(time.Nanosecond)
		}
		m.last = s.Created
	}
	s.Secret = bytes.Clone(s.Secret)
	m.salts = append(m.salts, s)
	return nil
}

func (m *memSalts) DeleteSaltsBefore(ctx context.Context, day time.Time) error {
	if err := m.begin(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes++
	m.salts = slices.DeleteFunc(m.salts, func(x store.Salt) bool { return x.Day.Before(day) })
	return nil
}

// days lists the days of the stored salts, sorted, as 2006-01-02.
func (m *memSalts) days() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, s := range m.salts {
		out = append(out, s.Day.Format(time.DateOnly))
	}
	slices.Sort(out)
	return out
}

func (m *memSalts) callCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// newTestEnricher returns an Enricher closed at the end of the test, with
// an in-memory salt store unless opts has one.
func newTestEnricher(t testing.TB, opts Options) *Enricher {
	t.Helper()
	if opts.Salts == nil {
		opts.Salts = &memSalts{}
	}
	if opts.UAParsesPerMinute == 0 {
		opts.UAParsesPerMinute = -1 // the classification tables send many from one client
	}
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// readCSV returns the rows of a testdata CSV file as maps by header name.
func readCSV(t testing.TB, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(records) < 2 {
		t.Fatalf("%s: no rows", name)
	}
	var rows []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, h := range records[0] {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// Test databases. Network → record; the records use the GeoIP2 field names.
var (
	testCity = map[string]mmdbtype.Map{
		"203.0.113.0/24": {
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String("DE"), "names": mmdbtype.Map{"en": mmdbtype.String("Germany")}},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("BE"), "names": mmdbtype.Map{"en": mmdbtype.String("Land Berlin")}}},
			"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Berlin"), "de": mmdbtype.String("Berlin")}},
		},
		"2001:db8:85a3::/48": {
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String("FR")},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("IDF")}, mmdbtype.Map{"iso_code": mmdbtype.String("75")}},
			"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Paris")}},
		},
	}
	testASN = map[string]mmdbtype.Map{
		"203.0.113.0/24":     {"autonomous_system_number": mmdbtype.Uint32(64500), "autonomous_system_organization": mmdbtype.String("Example Transit AS")},
		"2001:db8:85a3::/48": {"autonomous_system_number": mmdbtype.Uint32(64501), "autonomous_system_organization": mmdbtype.String("Example Six AS")},
	}
	testISP = map[string]mmdbtype.Map{
		"203.0.113.0/24": {"autonomous_system_number": mmdbtype.Uint32(64500), "autonomous_system_organization": mmdbtype.String("Example Transit AS"), "isp": mmdbtype.String("Example Broadband")},
	}
)

// writeMMDB builds a small MaxMind database of the given type in a temp dir.
func writeMMDB(t testing.TB, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(network, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
