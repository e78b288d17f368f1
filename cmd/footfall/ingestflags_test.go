package main

import "testing"

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		str  string
	}{
		{"1048576", 1 << 20, "1MiB"},
		{"512MiB", 512 << 20, "512MiB"},
		{"2GiB", 2 << 30, "2GiB"},
		{"1536MiB", 1536 << 20, "1536MiB"},
		{"1TiB", 1 << 40, "1TiB"},
		{"100MB", 100e6, "100000000"},
		{"1 GiB", 1 << 30, "1GiB"},
		{"4096B", 4096, "4KiB"},
		{"1000", 1000, "1000"},
	}
	for _, tt := range tests {
		var b byteSize
		if err := b.Set(tt.in); err != nil {
			t.Errorf("Set(%q): %v", tt.in, err)
			continue
		}
		if int64(b) != tt.want || b.String() != tt.str {
			t.Errorf("Set(%q) = %d (%s), want %d (%s)", tt.in, int64(b), b, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "lots", "-1GiB", "1.5GiB", "1PiB", "99999999999TiB"} {
		var b byteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q) = %d, want an error", bad, int64(b))
		}
	}
}

func TestSpoolDirDefault(t *testing.T) {
	tests := []struct {
		name, flag, store, want string
	}{
		{"beside the sqlite file", "", "sqlite:/data/footfall.db", "/data/spool"},
		{"relative sqlite file", "", "sqlite:footfall-data/footfall.db", "footfall-data/spool"},
		{"clickhouse", "", "clickhouse://ch:9000/footfall", "footfall-data/spool"},
		{"the flag wins", "/var/spool/footfall", "sqlite:/data/footfall.db", "/var/spool/footfall"},
	}
	for _, tt := range tests {
		target, err := parseStore(tt.store)
		if err != nil {
			t.Fatal(err)
		}
		f := ingestFlags{spoolDir: tt.flag}
		if got := f.dir(target); got != tt.want {
			t.Errorf("%s: spool dir %q, want %q", tt.name, got, tt.want)
		}
	}
}
