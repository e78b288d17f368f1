package clickhouse

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"

	"github.com/footfall/footfall/store"
)

// Cluster mode (Options.Cluster, DSN parameter ?cluster=NAME) spreads
// Footfall's tables over the shards and replicas of a ClickHouse cluster
// named in the servers' remote_servers config. The migrations stay written
// for one server; this file rewrites them as they run, so a migration added
// later needs no cluster variant:
//
//   - CREATE TABLE t (…) ENGINE = XMergeTree[(args)] … becomes two tables,
//     both created ON CLUSTER: t_local with
//     ReplicatedXMergeTree('/clickhouse/tables/{shard}/<db>/t_local',
//     '{replica}'[, args]) and the same columns and keys, and t, a
//     Distributed table over t_local. Every query therefore keeps reading
//     and inserting through the original name. Rows are sharded by
//     cityHash64(visitor_key) when the table has that column (a visitor's
//     events, sessions and FINAL-deduplicated replays stay on one shard),
//     otherwise by cityHash64 of the first ORDER BY column (a
//     ReplacingMergeTree's versions of one key stay together).
//   - ALTER TABLE t ADD/DROP/MODIFY/COMMENT/RENAME COLUMN runs ON CLUSTER on
//     t_local, then re-creates the Distributed table t ON CLUSTER as t_local
//     (ClickHouse 18.16 refuses ALTER ON CLUSTER of a Distributed table over
//     replicated shards; t holds no rows), sharded as the migration that
//     created t says; any other ALTER (DELETE, UPDATE, partitions) runs on
//     t_local only.
//   - DROP TABLE t drops t and t_local ON CLUSTER.
//   - RENAME TABLE a TO b[, c TO d …] renames the _local tables ON
//     CLUSTER in one statement, drops the Distributed tables of every name
//     involved (a Distributed table names its local table, so it would
//     read the wrong one after the swap) and re-creates one ON CLUSTER for
//     each new name, over its new local table and sharded as the renamed
//     table was.
//   - INSERT INTO t (…) SELECT … runs as it is: through the Distributed
//     tables, with insert_distributed_sync, so rows copied between tables
//     sharded alike stay on their shard.
//
// Anything else in a migration is refused, so a statement the rewrite does
// not understand fails loudly instead of creating a table on one node only.
//
// At run time, every mutation (ALTER … DELETE/UPDATE/DROP PARTITION) goes
// through Store.alter, which sends it to the local table ON CLUSTER; waiting
// for mutations and listing partitions read system tables of every node
// through the cluster() table function. Inserts are sent with
// insert_distributed_sync=1, so a batch is on its shards when the insert
// returns.

// localSuffix names the per-node table behind a Distributed table.
const localSuffix = "_local"

// cluster rewrites statements for cluster mode. The zero value (no cluster
// name) leaves every statement as it is.
type cluster struct {
	name     string // cluster name in remote_servers; "" when not clustered
	database string
}

func (c cluster) on() bool { return c.name != "" }

// local is the name of the table holding table's rows on each node.
func (c cluster) local(table string) string {
	if !c.on() {
		return table
	}
	return table + localSuffix
}

var (
	reCreate = regexp.MustCompile(`(?is)^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))\s*ENGINE\s*=\s*([A-Za-z]*MergeTree)\b(\s*\(([^)]*)\))?(.*)$`)
	reAlter  = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	reDrop   = regexp.MustCompile(`(?is)^\s*DROP\s+TABLE\s+(IF\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	reColumn = regexp.MustCompile(`(?is)^(ADD|DROP|MODIFY|COMMENT|RENAME|CLEAR)\s+COLUMN\b`)
	reOrder  = regexp.MustCompile(`(?is)\bORDER\s+BY\s+\(?\s*([A-Za-z_][A-Za-z0-9_]*)`)
	reVKey   = regexp.MustCompile(`(?i)\bvisitor_key\b`)
	reRename = regexp.MustCompile(`(?is)^\s*RENAME\s+TABLE\s+(.*?)\s*$`)
	rePair   = regexp.MustCompile(`(?is)^\s*([A-Za-z_][A-Za-z0-9_]*)\s+TO\s+([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	reInsert = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+[A-Za-z_][A-Za-z0-9_]*\s*\([^)]*\)\s*SELECT\b`)
)

// renamePairs parses the list of a RENAME TABLE statement: the (from, to)
// pairs, or nil when the statement is not one.
func renamePairs(stmt string) ([][2]string, error) {
	m := reRename.FindStringSubmatch(stmt)
	if m == nil {
		return nil, nil
	}
	var pairs [][2]string
	for _, part := range strings.Split(m[1], ",") {
		p := rePair.FindStringSubmatch(part)
		if p == nil {
			return nil, fmt.Errorf("cluster mode cannot rewrite RENAME TABLE %q: want name TO name, …", part)
		}
		pairs = append(pairs, [2]string{p[1], p[2]})
	}
	return pairs, nil
}

// migration returns the statements that apply one migration statement in
// cluster mode (stmt itself when not clustered).
func (c cluster) migration(stmt string) ([]string, error) {
	if !c.on() {
		return []string{stmt}, nil
	}
	if m := reCreate.FindStringSubmatch(stmt); m != nil {
		ifNot, table, columns, engine, args, rest := m[1], m[2], m[3], m[4], strings.TrimSpace(m[6]), m[7]
		local := table + localSuffix
		replArgs := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", c.database, local)
		if args != "" {
			replArgs += ", " + args
		}
		return []string{
			fmt.Sprintf("CREATE TABLE %s%s.%s ON CLUSTER %s\n%s\nENGINE = Replicated%s(%s)%s",
				ifNot, c.database, local, c.name, columns, engine, replArgs, rest),
			fmt.Sprintf("CREATE TABLE %s%s.%s ON CLUSTER %s AS %s.%s ENGINE = Distributed('%s', '%s', '%s', %s)",
				ifNot, c.database, table, c.name, c.database, local, c.name, c.database, local, shardingKey(columns, rest)),
		}, nil
	}
	if m := reAlter.FindStringSubmatch(stmt); m != nil {
		table, command := m[1], m[2]
		local := table + localSuffix
		out := []string{fmt.Sprintf("ALTER TABLE %s.%s ON CLUSTER %s %s", c.database, local, c.name, command)}
		if reColumn.MatchString(command) {
			key, ok := shardingKeys()[table]
			if !ok {
				return nil, fmt.Errorf("cluster mode cannot alter the columns of %s: no migration creates it", table)
			}
			out = append(out,
				fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", c.database, table, c.name),
				fmt.Sprintf("CREATE TABLE %s.%s ON CLUSTER %s AS %s.%s ENGINE = Distributed('%s', '%s', '%s', %s)",
					c.database, table, c.name, c.database, local, c.name, c.database, local, key))
		}
		return out, nil
	}
	if m := reDrop.FindStringSubmatch(stmt); m != nil {
		ifExists, table := m[1], m[2]
		return []string{
			fmt.Sprintf("DROP TABLE %s%s.%s ON CLUSTER %s", ifExists, c.database, table, c.name),
			fmt.Sprintf("DROP TABLE %s%s.%s ON CLUSTER %s", ifExists, c.database, table+localSuffix, c.name),
		}, nil
	}
	pairs, err := renamePairs(stmt)
	if err != nil {
		return nil, err
	}
	if pairs != nil {
		return c.rename(pairs)
	}
	if reInsert.MatchString(stmt) {
		return []string{stmt}, nil
	}
	first, _, _ := strings.Cut(strings.TrimSpace(stmt), "\n")
	return nil, fmt.Errorf("cluster mode cannot rewrite %q: only CREATE TABLE … ENGINE = *MergeTree, ALTER TABLE, DROP TABLE, RENAME TABLE and INSERT … SELECT are supported", first)
}

// rename rewrites RENAME TABLE for cluster mode (see the file comment).
func (c cluster) rename(pairs [][2]string) ([]string, error) {
	keys := shardingKeys()
	var locals, drops, creates []string
	dropped := map[string]bool{}
	for _, p := range pairs {
		from, to := p[0], p[1]
		key, ok := keys[from]
		if !ok {
			return nil, fmt.Errorf("cluster mode cannot rename %s: no migration creates it", from)
		}
		locals = append(locals, fmt.Sprintf("%s.%s TO %s.%s", c.database, from+localSuffix, c.database, to+localSuffix))
		for _, t := range []string{from, to} {
			if !dropped[t] {
				dropped[t] = true
				drops = append(drops, fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", c.database, t, c.name))
			}
		}
		creates = append(creates, fmt.Sprintf("CREATE TABLE %s.%s ON CLUSTER %s AS %s.%s ENGINE = Distributed('%s', '%s', '%s', %s)",
			c.database, to, c.name, c.database, to+localSuffix, c.name, c.database, to+localSuffix, key))
	}
	out := []string{fmt.Sprintf("RENAME TABLE %s ON CLUSTER %s", strings.Join(locals, ", "), c.name)}
	out = append(out, drops...)
	return append(out, creates...), nil
}

// shardingKey is the Distributed sharding expression of a table with these
// columns and engine clauses.
// shardingKeys is the sharding key of every table the migrations create.
var shardingKeys = sync.OnceValue(func() map[string]string {
	keys := map[string]string{}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(fmt.Sprintf("clickhouse: %v", err))
	}
	files, err := store.ReadMigrations(sub)
	if err != nil {
		panic(fmt.Sprintf("clickhouse: %v", err))
	}
	for _, f := range files {
		for _, stmt := range f.Statements {
			if m := reCreate.FindStringSubmatch(stmt); m != nil {
				keys[m[2]] = shardingKey(m[3], m[7])
			}
			// A renamed table keeps its sharding under its new name; the
			// pairs of one statement are renamed at once.
			pairs, _ := renamePairs(stmt)
			renamed := map[string]string{}
			for _, p := range pairs {
				if key, ok := keys[p[0]]; ok {
					renamed[p[1]] = key
				}
			}
			for t, key := range renamed {
				keys[t] = key
			}
		}
	}
	return keys
})

func shardingKey(columns, rest string) string {
	if reVKey.MatchString(columns) {
		return "cityHash64(visitor_key)"
	}
	if m := reOrder.FindStringSubmatch(rest); m != nil && !strings.EqualFold(m[1], "tuple") {
		return "cityHash64(" + m[1] + ")"
	}
	return "rand()"
}

// alter points a run-time ALTER TABLE t … (a mutation or a partition
// operation) at t_local ON CLUSTER; when not clustered it returns query as
// it is. A query that is not an ALTER TABLE is a programming error.
func (c cluster) alter(query string) string {
	if !c.on() {
		return query
	}
	m := reAlter.FindStringSubmatchIndex(query)
	if m == nil {
		panic(fmt.Sprintf("clickhouse: not an ALTER TABLE statement: %q", query))
	}
	table := query[m[2]:m[3]]
	return query[:m[2]] + c.database + "." + table + localSuffix + " ON CLUSTER " + c.name + " " + query[m[4]:]
}

// createDatabase is the statement creating the database.
func (c cluster) createDatabase() string {
	if !c.on() {
		return "CREATE DATABASE IF NOT EXISTS " + c.database
	}
	return "CREATE DATABASE IF NOT EXISTS " + c.database + " ON CLUSTER " + c.name
}
