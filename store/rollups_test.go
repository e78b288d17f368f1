package store

import "testing"

func TestEmailValue(t *testing.T) {
	tests := []struct {
		name, campaign, link, want string
	}{
		{"plain", "spring", "hero", "spring/hero"},
		{"no link id", "spring", "", "spring/"},
		{"slash in the campaign", "spring/sale", "hero", "spring%2Fsale/hero"},
		{"escaped slash in the campaign", "spring%2Fsale", "hero", "spring%252Fsale/hero"},
		{"percent in the campaign", "50%-off", "x", "50%25-off/x"},
		{"slashes in the link id", "c", "nav/pricing/", "c/nav/pricing/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EmailValue(tt.campaign, tt.link)
			if got != tt.want {
				t.Fatalf("EmailValue(%q, %q) = %q, want %q", tt.campaign, tt.link, got, tt.want)
			}
			c, l, err := ParseEmailValue(got)
			if err != nil || c != tt.campaign || l != tt.link {
				t.Errorf("ParseEmailValue(%q) = %q, %q, %v; want %q, %q", got, c, l, err, tt.campaign, tt.link)
			}
		})
	}
	for _, bad := range []string{"no-slash", "50%-off/x", "a%2f/x", "a%/x"} {
		if c, l, err := ParseEmailValue(bad); err == nil {
			t.Errorf("ParseEmailValue(%q) = %q, %q; want an error", bad, c, l)
		}
	}
}

func TestEmailDimensions(t *testing.T) {
	for _, d := range []string{DimEmailOpen, DimEmailClick} {
		if !KnownDimension(d) || !EmailDimension(d) || SessionDimension(d) {
			t.Errorf("%s: known %v, e-mail %v, session %v; want true, true, false", d, KnownDimension(d), EmailDimension(d), SessionDimension(d))
		}
	}
	for _, d := range RollupDimensions {
		if EmailDimension(d) != (d == DimEmailOpen || d == DimEmailClick) {
			t.Errorf("EmailDimension(%q) = %v", d, EmailDimension(d))
		}
	}
}
