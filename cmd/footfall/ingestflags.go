package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/footfall/footfall/collector/spool"
)

// ingestFlags are serve's settings for the way from an accepted event to
// the store beyond the in-memory queue: the disk spool and durability.
type ingestFlags struct {
	spoolDir     string
	spoolMaxSize byteSize
	durability   string
}

// The -durability modes.
const (
	durabilityMemory = "memory" // acknowledge once queued; a crash loses up to a flush interval
	durabilityFsync  = "fsync"  // acknowledge once fsynced to the spool; a crash loses nothing acknowledged
)

func (f *ingestFlags) register(fs *flag.FlagSet) {
	f.spoolMaxSize = 1 << 30
	fs.StringVar(&f.spoolDir, "spool-dir", "", "`folder` of the disk spool, where events wait while the store is down or the queue is full (default: spool/ beside the SQLite file, or footfall-data/spool with ClickHouse)")
	fs.Var(&f.spoolMaxSize, "spool-max-size", "`size` limit of the disk spool, as in 512MiB or 2GiB; when it is full (and the queue too) the collector answers 503 and /readyz fails")
	fs.StringVar(&f.durability, "durability", durabilityMemory, "`mode` of acknowledging an event: memory (202 once queued; a crash loses at most about the last -flush-interval) or fsync (202 once written and fsynced to the spool; concurrent requests share fsyncs)")
}

func (f *ingestFlags) check() []error {
	var errs []error
	if f.spoolMaxSize < 1<<20 {
		errs = append(errs, fmt.Errorf("-spool-max-size: want at least 1MiB, got %s", f.spoolMaxSize))
	}
	if f.durability != durabilityMemory && f.durability != durabilityFsync {
		errs = append(errs, fmt.Errorf("-durability: want memory or fsync, got %q", f.durability))
	}
	return errs
}

// dir is the spool folder: -spool-dir, or a default beside the data.
func (f *ingestFlags) dir(t storeTarget) string {
	switch {
	case f.spoolDir != "":
		return f.spoolDir
	case t.sqlitePath != "":
		return filepath.Join(filepath.Dir(t.sqlitePath), "spool")
	}
	return filepath.Join("footfall-data", "spool")
}

// openSpool opens the spool; a folder that cannot be used is logged and
// reported by /readyz, not fatal (the spool keeps trying it).
func (f *ingestFlags) openSpool(t storeTarget, log *slog.Logger) (*spool.Spool, error) {
	return spool.New(spool.Options{Dir: f.dir(t), MaxBytes: int64(f.spoolMaxSize), Log: log})
}

// byteSize is a flag holding a size in bytes, written with an optional
// unit: 1048576, 1024KiB, 512MiB, 2GiB, 1TiB (KB, MB, GB, TB are powers of
// 1000).
type byteSize int64

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, factor = strings.TrimSpace(n), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/factor {
		return errors.New("want a size such as 512MiB or 2GiB")
	}
	*b = byteSize(n * factor)
	return nil
}

func (b byteSize) String() string {
	for i := 3; i >= 0; i-- { // the largest binary unit that fits exactly
		if u := sizeUnits[i]; int64(b) >= u.factor && int64(b)%u.factor == 0 {
			return strconv.FormatInt(int64(b)/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}
