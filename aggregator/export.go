package aggregator

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// SchemaVersion is the version of the export files' layout; it changes when
// a column is renamed, removed or changes meaning.
const SchemaVersion = 1

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// Manifest describes an export: manifest.json beside its files.
type Manifest struct {
	SchemaVersion int            `json:"schema_version"`
	GeneratedAt   time.Time      `json:"generated_at"`
	Partner       string         `json:"partner"`
	Window        ManifestRange  `json:"window"`
	Parameters    ReleaseParams  `json:"parameters"`
	Format        string         `json:"format"`
	Files         []ManifestFile `json:"files"`
	Rows          int            `json:"rows"`
}

// ManifestRange is the days an export covers, inclusive.
type ManifestRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ManifestFile is one exported file.
type ManifestFile struct {
	Name      string `json:"name"`
	Dimension string `json:"dimension"`
	Rows      int    `json:"rows"`
	SHA256    string `json:"sha256"`
}

// WriteExport writes a release to dir, which it creates if needed: one file
// per dimension (<dimension>.csv or .jsonl, with the columns site, day,
// value and the metrics) and manifest.json, written last, so a folder with
// a manifest is complete.
func WriteExport(dir string, r *Release, format string) (Manifest, error) {
	if format != FormatCSV && format != FormatJSONL {
		return Manifest{}, fmt.Errorf("export: format %q, want csv or jsonl", format)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("export: %w", err)
	}
	m := Manifest{
		SchemaVersion: SchemaVersion, GeneratedAt: r.GeneratedAt, Partner: r.Partner,
		Window: ManifestRange{From: r.From, To: r.To}, Parameters: r.Params, Format: format,
	}
	funnels := 0
	for _, t := range r.Tables {
		name := t.Dimension + "." + format
		if strings.HasPrefix(t.Dimension, store.DimFunnel+":") {
			// A funnel's name is the operator's text, no file name: the
			// manifest maps the file to its table.
			funnels++
			name = fmt.Sprintf("funnel-%d.%s", funnels, format)
		}
		sum, err := writeTable(filepath.Join(dir, name), t, r.Params.Metrics, format)
		if err != nil {
			return Manifest{}, fmt.Errorf("export %s: %w", name, err)
		}
		m.Files = append(m.Files, ManifestFile{Name: name, Dimension: t.Dimension, Rows: len(t.Rows), SHA256: sum})
		m.Rows += len(t.Rows)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("export manifest: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "manifest.json"), append(b, '\n')); err != nil {
		return Manifest{}, fmt.Errorf("export manifest: %w", err)
	}
	return m, nil
}

// writeTable writes one table and returns the hex SHA-256 of the file.
func writeTable(path string, t Table, metrics []string, format string) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(f, h))
	if format == FormatCSV {
		err = writeCSV(w, t, metrics)
	} else {
		err = writeJSONL(w, t, metrics)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeCSV(w io.Writer, t Table, metrics []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"site", "day", "value"}, metrics...)); err != nil {
		return err
	}
	rec := make([]string, 3+len(metrics))
	for _, r := range t.Rows {
		rec[0], rec[1], rec[2] = r.Site, r.Day, r.Value
		for i, v := range r.Metrics {
			rec[3+i] = strconv.FormatInt(v, 10)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSONL(w io.Writer, t Table, metrics []string) error {
	enc := json.NewEncoder(w)
	for _, r := range t.Rows {
		// A fixed key order keeps the file, and so its checksum, stable.
		obj := orderedRow{keys: []string{"site", "day", "dimension", "value"}, vals: []any{r.Site, r.Day, t.Dimension, r.Value}}
		for i, m := range metrics {
			obj.keys = append(obj.keys, m)
			obj.vals = append(obj.vals, r.Metrics[i])
		}
		if err := enc.Encode(obj); err != nil {
			return err
		}
	}
	return nil
}

// orderedRow marshals as a JSON object with its keys in order.
type orderedRow struct {
	keys []string
	vals []any
}

func (o orderedRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Period is a range of days, inclusive.
type Period struct {
	From, To time.Time
}

// LastPeriod is the latest finished period of a schedule on the day today
// (a date): yesterday for daily, last Monday to Sunday for weekly, last
// month for monthly.
func LastPeriod(schedule string, today time.Time) (Period, error) {
	today = civilDate(today)
	switch schedule {
	case "daily":
		d := today.AddDate(0, 0, -1)
		return Period{d, d}, nil
	case "weekly":
		monday := today.AddDate(0, 0, -((int(today.Weekday())+6)%7 + 7))
		return Period{monday, monday.AddDate(0, 0, 6)}, nil
	case "monthly":
		first := time.Date(today.Year(), today.Month()-1, 1, 0, 0, 0, 0, time.UTC)
		return Period{first, first.AddDate(0, 1, -1)}, nil
	}
	return Period{}, fmt.Errorf("unknown schedule %q", schedule)
}

// ScheduleOptions say where scheduled exports come from and go to.
type ScheduleOptions struct {
	Source CellSource
	Config *config.Config // the partners and the sites' zones
	Dir    string         // exports go to Dir/<partner>/<from>_<to>/
	Format string         // FormatCSV or FormatJSONL
	Now    time.Time
}

// ScheduledExports writes, for each partner with a schedule, the release of
// its last finished period to Dir/<partner>/<from>_<to>/, unless that folder
// already holds a manifest, and returns the folders it wrote. A period is
// finished when it is over in every one of the partner's sites' zones.
func ScheduledExports(ctx context.Context, o ScheduleOptions) ([]string, error) {
	var (
		written []string
		errs    []error
	)
	for _, p := range o.Config.Partners {
		if p.Schedule == "" {
			continue
		}
		today := time.Time{}
		for _, domain := range p.Sites {
			loc, err := store.LoadZone(o.Config.SiteZone(domain))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if d := civilDate(o.Now.In(loc)); today.IsZero() || d.Before(today) {
				today = d
			}
		}
		period, err := LastPeriod(p.Schedule, today)
		if err != nil {
			errs = append(errs, fmt.Errorf("partner %s: %w", p.Name, err))
			continue
		}
		out := filepath.Join(o.Dir, p.Name, period.From.Format(time.DateOnly)+"_"+period.To.Format(time.DateOnly))
		if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
			continue
		}
		r, err := NewRelease(ctx, o.Source, ReleaseRequest{Partner: p, From: period.From, To: period.To, Zone: o.Config.SiteZone, Now: func() time.Time { return o.Now },
			Goals: o.Config.SiteGoals, Funnels: o.Config.SiteFunnels})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := WriteExport(out, r, o.Format); err != nil {
			errs = append(errs, fmt.Errorf("partner %s: %w", p.Name, err))
			continue
		}
		written = append(written, out)
	}
	return written, errors.Join(errs...)
}
