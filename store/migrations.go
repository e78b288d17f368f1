package store

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// MigrationFile is one numbered schema migration read from an embedded folder.
type MigrationFile struct {
	Version    int
	Name       string   // file name without the number and extension
	Statements []string // run one by one, in order
}

// ReadMigrations reads every NNN_name.sql file at the root of fsys, sorted by
// version. A file holds one or more statements, each ended by a ';' at the end
// of a line; lines starting with "--" are comments.
func ReadMigrations(fsys fs.FS) ([]MigrationFile, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []MigrationFile
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNN_description.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		stmts := SplitStatements(string(body))
		if len(stmts) == 0 {
			return nil, fmt.Errorf("migration %q has no statements", name)
		}
		out = append(out, MigrationFile{Version: v, Name: rest, Statements: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SplitStatements splits SQL text into statements ended by a ';' at the end
// of a line, dropping "--" comment lines and blank statements.
func SplitStatements(sql string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			if s != "" {
				stmts = append(stmts, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

// InlineFragment replaces every {{name}} in sql with fragment, less its "--"
// comment lines: a list a store's SQL files share (the event columns) kept in
// one file of its own. Fragments are files of the store, never input.
func InlineFragment(sql, name, fragment string) string {
	var b strings.Builder
	for line := range strings.Lines(fragment) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return strings.ReplaceAll(sql, "{{"+name+"}}", strings.TrimSpace(b.String()))
}
