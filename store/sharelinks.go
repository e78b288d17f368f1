package store

import "time"

// ShareLink is a read-only link to a site's anonymised release (web/share).
// The link itself is shown once when it is created; the store keeps the
// SHA-256 of its secret part, and an argon2id hash of its password if it
// has one. Neither is ever logged.
type ShareLink struct {
	ID           string // random, 16 hex digits; the public part of the link
	SecretHash   string // hex SHA-256 of the secret part
	SiteID       uint32
	Name         string // a label chosen by whoever created it
	PasswordHash string // argon2id; "" for a link without a password
	// Embed links may be shown in an iframe by the origins in
	// FrameAncestors (such as https://blog.example.com); other links by
	// none.
	Embed          bool
	FrameAncestors []string
	CreatedBy      string // the audit log's actor who created it
	CreatedAt      time.Time
	ExpiresAt      time.Time // zero: never
	RevokedAt      time.Time // zero: not revoked
}

// Revoked reports whether the link has been revoked.
func (l ShareLink) Revoked() bool { return !l.RevokedAt.IsZero() }

// Expired reports whether the link has expired at now.
func (l ShareLink) Expired(now time.Time) bool {
	return !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt)
}
