package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

// codeTimeoutExceeded is ClickHouse's TIMEOUT_EXCEEDED: max_execution_time
// stopped the query.
const codeTimeoutExceeded = 159

// budgeted returns ctx with settings and, when ctx has a deadline, that
// deadline as max_execution_time less a second: ClickHouse then stops the
// query itself, frees its memory and says why, before the client would
// give up.
func budgeted(ctx context.Context, settings ch.Settings) context.Context {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ch.Context(ctx, ch.WithSettings(settings))
	}
	with := maps.Clone(settings)
	if with == nil {
		with = ch.Settings{}
	}
	// Whole seconds: 18.16 takes int-valued settings only.
	with["max_execution_time"] = max(1, int(time.Until(deadline)/time.Second)-1)
	return ch.Context(serverLimited{ctx}, ch.WithSettings(with))
}

// serverLimited hides ctx's deadline from clickhouse-go, which would
// otherwise replace max_execution_time by the deadline plus 5 s (the
// server working on after the client gave up). Done still fires at the
// deadline: the client's backstop, it cancels the query.
type serverLimited struct{ context.Context }

func (serverLimited) Deadline() (time.Time, bool) { return time.Time{}, false }

// budgetErr marks a query that ClickHouse stopped at max_execution_time,
// or that ran into ctx's deadline, as store.ErrOverBudget.
func budgetErr(ctx context.Context, err error) error {
	var exc *ch.Exception
	if errors.As(err, &exc) && exc.Code == codeTimeoutExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", store.ErrOverBudget, err)
	}
	return err
}
