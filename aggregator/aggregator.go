package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/footfall/footfall/store"
)

// Store is what the aggregator needs of a store; both backends satisfy it.
type Store interface {
	Sites(ctx context.Context) ([]store.Site, error)
	FirstActivity(ctx context.Context, siteID uint32) (time.Time, error)
	ReplaceRollups(ctx context.Context, spec store.RollupSpec) ([]store.WindowCount, error)
	AppendRuns(ctx context.Context, runs []store.Run) error
	Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error)
	LateWindows(ctx context.Context, q store.LateQuery) ([]time.Time, error)
}

// Options configure an Aggregator.
type Options struct {
	// Store holds the raw events, the rollups and the run log. Required.
	Store Store
	// Zone returns the IANA time zone of a site's daily windows ("" for
	// UTC). Nil: every site is on UTC.
	Zone func(domain string) string
	// Lookback bounds how far back late events re-queue their windows:
	// windows that ended longer ago are only redone by Recompute. Default
	// 7 days.
	Lookback time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Progress, if set, is called after each job.
	Progress func(Progress)
	// Log receives one line per finished job at debug level, and Every's
	// pass summaries. Default: discard.
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Zone == nil {
		o.Zone = func(string) string { return "" }
	}
	if o.Lookback <= 0 {
		o.Lookback = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Aggregator turns raw events into rollups, window by window.
type Aggregator struct {
	opts    Options
	version atomic.Uint64 // the last run version handed out
}

// New returns an Aggregator.
func New(opts Options) *Aggregator {
	return &Aggregator{opts: opts.withDefaults()}
}

// Why a job runs.
const (
	ReasonPending   = "pending"   // a complete window never (successfully) aggregated
	ReasonLate      = "late"      // events arrived after the window was aggregated
	ReasonPartial   = "partial"   // the window still open: results are marked partial
	ReasonRecompute = "recompute" // asked for by Recompute
)

// Job is one ReplaceRollups call: consecutive windows of one site.
type Job struct {
	Site        store.Site
	Granularity store.Granularity
	TimeZone    string
	From        time.Time // first window's start
	To          time.Time // end of the last window
	Windows     []store.Window
	Partial     bool
	Reason      string
}

func (j Job) String() string {
	return fmt.Sprintf("%s %s %s..%s (%d windows, %s)", j.Site.Domain, j.Granularity,
		j.From.Format(time.RFC3339), j.To.Format(time.RFC3339), len(j.Windows), j.Reason)
}

// Progress reports a finished job.
type Progress struct {
	Done  int // jobs finished so far, this one included
	Total int
	Job   Job
	Err   error // the job failed; the run goes on with the next one
}

// Summary is what a run did.
type Summary struct {
	Jobs        int
	Windows     int
	Failed      int // jobs that failed
	RowsRead    uint64
	RowsWritten uint64
}

// maxWindowsPerJob keeps one job's raw data to about a day: ClickHouse
// holds a job's visits in memory while it aggregates them.
var maxWindowsPerJob = map[store.Granularity]int{store.Hourly: 24, store.Daily: 1}

// Once aggregates every complete window since the watermark that has not
// been aggregated, every window whose events arrived late, and the current
// (partial) window, for every site and granularity.
func (a *Aggregator) Once(ctx context.Context) (Summary, error) {
	jobs, err := a.Plan(ctx)
	if err != nil {
		return Summary{}, err
	}
	return a.Run(ctx, jobs)
}

// Recompute aggregates again every window of the days from to to
// (inclusive calendar dates: UTC hours of those UTC days, and the days
// themselves in each site's zone), for every site. Windows not yet over are
// marked partial; windows not yet begun are skipped.
func (a *Aggregator) Recompute(ctx context.Context, from, to time.Time) (Summary, error) {
	jobs, err := a.PlanRange(ctx, from, to)
	if err != nil {
		return Summary{}, err
	}
	return a.Run(ctx, jobs)
}

// Plan lists the jobs Once runs.
func (a *Aggregator) Plan(ctx context.Context) ([]Job, error) {
	sites, err := a.opts.Store.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	now := a.opts.Now().UTC()
	var jobs []Job
	for _, site := range sites {
		first, err := a.opts.Store.FirstActivity(ctx, site.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		zone := a.opts.Zone(site.Domain)
		loc, err := store.LoadZone(zone)
		if err != nil {
			return nil, fmt.Errorf("plan: site %s: %w", site.Domain, err)
		}
		for _, g := range store.Granularities {
			js, err := a.planSite(ctx, site, g, zone, loc, first, now)
			if err != nil {
				return nil, fmt.Errorf("plan: site %s, %s windows: %w", site.Domain, g, err)
			}
			jobs = append(jobs, js...)
		}
	}
	return jobs, nil
}

// planSite finds the windows of one site and granularity to run: complete
// windows since the first event whose last run did not succeed completely
// (the watermark is the first of them), windows with late events within the
// lookback, and the current window.
func (a *Aggregator) planSite(ctx context.Context, site store.Site, g store.Granularity, zone string, loc *time.Location, first, now time.Time) ([]Job, error) {
	current := store.WindowStart(g, loc, now)
	start := store.WindowStart(g, loc, first)
	if start.After(current) {
		// Events from the future (a skewed client clock): nothing is due yet.
		start = current
	}
	runs, err := a.opts.Store.Runs(ctx, store.RunQuery{SiteID: site.ID, Granularity: g, From: start, To: current})
	if err != nil {
		return nil, err
	}
	// The latest run of each window decides: a failed re-run after a good
	// one may have left the window half replaced.
	latest := map[int64]store.Run{}
	for _, r := range runs {
		if prev, ok := latest[r.WindowStart.Unix()]; !ok || r.Version >= prev.Version {
			latest[r.WindowStart.Unix()] = r
		}
	}
	todo := map[int64]string{}
	for _, w := range store.Windows(g, loc, start, current) {
		if r, ok := latest[w.Start.Unix()]; !ok || r.Status != store.RunOK || r.Partial {
			todo[w.Start.Unix()] = ReasonPending
		}
	}
	lateFrom := store.WindowStart(g, loc, now.Add(-a.opts.Lookback))
	if lateFrom.Before(start) {
		lateFrom = start
	}
	if lateFrom.Before(current) {
		late, err := a.opts.Store.LateWindows(ctx, store.LateQuery{SiteID: site.ID, Granularity: g, TimeZone: zone, From: lateFrom, To: current})
		if err != nil {
			return nil, err
		}
		for _, w := range late {
			if _, ok := todo[w.Unix()]; !ok {
				todo[w.Unix()] = ReasonLate
			}
		}
	}
	jobs := group(site, g, zone, loc, todo)
	jobs = append(jobs, Job{
		Site: site, Granularity: g, TimeZone: zone, From: current, To: store.NextWindow(g, loc, current),
		Windows: []store.Window{{Start: current, End: store.NextWindow(g, loc, current)}}, Partial: true, Reason: ReasonPartial,
	})
	return jobs, nil
}

// group turns windows (by start) into jobs of consecutive windows with the
// same reason, at most maxWindowsPerJob each.
func group(site store.Site, g store.Granularity, zone string, loc *time.Location, todo map[int64]string) []Job {
	starts := make([]int64, 0, len(todo))
	for s := range todo {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	var jobs []Job
	for _, s := range starts {
		start := time.Unix(s, 0).UTC()
		w := store.Window{Start: start, End: store.NextWindow(g, loc, start)}
		if n := len(jobs); n > 0 {
			last := &jobs[n-1]
			if last.To.Equal(w.Start) && last.Reason == todo[s] && len(last.Windows) < maxWindowsPerJob[g] {
				last.To = w.End
				last.Windows = append(last.Windows, w)
				continue
			}
		}
		jobs = append(jobs, Job{Site: site, Granularity: g, TimeZone: zone, From: w.Start, To: w.End, Windows: []store.Window{w}, Reason: todo[s]})
	}
	return jobs
}

// PlanRange lists the jobs Recompute runs.
func (a *Aggregator) PlanRange(ctx context.Context, from, to time.Time) ([]Job, error) {
	from, to = civilDate(from), civilDate(to)
	if to.Before(from) {
		return nil, fmt.Errorf("plan: %s is after %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	sites, err := a.opts.Store.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	now := a.opts.Now().UTC()
	var jobs []Job
	for _, site := range sites {
		zone := a.opts.Zone(site.Domain)
		loc, err := store.LoadZone(zone)
		if err != nil {
			return nil, fmt.Errorf("plan: site %s: %w", site.Domain, err)
		}
		for _, g := range store.Granularities {
			days := time.UTC
			if g == store.Daily {
				days = loc
			}
			start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, days)
			end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, days)
			todo := map[int64]string{}
			for _, w := range store.Windows(g, loc, start, end) {
				todo[w.Start.Unix()] = ReasonRecompute
			}
			for _, j := range group(site, g, zone, loc, todo) {
				// A job reaching into the open window is split so only that
				// window is marked partial.
				jobs = append(jobs, splitOpen(j, now)...)
			}
		}
	}
	return jobs, nil
}

// splitOpen splits off the windows of j that are not over at now, marked
// partial; windows that have not begun are dropped.
func splitOpen(j Job, now time.Time) []Job {
	i := slices.IndexFunc(j.Windows, func(w store.Window) bool { return w.End.After(now) })
	if i < 0 {
		return []Job{j}
	}
	var out []Job
	if i > 0 {
		done := j
		done.Windows = j.Windows[:i]
		done.To = done.Windows[i-1].End
		out = append(out, done)
	}
	if w := j.Windows[i]; !w.Start.After(now) {
		open := j
		open.Windows = []store.Window{w}
		open.From, open.To, open.Partial = w.Start, w.End, true
		out = append(out, open)
	}
	return out
}

// Run runs jobs in order and records each window in the run log. A failed
// job is recorded there (status failed, with the error) and the run goes
// on; the returned error joins every failure. Cancelling ctx stops after the
// current job.
func (a *Aggregator) Run(ctx context.Context, jobs []Job) (Summary, error) {
	var (
		sum  Summary
		errs []error
	)
	for i, j := range jobs {
		if err := ctx.Err(); err != nil {
			return sum, errors.Join(append(errs, err)...)
		}
		read, written, err := a.runJob(ctx, j)
		sum.Jobs++
		sum.Windows += len(j.Windows)
		sum.RowsRead += read
		sum.RowsWritten += written
		if err != nil {
			sum.Failed++
			errs = append(errs, fmt.Errorf("%s: %w", j, err))
		} else {
			a.opts.Log.Debug("aggregated", "site", j.Site.Domain, "granularity", j.Granularity,
				"from", j.From, "to", j.To, "reason", j.Reason, "rows_read", read, "rows_written", written)
		}
		if a.opts.Progress != nil {
			a.opts.Progress(Progress{Done: i + 1, Total: len(jobs), Job: j, Err: err})
		}
	}
	return sum, errors.Join(errs...)
}

// nextVersion returns a run version above every earlier one: the clock's
// nanoseconds, or one more than the last version if the clock stood still.
func (a *Aggregator) nextVersion() uint64 {
	for {
		last := a.version.Load()
		v := max(uint64(a.opts.Now().UnixNano()), last+1)
		if a.version.CompareAndSwap(last, v) {
			return v
		}
	}
}

// runJob replaces the rollups of one job's windows and logs the run.
func (a *Aggregator) runJob(ctx context.Context, j Job) (read, written uint64, err error) {
	// The run log keeps seconds: a start rounded down may re-queue a window
	// whose events came in during this second, never miss one.
	started := a.opts.Now().UTC().Truncate(time.Second)
	version := a.nextVersion()
	counts, err := a.opts.Store.ReplaceRollups(ctx, store.RollupSpec{
		SiteID: j.Site.ID, Granularity: j.Granularity, TimeZone: j.TimeZone,
		From: j.From, To: j.To, Partial: j.Partial, Version: version,
	})
	finished := a.opts.Now().UTC().Truncate(time.Second)
	byStart := map[int64]store.WindowCount{}
	for _, c := range counts {
		byStart[c.Start.Unix()] = c
		read += c.RowsRead
		written += c.RowsWritten
	}
	runs := make([]store.Run, len(j.Windows))
	for i, w := range j.Windows {
		c := byStart[w.Start.Unix()]
		runs[i] = store.Run{
			SiteID: j.Site.ID, Granularity: j.Granularity, WindowStart: w.Start, WindowEnd: w.End,
			Version: version, Started: started, Finished: finished,
			RowsRead: c.RowsRead, RowsWritten: c.RowsWritten, Status: store.RunOK, Partial: j.Partial,
		}
		if err != nil {
			runs[i].Status, runs[i].Error = store.RunFailed, err.Error()
		}
	}
	// The log must be written even when ctx was cancelled mid-job.
	logCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if lerr := a.opts.Store.AppendRuns(logCtx, runs); lerr != nil {
		return read, written, errors.Join(err, fmt.Errorf("write run log: %w", lerr))
	}
	return read, written, err
}

// Every runs Once, then after waits interval and runs it again, until ctx
// is cancelled. A failed pass is logged and the loop goes on. after, if
// not nil, runs after each pass (scheduled exports).
func (a *Aggregator) Every(ctx context.Context, interval time.Duration, after func(ctx context.Context) error) error {
	for {
		sum, err := a.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			a.opts.Log.Warn("aggregation pass had failures", "failed_jobs", sum.Failed, "err", err)
		}
		a.opts.Log.Info("aggregation pass", "jobs", sum.Jobs, "windows", sum.Windows, "failed", sum.Failed,
			"rows_read", sum.RowsRead, "rows_written", sum.RowsWritten)
		if after != nil {
			if err := after(ctx); err != nil && ctx.Err() == nil {
				a.opts.Log.Warn("after aggregation pass", "err", err)
			}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
