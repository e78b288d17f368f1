package store

import (
	"fmt"
	"slices"
	"time"
)

// VisitorQuery asks for the distinct visitor keys of one site's raw events
// in [From, To), bots left out: the unique visitors of a range that spans
// several rollup windows, which cannot be summed from the windows' counts.
// It reads the raw events, so it answers only within their retention.
type VisitorQuery struct {
	SiteID uint32
	From   time.Time
	To     time.Time
}

// ValueVisitorQuery asks for the distinct visitor keys per value of one
// dimension over [From, To) as one window: visits are sessionised over the
// whole range, as the aggregator would with a single window, and a visitor
// counts under every value one of its visits (session dimensions) or events
// (event dimensions) had. Bots are left out. It reads the raw events, so
// it answers only within their retention.
type ValueVisitorQuery struct {
	SiteID    uint32
	Dimension string // a rollup dimension other than the total
	From      time.Time
	To        time.Time
}

// FilteredBreakdownQuery asks for the metrics per value of Dimension over
// the visits of [From, To), taken as one window, that match a filter on
// another dimension: FilterDim equal to (Op "=="), not equal to ("!=") or
// containing ("~", case-insensitively) FilterValue. A visit matches when
// its value of a session dimension, or one of its events' values of an
// event dimension, does. Bots are left out; raw events only, within their
// retention. Rows carry Dimension, Value and the metrics.
type FilteredBreakdownQuery struct {
	SiteID      uint32
	Dimension   string
	FilterDim   string
	FilterOp    string
	FilterValue string
	From        time.Time
	To          time.Time
}

// Validate checks the dimensions and the operator.
func (q FilteredBreakdownQuery) Validate() error {
	for _, d := range []string{q.Dimension, q.FilterDim} {
		if d == DimTotal || !KnownDimension(d) {
			return fmt.Errorf("filtered breakdown: unknown dimension %q", d)
		}
	}
	if !slices.Contains([]string{"==", "!=", "~"}, q.FilterOp) {
		return fmt.Errorf("filtered breakdown: unknown operator %q", q.FilterOp)
	}
	return nil
}
