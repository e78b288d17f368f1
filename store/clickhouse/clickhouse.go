// Package clickhouse stores Footfall's sites and raw events in ClickHouse.
//
// It speaks the native protocol only and keeps to SQL that runs on both
// ClickHouse 18.16 and current releases (see clickhouse-compat.md): every
// statement lives in an embedded .sql file, values are bound client-side,
// writes go through PrepareBatch with an explicit column list, and readers of
// the events table use FINAL so a replayed event counts once.
package clickhouse

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/footfall/footfall/store"
)

// Options says how to reach ClickHouse.
type Options struct {
	// Addr lists native-protocol endpoints as host:port (usually port 9000).
	// They are tried in order; at least one is required.
	Addr []string
	// Database holds Footfall's tables; default "footfall". Only letters,
	// digits and underscores.
	Database string
	// Username and Password authenticate; the default user is "default"
	// with no password.
	Username string
	Password string
	// DialTimeout bounds opening a connection, handshake included; default
	// 3s. A server that accepts TCP but never answers fails after this long.
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for the server on an open connection;
	// default 60s.
	ReadTimeout time.Duration
	// Cluster, when set, is the name of a cluster in the servers'
	// remote_servers config: migrations run ON CLUSTER, tables become
	// Replicated*MergeTree tables named <table>_local behind Distributed
	// tables of the original names, and mutations go to the local tables
	// ON CLUSTER (see cluster.go). Needs ZooKeeper or ClickHouse Keeper.
	// Only letters, digits and underscores.
	Cluster string
	// CreateDatabase makes Open create Database if it does not exist. Only
	// the migrate step should set it; everything else expects a migrated
	// database.
	CreateDatabase bool
}

func (o Options) withDefaults() Options {
	if o.Database == "" {
		o.Database = "footfall"
	}
	if o.Username == "" {
		o.Username = "default"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	return o
}

var databaseName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// validDatabase reports an error for a database name that is not safe to
// write into a statement as an identifier.
func validDatabase(name string) error {
	if !databaseName.MatchString(name) {
		return fmt.Errorf("database name %q: use only letters, digits and underscores", name)
	}
	return nil
}

func (o Options) validate() error {
	var errs []error
	if len(o.Addr) == 0 {
		errs = append(errs, errors.New("no address given"))
	}
	for _, a := range o.Addr {
		if strings.TrimSpace(a) == "" {
			errs = append(errs, errors.New("empty address"))
		}
	}
	if err := validDatabase(o.Database); err != nil {
		errs = append(errs, err)
	}
	if o.Cluster != "" && !databaseName.MatchString(o.Cluster) {
		errs = append(errs, fmt.Errorf("cluster name %q: use only letters, digits and underscores", o.Cluster))
	}
	return errors.Join(errs...)
}

// chOptions are the driver options for a connection whose default database
// is database ("" for the server's default).
func (o Options) chOptions(database string) *ch.Options {
	var settings ch.Settings
	if o.Cluster != "" {
		// Inserts through a Distributed table reach their shards before
		// the insert returns (an int setting: 18.16 cannot take strings;
		// modern servers know it as an alias of distributed_foreground_insert).
		settings = ch.Settings{"insert_distributed_sync": 1}
	}
	return &ch.Options{
		Settings: settings,
		Protocol: ch.Native,
		Addr:     o.Addr,
		Auth: ch.Auth{
			Database: database,
			Username: o.Username,
			Password: o.Password,
		},
		DialTimeout: o.DialTimeout,
		ReadTimeout: o.ReadTimeout,
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
	}
}

// ErrNoDatabase is returned by Open when the database does not exist (and
// Options.CreateDatabase is not set). Retrying will not help; migrating will.
var ErrNoDatabase = errors.New("database does not exist")

// codeUnknownDatabase is ClickHouse's UNKNOWN_DATABASE exception code.
const codeUnknownDatabase = 81

// Store is a ClickHouse-backed store. It is safe for concurrent use.
type Store struct {
	conn    driver.Conn
	addr    string // for error messages
	version string // server version, e.g. "18.16.1"
	major   uint64 // server major version, for version-gated settings
	cluster cluster
}

// Open connects to ClickHouse and checks that the database is reachable. With
// opts.CreateDatabase it first creates the database. Open does not migrate;
// call Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("clickhouse options: %w", err)
	}
	addr := strings.Join(opts.Addr, ",")
	if opts.CreateDatabase {
		if err := createDatabase(ctx, opts); err != nil {
			return nil, fmt.Errorf("clickhouse at %s: %w", addr, err)
		}
	}
	conn, err := ch.Open(opts.chOptions(opts.Database))
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		if exc, ok := errors.AsType[*ch.Exception](err); ok && exc.Code == codeUnknownDatabase {
			return nil, fmt.Errorf("clickhouse at %s: %w: run `footfall migrate` to create database %s (%w)", addr, ErrNoDatabase, opts.Database, err)
		}
		return nil, fmt.Errorf("clickhouse at %s: %w", addr, err)
	}
	v, err := conn.ServerVersion()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse at %s: server version: %w", addr, err)
	}
	return &Store{
		conn:    conn,
		addr:    addr,
		version: fmt.Sprintf("%d.%d.%d", v.Version.Major, v.Version.Minor, v.Version.Patch),
		major:   v.Version.Major,
		cluster: cluster{name: opts.Cluster, database: opts.Database},
	}, nil
}

// createDatabase creates opts.Database over a connection to the server's
// default database, unless the server has it. Every administrative command
// opens the store so, and in cluster mode the statement is a distributed
// DDL that waits for every replica's DDL queue: behind a slow DROP of a
// replicated table it outlasted the read timeout (deploy's
// TestComposeCluster, `footfall token create`). The name is validated, so
// writing it into the statement is safe; identifiers cannot be bound.
func createDatabase(ctx context.Context, opts Options) error {
	if err := validDatabase(opts.Database); err != nil {
		return err
	}
	conn, err := ch.Open(opts.chOptions(""))
	if err != nil {
		return err
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", opts.Database).Scan(&n); err != nil {
		return fmt.Errorf("look up database %s: %w", opts.Database, err)
	}
	if n > 0 {
		return nil
	}
	c := cluster{name: opts.Cluster, database: opts.Database}
	if err := conn.Exec(ctx, c.createDatabase()); err != nil {
		return fmt.Errorf("create database %s: %w", opts.Database, err)
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	return s.conn.Close()
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("clickhouse at %s: %w", s.addr, err)
	}
	return nil
}

// ServerVersion is the server's version as major.minor.patch, as seen at Open.
func (s *Store) ServerVersion() string {
	return s.version
}

// alter runs a run-time ALTER TABLE (a mutation or a partition operation);
// in cluster mode it goes to the local table ON CLUSTER.
func (s *Store) alter(ctx context.Context, query string, args ...any) error {
	return s.conn.Exec(ctx, s.cluster.alter(query), args...)
}

// ddlContext adds the settings schema changes need on this server. 18.16
// refuses LowCardinality columns without
// allow_experimental_low_cardinality_type; from 19 on the setting is gone
// and must not be sent.
func (s *Store) ddlContext(ctx context.Context) context.Context {
	if s.major < 19 {
		return ch.Context(ctx, ch.WithSettings(ch.Settings{"allow_experimental_low_cardinality_type": 1}))
	}
	return ctx
}

//go:embed queries/*.sql
var queryFiles embed.FS

// mustQuery returns the single statement in queries/<name>.sql. The names are
// constants of this package, so a missing or malformed file fails every test
// at package load rather than at some later call.
func mustQuery(name string) string {
	body, err := queryFiles.ReadFile("queries/" + name + ".sql")
	if err != nil {
		panic(fmt.Sprintf("clickhouse: %v", err))
	}
	sql, err := store.ExpandDimensions(name, store.InlineFragment(string(body), "event_columns", eventColumnList()))
	if err != nil {
		panic(fmt.Sprintf("clickhouse: %v", err))
	}
	stmts := store.SplitStatements(sql)
	if len(stmts) != 1 {
		panic(fmt.Sprintf("clickhouse: queries/%s.sql holds %d statements, want 1", name, len(stmts)))
	}
	return stmts[0]
}
