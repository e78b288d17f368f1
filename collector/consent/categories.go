package consent

import (
	"fmt"
	"slices"
	"strings"

	"github.com/footfall/footfall/store"
)

// Categories is a set of optional consent categories, as the store's
// Consent* bits. "necessary" is implicit and always granted; it has no bit.
type Categories uint8

// The optional categories.
const (
	Analytics       = Categories(store.ConsentAnalytics)
	Personalization = Categories(store.ConsentPersonalization)
	Marketing       = Categories(store.ConsentMarketing)

	// All is every optional category.
	All = Analytics | Personalization | Marketing
)

// Necessary is the name of the implicit, always granted category.
const Necessary = "necessary"

// categoryNames is the public name of each bit, in the order Names reports.
var categoryNames = [...]struct {
	bit  Categories
	name string
}{
	{Analytics, "analytics"},
	{Personalization, "personalization"},
	{Marketing, "marketing"},
}

// Has reports whether c holds every category of x.
func (c Categories) Has(x Categories) bool { return c&x == x }

// Valid reports whether c holds no bits beyond All.
func (c Categories) Valid() bool { return c&^All == 0 }

// Names returns the names of the granted optional categories in the order
// analytics, personalization, marketing. "necessary" is not listed.
func (c Categories) Names() []string {
	names := make([]string, 0, len(categoryNames))
	for _, n := range categoryNames {
		if c.Has(n.bit) {
			names = append(names, n.name)
		}
	}
	return names
}

// Map returns the consent "categories" object: every category name, with
// necessary always true. ParseCategories(c.Map()) == c for a valid c.
func (c Categories) Map() map[string]bool {
	m := map[string]bool{Necessary: true}
	for _, n := range categoryNames {
		m[n.name] = c.Has(n.bit)
	}
	return m
}

// String returns the granted names joined by commas, or "none".
func (c Categories) String() string {
	if c&All == 0 {
		return "none"
	}
	return strings.Join(c.Names(), ",")
}

// ParseCategories reads the "categories" object of a consent decision. Keys
// must be necessary, analytics, personalization or marketing; a missing key
// is not granted; "necessary" may be omitted but not declined. Errors are
// meant for the client.
func ParseCategories(m map[string]bool) (Categories, error) {
	var c Categories
	var unknown []string
	declined := false
	for key, granted := range m {
		if key == Necessary {
			declined = !granted
			continue
		}
		bit, ok := categoryBit(key)
		if !ok {
			unknown = append(unknown, key)
			continue
		}
		if granted {
			c |= bit
		}
	}
	switch {
	case len(unknown) == 1:
		return 0, fmt.Errorf("unknown consent category %q: want necessary, analytics, personalization or marketing", unknown[0])
	case len(unknown) > 1:
		slices.Sort(unknown)
		return 0, fmt.Errorf("unknown consent categories %q: want necessary, analytics, personalization or marketing", unknown)
	case declined:
		return 0, fmt.Errorf("consent category %q cannot be declined", Necessary)
	}
	return c, nil
}

func categoryBit(name string) (Categories, bool) {
	for _, n := range categoryNames {
		if n.name == name {
			return n.bit, true
		}
	}
	return 0, false
}
