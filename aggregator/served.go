package aggregator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// ReleaseStore keeps the releases served to partners.
type ReleaseStore interface {
	CellSource
	AddPartnerRelease(ctx context.Context, r store.PartnerRelease) error
	// PartnerRelease returns the first release stored for a window, or
	// store.ErrNotFound.
	PartnerRelease(ctx context.Context, partner, from, to string) (store.PartnerRelease, error)
	// PartnerReleases lists the releases stored since a time, oldest
	// (created, id) first, without bodies.
	PartnerReleases(ctx context.Context, partner string, since time.Time) ([]store.PartnerRelease, error)
}

// BudgetError refuses a new release: it would take the partner's epsilon
// spent in the period past the budget.
type BudgetError struct {
	Spent, Budget, Epsilon float64
	// Next is when the next period, with a fresh budget, begins.
	Next time.Time
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("the privacy budget of this period is spent (epsilon %.3g of %.3g used, a new window costs %.3g); windows already released are still served; the next period begins %s",
		e.Spent, e.Budget, e.Epsilon, e.Next.Format(time.DateOnly))
}

// Releaser serves partner releases under a privacy budget. A window's
// release is computed once, with fresh noise, and stored; every later
// request for the window gets the stored release, so averaging repeated
// answers learns nothing new. Each new window costs the partner's epsilon,
// and the epsilon of the windows released in a budget period (a calendar
// day, week or month, UTC) may not exceed the partner's budget: basic
// sequential composition, the conservative accounting of the Google
// differential-privacy library's privacy budget.
type Releaser struct {
	// mu serialises new releases of this process, so that two requests for
	// one window compute it once and two windows do not both pass the
	// budget check. Across replicas the first stored (created, id) release
	// of a window wins, and a release is served only if the budget holds it
	// in that order. Two replicas releasing new windows in the same second
	// may still both serve theirs (the order between them is only known
	// after both read back): route partner API calls to one replica for a
	// hard cap.
	mu sync.Mutex
	st ReleaseStore
}

// NewReleaser returns a Releaser over st.
func NewReleaser(st ReleaseStore) *Releaser { return &Releaser{st: st} }

// Serve returns the partner's release of req's window: the stored one, or
// a new one if the budget allows (a *BudgetError if not).
func (rl *Releaser) Serve(ctx context.Context, req ReleaseRequest) (*Release, error) {
	if req.Now == nil {
		req.Now = time.Now
	}
	p := req.Partner
	from, to := civilDate(req.From).Format(time.DateOnly), civilDate(req.To).Format(time.DateOnly)
	if rel, err := rl.stored(ctx, p, from, to); rel != nil || err != nil {
		return rel, err
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rel, err := rl.stored(ctx, p, from, to); rel != nil || err != nil {
		return rel, err // made while this request waited
	}
	now := req.Now().UTC().Truncate(time.Second)
	start, next := budgetPeriod(p.BudgetPeriod, now)
	if p.Epsilon > 0 {
		spent, err := rl.spent(ctx, p, start, "", "")
		if err != nil {
			return nil, err
		}
		if spent+p.Epsilon > p.EpsilonBudget*(1+1e-9) {
			return nil, &BudgetError{Spent: spent, Budget: p.EpsilonBudget, Epsilon: p.Epsilon, Next: next}
		}
	}
	rel, err := NewRelease(ctx, rl.st, req)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(rel)
	if err != nil {
		return nil, fmt.Errorf("partner release: %w", err)
	}
	if err := rl.st.AddPartnerRelease(ctx, store.PartnerRelease{
		ID: uuid.New(), Partner: p.Name, From: from, To: to, Epsilon: p.Epsilon, Created: now, Body: body,
	}); err != nil {
		return nil, err
	}
	// Read back: another replica may have stored the window first.
	rel, err = rl.stored(ctx, p, from, to)
	if rel == nil && err == nil {
		err = fmt.Errorf("partner release %s %s..%s: stored but not found", p.Name, from, to)
	}
	return rel, err
}

// stored returns the window's stored release, nil if there is none. A
// release stored by a replica that raced past the budget is refused.
func (rl *Releaser) stored(ctx context.Context, p config.Partner, from, to string) (*Release, error) {
	sr, err := rl.st.PartnerRelease(ctx, p.Name, from, to)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if sr.Epsilon > 0 {
		start, next := budgetPeriod(p.BudgetPeriod, sr.Created)
		spent, err := rl.spent(ctx, p, start, from, to)
		if err != nil {
			return nil, err
		}
		if spent > p.EpsilonBudget*(1+1e-9) {
			return nil, &BudgetError{Spent: spent - sr.Epsilon, Budget: p.EpsilonBudget, Epsilon: sr.Epsilon, Next: next}
		}
	}
	var rel Release
	if err := json.Unmarshal(sr.Body, &rel); err != nil {
		return nil, fmt.Errorf("partner release %s %s..%s: %w", p.Name, from, to, err)
	}
	return &rel, nil
}

// spent is the epsilon of the windows first released in the period that
// starts at start, in (created, id) order; with a window named, up to and
// including it.
func (rl *Releaser) spent(ctx context.Context, p config.Partner, start time.Time, from, to string) (float64, error) {
	rels, err := rl.st.PartnerReleases(ctx, p.Name, start)
	if err != nil {
		return 0, err
	}
	_, next := budgetPeriod(p.BudgetPeriod, start)
	seen := map[[2]string]bool{}
	var sum float64
	for _, r := range rels {
		w := [2]string{r.From, r.To}
		if !r.Created.Before(next) || seen[w] {
			continue // a later period, or a copy a racing replica stored
		}
		seen[w] = true
		sum += r.Epsilon
		if r.From == from && r.To == to {
			break
		}
	}
	return sum, nil
}

// budgetPeriod returns the start of the budget period holding t and the
// start of the next one (UTC).
func budgetPeriod(period string, t time.Time) (start, next time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case "day":
		return day, day.AddDate(0, 0, 1)
	case "week":
		start = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return start, start.AddDate(0, 0, 7)
	default:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
}
