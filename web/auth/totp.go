package auth

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/footfall/footfall/store"
)

// Two-factor sign-in uses time-based one-time passwords (RFC 6238) as every
// authenticator app reads them: SHA-1, 6 digits, a 30-second period. A
// code is accepted for its own period and the ones either side (clock
// skew), and only once.
const (
	totpPeriod = 30
	totpSkew   = 1
	totpIssuer = "Footfall"
)

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTP makes a new second factor for a user with address email: what to
// store, and the otpauth:// URL to show the user once (an authenticator
// app reads it as a QR code, or the secret typed in).
func NewTOTP(userID, email string, now time.Time) (store.TOTP, string, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: email, Period: totpPeriod, SecretSize: 20})
	if err != nil {
		return store.TOTP{}, "", fmt.Errorf("new two-factor secret: %w", err)
	}
	return store.TOTP{UserID: userID, Secret: key.Secret(), CreatedAt: now.UTC().Truncate(time.Second)}, key.URL(), nil
}

// usedCodes remembers, per user, the last time step whose code signed in,
// so that a code seen over a shoulder or in a log cannot sign in again. It
// lives in memory: another replica accepts the same code once more within
// its 90 seconds, which the lockout still bounds.
type usedCodes struct {
	mu   sync.Mutex
	last map[string]int64 // user id → time step
}

// checkTOTP reports whether code is the user's current code (or the one
// before or after), not used before, and records its time step.
func (a *Auth) checkTOTP(t store.TOTP, code string, now time.Time) bool {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != int(otp.DigitsSix) {
		return false
	}
	step := now.Unix() / totpPeriod
	for s := step - totpSkew; s <= step+totpSkew; s++ {
		ok, err := hotp.ValidateCustom(code, uint64(s), t.Secret, totpOpts)
		if err != nil || !ok {
			continue
		}
		a.totpUsed.mu.Lock()
		defer a.totpUsed.mu.Unlock()
		if s <= a.totpUsed.last[t.UserID] {
			return false // replayed
		}
		if len(a.totpUsed.last) >= a.opts.LockEntries {
			clear(a.totpUsed.last) // entries older than 90 s are harmless to forget
		}
		a.totpUsed.last[t.UserID] = s
		return true
	}
	return false
}
