package reports

import (
	"net/http"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// A Card is one table of the dashboard: tabs, each one breakdown property.
type Card struct {
	Title string `json:"title"`
	Wide  bool   `json:"wide,omitempty"`
	Tabs  []Tab  `json:"tabs"`
}

// A Tab is one breakdown property of a card.
type Tab struct {
	Property string   `json:"property"`
	Label    string   `json:"label"`
	Col      string   `json:"col"`
	Metrics  []string `json:"metrics"`
}

// wideCards span the dashboard's width.
var wideCards = map[string]bool{"Events": true}

// dashboardCards is the dashboard's tables, from store.Dimensions: cards in
// the order their first dimension comes.
var dashboardCards = func() []Card {
	var cards []Card
	for _, d := range store.Dimensions {
		if d.Card == "" {
			continue
		}
		if len(cards) == 0 || cards[len(cards)-1].Title != d.Card {
			cards = append(cards, Card{Title: d.Card, Wide: wideCards[d.Card]})
		}
		c := &cards[len(cards)-1]
		c.Tabs = append(c.Tabs, Tab{Property: d.Name, Label: d.Label, Col: d.Heading, Metrics: d.Metrics})
		if d.Name == store.DimEventTarget {
			// The custom property keys, which no rollup keeps (not a
			// row of store.Dimensions).
			c.Tabs = append(c.Tabs, Tab{Property: store.DimProps, Label: "Properties", Col: "Property", Metrics: []string{"visitors", "events"}})
		}
	}
	return append(cards, Card{Title: "Goals", Tabs: []Tab{{Property: store.DimGoal, Label: "Goals", Col: "Goal",
		Metrics: []string{"visitors", "visits", "conversion_rate"}},
		{Property: store.DimNotFound, Label: "Broken URLs", Col: "URL", Metrics: []string{"visitors", "events"}}}})
}()

// HandleDimensions is GET /api/v1/stats/dimensions: the dashboard's cards
// and tabs, one tab per dimension that has one.
func (h *Handler) HandleDimensions(w http.ResponseWriter, r *http.Request) error {
	if _, err := query(r, "/api/v1/stats/dimensions"); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cards": dashboardCards})
	return nil
}
