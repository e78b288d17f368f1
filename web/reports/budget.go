package reports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// DefaultBudget is a report's time limit when Options.Budget is zero:
// below the HTTP server's 30 s write timeout, so the client hears a 503
// instead of a cut connection.
const DefaultBudget = 20 * time.Second

// Budget runs a report handler with its time limit: every store query of
// the report shares the deadline (ClickHouse also gets it as
// max_execution_time). A report over its budget is a 503 {"error": …}
// that says what to narrow, logged by httpapi.Handle and counted in
// footfall_reports_over_budget_total.
func (h *Handler) Budget(next httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), h.budget)
		defer cancel()
		err := next(w, r.WithContext(ctx))
		if err == nil || !overBudget(ctx, r.Context(), err) {
			return err
		}
		h.overBudget.Inc()
		return &httpapi.Error{
			Code: http.StatusServiceUnavailable,
			Msg: fmt.Sprintf("the report took longer than its %s budget; narrow it: a shorter period, fewer filters, "+
				"or a filter on one session dimension (country, source, device …)", h.budget),
			Err: fmt.Errorf("report over its %s budget: %w", h.budget, err),
		}
	}
}

// overBudget reports whether err is the budget running out, not the
// client going away (parent cancelled) or another failure.
func overBudget(ctx, parent context.Context, err error) bool {
	if parent.Err() != nil {
		return false
	}
	return errors.Is(err, store.ErrOverBudget) || errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// newOverBudget registers the over-budget counter on reg; nil keeps it
// unregistered.
func newOverBudget(reg prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "footfall_reports_over_budget_total",
		Help: "Report requests stopped at their time budget and answered 503.",
	})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}
