package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result is a query's answer.
type Result struct {
	Query Query
	// Rows: an aggregate's one row, a timeseries' points, a breakdown's
	// page of values (sorted by the first metric, descending).
	Rows []Row
	// Previous is the previous period's row (aggregate with Compare).
	Previous *Row
	// Total is the breakdown's number of values before paging.
	Total int
	// Sampled is N when figures were read from the visit rows of one
	// visitor in N and scaled by N (Planner.WithSampling): estimates,
	// within the error docs/reports.md gives; 0 when every figure is
	// exact or from sketches.
	Sampled uint32
}

// Row is one line of a result: its key (a timeseries point's label, a
// breakdown's value; "" for an aggregate) and the query's metrics, in
// order: counts as uint64, rates and durations as float64.
type Row struct {
	Key     string
	Values  []any
	Partial bool
	// Revenue is a goal's revenue per currency, by currency (a goals
	// breakdown; none without revenue).
	Revenue []Revenue
	// Estimate: the row's visitors are estimated from sketches
	// (store/sketches.go, within store.SketchErrorBound), as they are over
	// several days whose visit rows retention has deleted.
	Estimate bool
}

// Name names the result as a file: aggregate, timeseries, breakdown-PROP,
// funnel.
func (r *Result) Name() string {
	switch r.Query.Kind {
	case Breakdown:
		return "breakdown-" + r.Query.Property
	case Funnel:
		return "funnel"
	}
	return string(r.Query.Kind)
}

// Table is the result as a header row and records, as CSV shows it.
func (r *Result) Table() ([]string, [][]string) {
	q := r.Query
	var records [][]string
	switch q.Kind {
	case Aggregate:
		header := []string{"metric", "value"}
		if r.Previous != nil {
			header = append(header, "previous", "change")
		}
		for i, m := range q.Metrics {
			v := r.Rows[0].Values[i]
			rec := []string{m, fmt.Sprint(v)}
			if r.Previous != nil {
				pv := r.Previous.Values[i]
				rec = append(rec, fmt.Sprint(pv), formatChange(Change(Float(v), Float(pv))))
			}
			records = append(records, rec)
		}
		return header, records
	case Timeseries:
		for _, row := range r.Rows {
			records = append(records, row.record())
		}
		return append([]string{"date"}, q.Metrics...), records
	case Funnel:
		for i, row := range r.Rows {
			records = append(records, append([]string{strconv.Itoa(i + 1)}, row.record()...))
		}
		return append([]string{"step", "goal"}, q.Metrics...), records
	default:
		currencies := r.currencies()
		for _, row := range r.Rows {
			rec := row.record()
			for _, c := range currencies {
				var total, avg string
				if i := slices.IndexFunc(row.Revenue, func(x Revenue) bool { return x.Currency == c }); i >= 0 {
					total, avg = row.Revenue[i].Total.String(), row.Revenue[i].Average.String()
				}
				rec = append(rec, total, avg)
			}
			records = append(records, rec)
		}
		header := append([]string{q.Property}, q.Metrics...)
		for _, c := range currencies {
			header = append(header, "revenue_"+c, "average_revenue_"+c)
		}
		return header, records
	}
}

// currencies are the currencies of the rows' revenue, sorted: a goals
// breakdown's CSV has two columns for each (revenue_EUR,
// average_revenue_EUR), and none when no goal has revenue.
func (r *Result) currencies() []string {
	var out []string
	for _, row := range r.Rows {
		for _, rev := range row.Revenue {
			if !slices.Contains(out, rev.Currency) {
				out = append(out, rev.Currency)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (row Row) record() []string {
	rec := []string{row.Key}
	for _, v := range row.Values {
		if v == nil {
			rec = append(rec, "") // a metric without a value (scroll_depth)
			continue
		}
		rec = append(rec, fmt.Sprint(v))
	}
	return rec
}

// JSON is the result in the stats API's JSON shape (docs/openapi.yaml):
// with "sampled": "1/N" when Sampled is set.
func (r *Result) JSON() map[string]any {
	out := r.json()
	if r.Sampled > 1 {
		out["sampled"] = fmt.Sprintf("1/%d", r.Sampled)
	}
	return out
}

func (r *Result) json() map[string]any {
	q := r.Query
	switch q.Kind {
	case Aggregate:
		results := map[string]any{}
		for i, m := range q.Metrics {
			v := r.Rows[0].Values[i]
			entry := map[string]any{"value": v}
			if r.Previous != nil {
				pv := r.Previous.Values[i]
				entry["previous"] = pv
				entry["change"] = Change(Float(v), Float(pv))
				if m == "visitors" && r.Previous.Estimate {
					entry["previous_estimate"] = true
				}
			}
			if m == "visitors" && r.Rows[0].Estimate {
				entry["estimate"] = true
			}
			results[m] = entry
		}
		return map[string]any{
			"site": q.Site.Domain, "from": q.Span.From.In(q.Span.Loc).Format(time.DateOnly),
			"to": q.Span.To.In(q.Span.Loc).AddDate(0, 0, -1).Format(time.DateOnly), "partial": r.Rows[0].Partial, "results": results,
		}
	case Timeseries:
		results := make([]map[string]any, 0, len(r.Rows))
		for _, row := range r.Rows {
			obj := row.object("date", q.Metrics)
			if row.Partial {
				obj["partial"] = true
			}
			if row.Estimate {
				obj["estimate"] = true
			}
			results = append(results, obj)
		}
		return map[string]any{"site": q.Site.Domain, "interval": q.Interval, "results": results}
	case Funnel:
		results := make([]map[string]any, 0, len(r.Rows))
		for i, row := range r.Rows {
			obj := row.object("goal", q.Metrics)
			obj["step"] = i + 1
			results = append(results, obj)
		}
		partial := len(r.Rows) > 0 && r.Rows[0].Partial
		return map[string]any{
			"site": q.Site.Domain, "funnel": q.Funnel, "from": q.Span.From.In(q.Span.Loc).Format(time.DateOnly),
			"to": q.Span.To.In(q.Span.Loc).AddDate(0, 0, -1).Format(time.DateOnly), "partial": partial, "results": results,
		}
	default:
		results := make([]map[string]any, 0, len(r.Rows))
		for _, row := range r.Rows {
			obj := row.object(q.Property, q.Metrics)
			if len(row.Revenue) > 0 {
				rev := make([]map[string]any, len(row.Revenue))
				for i, x := range row.Revenue {
					rev[i] = map[string]any{"currency": x.Currency, "total": x.Total, "average": x.Average, "events": x.Events}
				}
				obj["revenue"] = rev
			}
			results = append(results, obj)
		}
		return map[string]any{
			"site": q.Site.Domain, "property": q.Property, "page": q.Page, "limit": q.Limit, "total": r.Total, "results": results,
		}
	}
}

func (row Row) object(key string, metrics []string) map[string]any {
	obj := map[string]any{key: row.Key}
	for i, m := range metrics {
		obj[m] = row.Values[i]
	}
	return obj
}

// Change is the change from prev to cur in percent, rounded; nil when prev
// is 0.
func Change(cur, prev float64) *float64 {
	if prev == 0 {
		return nil
	}
	c := math.Round((cur-prev)/prev*1000) / 10
	return &c
}

func formatChange(c *float64) string {
	if c == nil {
		return ""
	}
	return strconv.FormatFloat(*c, 'f', -1, 64)
}

// WriteCSV writes a header row and records as CSV, each value defused
// against spreadsheet formulas (a page path or referrer is visitor input).
func WriteCSV(w io.Writer, header []string, records [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, rec := range records {
		for i, f := range rec {
			rec[i] = csvSafe(f)
		}
	}
	if err := cw.WriteAll(records); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// csvSafe defuses a value a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}
