package store

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCategoryBits(t *testing.T) {
	// The bits are stored (Event.Consent, the ledger's granted mask): they must not move.
	for _, tc := range []struct {
		name string
		got  Categories
		want uint8
	}{
		{"analytics", ConsentAnalytics, 1},
		{"personalization", ConsentPersonalization, 2},
		{"marketing", ConsentMarketing, 4},
		{"all", ConsentAll, 7},
	} {
		if uint8(tc.got) != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, uint8(tc.got), tc.want)
		}
	}
}

func TestCategoriesMethods(t *testing.T) {
	for _, tc := range []struct {
		c         Categories
		wantNames []string
		wantStr   string
	}{
		{0, []string{}, "none"},
		{ConsentAnalytics, []string{"analytics"}, "analytics"},
		{ConsentMarketing | ConsentAnalytics, []string{"analytics", "marketing"}, "analytics,marketing"},
		{ConsentAll, []string{"analytics", "personalization", "marketing"}, "analytics,personalization,marketing"},
	} {
		t.Run(tc.wantStr, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantNames, tc.c.Names()); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
			if got := tc.c.String(); got != tc.wantStr {
				t.Errorf("String = %q, want %q", got, tc.wantStr)
			}
			back, err := ParseCategories(tc.c.Map())
			if err != nil || back != tc.c {
				t.Errorf("ParseCategories(Map()) = %v, %v; want %v", back, err, tc.c)
			}
		})
	}
	for _, tc := range []struct {
		c, x Categories
		want bool
	}{
		{ConsentAll, ConsentAnalytics, true},
		{ConsentAnalytics, ConsentAnalytics | ConsentMarketing, false},
		{ConsentAnalytics | ConsentMarketing, ConsentAnalytics | ConsentMarketing, true},
		{0, 0, true},
		{ConsentPersonalization, ConsentAnalytics, false},
	} {
		if got := tc.c.Has(tc.x); got != tc.want {
			t.Errorf("%v.Has(%v) = %t, want %t", tc.c, tc.x, got, tc.want)
		}
	}
}

func TestParseCategories(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      map[string]bool
		want    Categories
		wantErr string // substring; "" for none
	}{
		{"nil", nil, 0, ""},
		{"only necessary", map[string]bool{"necessary": true}, 0, ""},
		{"all", map[string]bool{"necessary": true, "analytics": true, "personalization": true, "marketing": true}, ConsentAll, ""},
		{"false is not granted", map[string]bool{"analytics": true, "marketing": false}, ConsentAnalytics, ""},
		{"necessary may be omitted", map[string]bool{"personalization": true}, ConsentPersonalization, ""},
		{"necessary declined", map[string]bool{"necessary": false, "analytics": true}, 0, `"necessary" cannot be declined`},
		{"unknown key", map[string]bool{"analytics": true, "statistics": true}, 0, `unknown consent category "statistics"`},
		{"case matters", map[string]bool{"Analytics": true}, 0, `unknown consent category "Analytics"`},
		{"unknown keys sorted", map[string]bool{"zz": false, "aa": true}, 0, `unknown consent categories ["aa" "zz"]`},
		{"unknown wins over declined necessary", map[string]bool{"necessary": false, "x": true}, 0, `unknown consent category "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCategories(tc.in)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ParseCategories: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("ParseCategories: error %v, want one containing %q", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ParseCategories = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzParseCategories decodes the consent "categories" object as the
// consent endpoint will and checks ParseCategories against its contract.
func FuzzParseCategories(f *testing.F) {
	f.Add([]byte(`{"necessary":true,"analytics":true,"personalization":false,"marketing":true}`))
	f.Add([]byte(`{"necessary":false}`))
	f.Add([]byte(`{"analytics":true,"Analytics":true,"other":false}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]bool
		if json.Unmarshal(data, &m) != nil {
			return
		}
		c, err := ParseCategories(m)
		if err != nil {
			if c != 0 {
				t.Fatalf("ParseCategories(%v) = %v with error %v", m, c, err)
			}
			known := map[string]bool{"necessary": true, "analytics": true, "personalization": true, "marketing": true}
			for k := range m {
				if !known[k] {
					return
				}
			}
			if n, ok := m["necessary"]; !ok || n {
				t.Fatalf("ParseCategories(%v): unexpected error %v", m, err)
			}
			return
		}
		if !c.Valid() {
			t.Fatalf("ParseCategories(%v) = %#x, beyond All", m, uint8(c))
		}
		for _, n := range ConsentCategories {
			if c.Has(n.Bit) != m[n.Name] {
				t.Fatalf("ParseCategories(%v) = %v: %s is %t", m, c, n.Name, c.Has(n.Bit))
			}
		}
		if back, err := ParseCategories(c.Map()); err != nil || back != c {
			t.Fatalf("ParseCategories(%v.Map()) = %v, %v", c, back, err)
		}
	})
}
