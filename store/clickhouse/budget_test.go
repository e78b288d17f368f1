package clickhouse_test

import (
	"context"
	"errors"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

// TestBudgetStopsOnServer: a report query under a deadline is stopped by
// ClickHouse itself (max_execution_time, a second and more before the
// deadline), and the error says it was over budget.
func TestBudgetStopsOnServer(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	err := s.Endless(ctx)
	if !errors.Is(err, store.ErrOverBudget) {
		t.Fatalf("got %v, want store.ErrOverBudget", err)
	}
	var exc *ch.Exception
	if !errors.As(err, &exc) || exc.Code != 159 {
		t.Errorf("got %v, want ClickHouse's TIMEOUT_EXCEEDED (159): the server, not the client, stops the query", err)
	}
}
