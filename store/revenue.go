package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Amount is a sum of money in ten-thousandths of its currency's unit: four
// decimals, the most any ISO 4217 currency has, so every price is exact
// and sums need no floating point. Never negative (refunds are not
// recorded).
type Amount uint64

// Limits of an event's revenue: MaxAmount per event keeps the sum of
// 10^9 events of the largest amount within an Amount.
const (
	amountScale     = 10000
	amountDecimals  = 4
	MaxAmount       = 1_000_000_000 * amountScale // one billion
	maxAmountDigits = 10                          // of the integer part
)

// ParseAmount reads a non-negative decimal of at most four decimals and
// at most MaxAmount: "19.90", "5", "0.0001".
func ParseAmount(s string) (Amount, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > maxAmountDigits || dot && (frac == "" || len(frac) > amountDecimals) ||
		strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf("want a decimal such as 19.90, at most %d decimals, got %q", amountDecimals, s)
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	f := uint64(0)
	if frac != "" {
		f, _ = strconv.ParseUint(frac+strings.Repeat("0", amountDecimals-len(frac)), 10, 64) // digits only
	}
	a := Amount(w*amountScale + f)
	if a > MaxAmount {
		return 0, fmt.Errorf("at most %s, got %q", Amount(MaxAmount), s)
	}
	return a, nil
}

// String is the amount as a decimal with two to four decimals: "19.90",
// "0.0001".
func (a Amount) String() string {
	s := fmt.Sprintf("%d.%04d", a/amountScale, a%amountScale)
	for range 2 {
		s = strings.TrimSuffix(s, "0")
	}
	return s
}

// MarshalJSON writes the decimal as a JSON string, which JavaScript reads
// without rounding.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return errors.New("amount: want a decimal string")
	}
	*a, err = ParseAmount(s)
	return err
}

// ValidCurrency reports whether c is an ISO 4217 code's shape: three
// upper-case letters.
func ValidCurrency(c string) bool {
	return len(c) == 3 && strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}
