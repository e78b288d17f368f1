package store

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestSplitStatements(t *testing.T) {
	sql := "-- a comment\nCREATE TABLE a (x UInt8);\n\nCREATE TABLE b\n(\n    y String -- trailing\n);\nSELECT 1"
	want := []string{"CREATE TABLE a (x UInt8)", "CREATE TABLE b\n(\n    y String -- trailing\n)", "SELECT 1"}
	if diff := cmp.Diff(want, SplitStatements(sql)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadMigrations(t *testing.T) {
	good := fstest.MapFS{
		"002_more.sql": {Data: []byte("SELECT 2;")},
		"001_init.sql": {Data: []byte("SELECT 1;\nSELECT 11;")},
		"README.md":    {Data: []byte("not sql")},
	}
	got, err := ReadMigrations(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []MigrationFile{
		{Version: 1, Name: "init", Statements: []string{"SELECT 1", "SELECT 11"}},
		{Version: 2, Name: "more", Statements: []string{"SELECT 2"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	bad := []struct {
		name string
		fs   fstest.MapFS
	}{
		{"no number", fstest.MapFS{"init.sql": {Data: []byte("SELECT 1;")}}},
		{"duplicate version", fstest.MapFS{"001_a.sql": {Data: []byte("SELECT 1;")}, "1_b.sql": {Data: []byte("SELECT 1;")}}},
		{"empty file", fstest.MapFS{"001_a.sql": {Data: []byte("-- nothing\n")}}},
	}
	for _, tt := range bad {
		if _, err := ReadMigrations(tt.fs); err == nil {
			t.Errorf("%s: got no error", tt.name)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Example.COM", "example.com", true},
		{" shop.example.co.uk ", "shop.example.co.uk", true},
		{"localhost", "localhost", true},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", true},
		{"", "", false},
		{"https://example.com", "", false},
		{"example.com/path", "", false},
		{"example.com:8080", "", false},
		{"-bad.example", "", false},
		{"a..b", "", false},
		{"under_score.example", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeDomain(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestGoalPaths(t *testing.T) {
	paths := []string{"/", "/blog", "/blog/", "/blog/a", "/blog/a/b", "/blogs", "/x/blog/a", "/a.b"}
	for _, c := range []struct {
		page string
		want []string
	}{
		{"/blog/**", []string{"/blog/", "/blog/a", "/blog/a/b"}},
		{"/blog/*", []string{"/blog/", "/blog/a"}},
		{"/blog*", []string{"/blog", "/blogs"}},
		{"/**/a", []string{"/blog/a", "/x/blog/a"}},
		{"/a.b", []string{"/a.b"}},
		{"/a?b", []string{"/a?b"}}, // no wildcard: the path itself
		{"/*.b", []string{"/a.b"}}, // "." is no pattern
		{"/nothing*", nil},
	} {
		if got := (Goal{Page: c.page}).GoalPaths(paths); !slices.Equal(got, c.want) {
			t.Errorf("GoalPaths(%q) = %q, want %q", c.page, got, c.want)
		}
	}
}
