package aggregator_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
)

const funnelPartner = `sites:
  - domain: shop.example
    goals:
      - {name: Home, page: /}
      - {name: Pricing, page: /pricing}
      - {name: Signup, event: Signup}
    funnels:
      - {name: Buy, steps: [Home, Pricing, Signup]}
partners:
  - name: acme
    sites: [shop.example]
    k: 3
    dimensions: [total]
    metrics: [visitors, pageviews]
    funnels: [Buy]
`

// TestReleaseFunnels: a partner's funnel table has per step the visitors
// that reached it in order (storetest.FunnelEvents: 5, 3 and 1), each
// under k (3: step 3 is suppressed), GPC visitors left out (visitor 1,
// once with GPC on, takes step 2 to 2 visitors, under k).
func TestReleaseFunnels(t *testing.T) {
	eachBackend(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		site, err := st.AddSite(ctx, "shop.example")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InsertEvents(ctx, storetest.FunnelEvents(site.ID)); err != nil {
			t.Fatal(err)
		}
		p, cfg := partner(t, funnelPartner)
		req := aggregator.ReleaseRequest{Partner: p, From: storetest.PropsDay, To: storetest.PropsDay, Goals: cfg.SiteGoals, Funnels: cfg.SiteFunnels}
		funnelTable := func() []aggregator.Row {
			t.Helper()
			r, err := aggregator.NewRelease(ctx, st, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Tables) != 2 || r.Tables[1].Dimension != "funnel:Buy" || !cmp.Equal(r.Params.Funnels, []string{"Buy"}) {
				t.Fatalf("tables %+v, params %+v: want total and funnel:Buy", r.Tables, r.Params)
			}
			return r.Tables[1].Rows
		}
		want := []aggregator.Row{
			{Site: "shop.example", Day: "2026-03-02", Value: "1. Home", Metrics: []int64{5, 0}},
			{Site: "shop.example", Day: "2026-03-02", Value: "2. Pricing", Metrics: []int64{3, 0}},
		}
		if diff := cmp.Diff(want, funnelTable()); diff != "" {
			t.Errorf("funnel table (-want +got):\n%s", diff)
		}
		gpc := storetest.FunnelEvents(site.ID)[0]
		gpc.ID, gpc.GPC, gpc.Path, gpc.Time = uuid.New(), true, "/docs", gpc.Time.Add(3600e9)
		if err := st.InsertEvents(ctx, []store.Event{gpc}); err != nil {
			t.Fatal(err)
		}
		want = []aggregator.Row{{Site: "shop.example", Day: "2026-03-02", Value: "1. Home", Metrics: []int64{4, 0}}}
		if diff := cmp.Diff(want, funnelTable()); diff != "" {
			t.Errorf("funnel table without the GPC visitor (-want +got):\n%s", diff)
		}
	})
}

// TestReleaseFunnelsWithNoise: with an epsilon, every published funnel
// count is noised with l0 = the funnel's steps and linf = 1 at the
// release's epsilon per count (one more count per funnel), and steps are
// suppressed by their true counts.
func TestReleaseFunnelsWithNoise(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	site, err := st.AddSite(ctx, "shop.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InsertEvents(ctx, storetest.FunnelEvents(site.ID)); err != nil {
		t.Fatal(err)
	}
	p, cfg := partner(t, funnelPartner+"    epsilon: 3\n    bounds: {max_cells: 2, max_pageviews: 3}\n")
	rec := &recordingNoise{inner: aggregator.LaplaceNoise{}}
	r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: storetest.PropsDay, To: storetest.PropsDay,
		Goals: cfg.SiteGoals, Funnels: cfg.SiteFunnels, Noise: rec})
	if err != nil {
		t.Fatal(err)
	}
	wantEps := 3.0 / 3 // total × two metrics, and the funnel's visitors
	if r.Params.EpsilonPerCount != wantEps || r.Params.NoiseScale["funnel:Buy"] != 3/wantEps {
		t.Errorf("params %+v: want ε per count %g, funnel scale %g", r.Params, wantEps, 3/wantEps)
	}
	var funnel []int64
	for _, d := range rec.draws {
		if d.l0 == 3 && d.linf == 1 {
			funnel = append(funnel, d.x)
			if d.eps != wantEps {
				t.Errorf("funnel draw %+v: want ε %g", d, wantEps)
			}
		}
	}
	// Steps 1 and 2 (5 and 3 visitors); step 3 (1 visitor) is under k and
	// never noised into the release.
	if !cmp.Equal(funnel, []int64{5, 3}) {
		t.Errorf("funnel counts noised: %v, want [5 3]", funnel)
	}
	if rows := r.Tables[1].Rows; len(rows) != 2 || rows[0].Metrics[1] != 0 {
		t.Errorf("funnel rows %+v: want steps 1 and 2, pageviews 0", rows)
	}
}

// TestExportFunnelFile: a funnel table's file is named by its place, not
// by the funnel's name (an operator's text, which may hold a "/").
func TestExportFunnelFile(t *testing.T) {
	r := &aggregator.Release{Partner: "acme", From: "2026-03-02", To: "2026-03-02",
		Params: aggregator.ReleaseParams{Metrics: []string{"visitors"}},
		Tables: []aggregator.Table{{Dimension: "funnel:a/../../b", Rows: []aggregator.Row{{Site: "shop.example", Day: "2026-03-02", Value: "1. A", Metrics: []int64{12}}}}}}
	dir := t.TempDir()
	m, err := aggregator.WriteExport(dir, r, aggregator.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 1 || m.Files[0].Name != "funnel-1.csv" || m.Files[0].Dimension != "funnel:a/../../b" {
		t.Errorf("files %+v, want funnel-1.csv for funnel:a/../../b", m.Files)
	}
	if rows := readCSV(t, filepath.Join(dir, "funnel-1.csv")); len(rows) != 2 {
		t.Errorf("funnel-1.csv: %v, want a header and one row", rows)
	}
}
