package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// ReportKey signs the unsubscribe links of scheduled e-mail reports. It is
// a key of its own, not a consent key: the aggregator, which sends the
// reports, never reads consent keys.
type ReportKey struct {
	ID      string // 8 lowercase hex characters, named in every link it signs
	Secret  []byte // 32 random bytes
	Created time.Time
}

// String names the key without its secret, so that a logged key leaks nothing.
func (k ReportKey) String() string { return "report key " + k.ID }

// GoString is String, for %#v.
func (k ReportKey) GoString() string { return k.String() }

// ReportSend records that a scheduled e-mail report of a period went to a
// recipient: each period is sent once per recipient, restarts included.
type ReportSend struct {
	SiteID    uint32
	Schedule  string // daily, weekly or monthly
	From      string // the period's first day, YYYY-MM-DD in the site's zone
	Recipient string // RecipientHash of the address
	SentAt    time.Time
}

// ReportUnsubscribe records that a recipient asked for no more e-mail
// reports of a site.
type ReportUnsubscribe struct {
	SiteID    uint32
	Recipient string // RecipientHash of the address
	At        time.Time
}

// RecipientHash is how the store names a report's recipient: the hex
// SHA-256 of the lower-cased address, cut to 128 bits. Addresses are not
// stored; the configuration lists them.
func RecipientHash(addr string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(addr))))
	return hex.EncodeToString(h[:16])
}
