package store

import "time"

// SaltSize is the length of a daily salt's secret in bytes.
const SaltSize = 32

// Salt is one day's secret for visitor keys (collector/enrich keys visitors
// with it; the stores keep it for at most 48 hours).
type Salt struct {
	Day     time.Time // UTC midnight of the day it keys
	Secret  []byte    // SaltSize random bytes
	Created time.Time // when a collector created it; the earliest of a day wins
}
