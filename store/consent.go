package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Categories is a set of optional consent categories, as granted by a
// consent decision and kept in Event.Consent. "necessary" is implicit and
// always granted; it has no bit.
type Categories uint8

// The optional consent categories.
const (
	ConsentAnalytics Categories = 1 << iota
	ConsentPersonalization
	ConsentMarketing

	// ConsentAll is every optional category.
	ConsentAll = ConsentAnalytics | ConsentPersonalization | ConsentMarketing
)

// ConsentNecessary is the name of the implicit, always granted category.
const ConsentNecessary = "necessary"

// ConsentCategories is the public name of each optional category, in the
// order Names reports them.
var ConsentCategories = [...]struct {
	Name string
	Bit  Categories
}{
	{"analytics", ConsentAnalytics},
	{"personalization", ConsentPersonalization},
	{"marketing", ConsentMarketing},
}

// Has reports whether c holds every category of x.
func (c Categories) Has(x Categories) bool { return c&x == x }

// Valid reports whether c holds no bits beyond ConsentAll.
func (c Categories) Valid() bool { return c&^ConsentAll == 0 }

// Names returns the names of the granted optional categories in the order
// analytics, personalization, marketing. "necessary" is not listed.
func (c Categories) Names() []string {
	names := make([]string, 0, len(ConsentCategories))
	for _, n := range ConsentCategories {
		if c.Has(n.Bit) {
			names = append(names, n.Name)
		}
	}
	return names
}

// Map returns the consent "categories" object: every category name, with
// necessary always true. ParseCategories(c.Map()) == c for a valid c.
func (c Categories) Map() map[string]bool {
	m := map[string]bool{ConsentNecessary: true}
	for _, n := range ConsentCategories {
		m[n.Name] = c.Has(n.Bit)
	}
	return m
}

// MarshalJSON writes c as its Map: {"necessary": true, "analytics": …}.
func (c Categories) MarshalJSON() ([]byte, error) { return json.Marshal(c.Map()) }

// UnmarshalJSON reads what MarshalJSON writes (see ParseCategories).
func (c *Categories) UnmarshalJSON(b []byte) error {
	var m map[string]bool
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	parsed, err := ParseCategories(m)
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}

// String returns the granted names joined by commas, or "none".
func (c Categories) String() string {
	if c&ConsentAll == 0 {
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
		if key == ConsentNecessary {
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
		return 0, fmt.Errorf("consent category %q cannot be declined", ConsentNecessary)
	}
	return c, nil
}

func categoryBit(name string) (Categories, bool) {
	for _, n := range ConsentCategories {
		if n.Name == name {
			return n.Bit, true
		}
	}
	return 0, false
}

// ConsentAction is what a consent decision did; its names are stored in the
// ledger.
type ConsentAction string

// The ledger actions.
const (
	ConsentAcceptAll ConsentAction = "accept_all"
	ConsentRejectAll ConsentAction = "reject_all"
	ConsentCustom    ConsentAction = "custom"
	ConsentWithdraw  ConsentAction = "withdraw"
	ConsentExpire    ConsentAction = "expire"
	ConsentGPCAuto   ConsentAction = "gpc_auto" // GPC turned off marketing the visitor asked for
)

// Valid reports whether a is a known action.
func (a ConsentAction) Valid() bool {
	switch a {
	case ConsentAcceptAll, ConsentRejectAll, ConsentCustom, ConsentWithdraw, ConsentExpire, ConsentGPCAuto:
		return true
	}
	return false
}

// ConsentSignal is what carried a consent decision to Footfall: the
// visitor's own act on Footfall's banner or opt-out link, or the page
// relaying a decision (its script, or the consent platform Footfall follows).
// The privacy signals that then narrowed it are the record's GPC and DNT;
// Action gpc_auto says that GPC took marketing off.
type ConsentSignal string

// The signals a ledger record names.
const (
	SignalBanner            ConsentSignal = "banner"              // a button of Footfall's banner
	SignalOptOutLink        ConsentSignal = "opt_out_link"        // an opt-out link or footfall('settings', 'opt-out')
	SignalPageScript        ConsentSignal = "page_script"         // the page called footfall('consent', …)
	SignalGoogleConsentMode ConsentSignal = "google_consent_mode" // a Google Consent Mode v2 update on the page
	SignalTCF               ConsentSignal = "tcf"                 // the page's IAB TCF v2 consent platform
	SignalUnstated          ConsentSignal = "unstated"            // a client that did not say (an older snippet, a direct API call)
)

// ConsentSignals lists every signal a client may state, in documentation
// order; SignalUnstated is the server's, for a body without one.
var ConsentSignals = []ConsentSignal{SignalBanner, SignalOptOutLink, SignalPageScript, SignalGoogleConsentMode, SignalTCF}

// ConsentRecord is one consent ledger entry: proof of a consent decision. It
// holds no IP and no user agent, ever. collector/consent chains records.
type ConsentRecord struct {
	SiteID         uint32
	ChainID        uuid.UUID // the appending process's chain for this site
	Seq            uint64    // position in the chain, from 1
	ConsentID      uuid.UUID
	Time           time.Time // UTC, second precision; only the seconds are hashed
	Action         ConsentAction
	Granted        Categories
	PolicyVersion  uint32
	BannerHash     string // hex SHA-256 of the banner text shown
	Language       string
	GPC, DNT       bool
	SnippetVersion string
	Signal         ConsentSignal // what carried the decision; "" only in records made before signals were kept
	PrevHash       [32]byte      // Hash of the chain's previous record; zero for Seq 1
	Hash           [32]byte      // ComputeHash
}

// ComputeHash returns the SHA-256 of PrevHash followed by a canonical
// encoding of every other field but Hash: a format byte, then in field order
// fixed-width big-endian integers, 16-byte UUIDs, Time as signed unix
// seconds, booleans as one byte, strings as a 4-byte length and their bytes.
// Format 1 is a record without a Signal, as every record was before signals
// were kept, so the chains written then still verify; format 2 adds the
// Signal at the end.
func (r *ConsentRecord) ComputeHash() [32]byte {
	format := byte(1)
	if r.Signal != "" {
		format = 2
	}
	b := make([]byte, 0, 160+len(r.Action)+len(r.BannerHash)+len(r.Language)+len(r.SnippetVersion)+len(r.Signal))
	b = append(b, r.PrevHash[:]...)
	b = append(b, format)
	b = binary.BigEndian.AppendUint32(b, r.SiteID)
	b = append(b, r.ChainID[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = append(b, r.ConsentID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.Unix()))
	b = appendString(b, string(r.Action))
	b = append(b, byte(r.Granted))
	b = binary.BigEndian.AppendUint32(b, r.PolicyVersion)
	b = appendString(b, r.BannerHash)
	b = appendString(b, r.Language)
	b = append(b, boolByte(r.GPC), boolByte(r.DNT))
	b = appendString(b, r.SnippetVersion)
	if format == 2 {
		b = appendString(b, string(r.Signal))
	}
	return sha256.Sum256(b)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// ParseHash reads a record hash as the stores keep it: 64 hex digits.
func ParseHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil {
		return h, err
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("want %d bytes, got %d", len(h), len(b))
	}
	copy(h[:], b)
	return h, nil
}

// Withdrawal is a consent id withdrawn at Time. From then on its tokens are
// rejected and its raw events erased.
type Withdrawal struct {
	ConsentID uuid.UUID
	Time      time.Time
}

// ConsentChange is a ledger decision that replaces an earlier one of the
// same consent id: an update (Granted is what it now allows) or a
// withdrawal. Collectors learn them from the store, so that on every replica
// a token grants at most what the latest decision of its consent id grants.
type ConsentChange struct {
	ConsentID uuid.UUID
	Time      time.Time
	Granted   Categories
	Withdrawn bool
}

// ConsentHead is what the latest known decision of a consent id allows:
// tokens issued up to Time grant at most Granted, none if Withdrawn.
type ConsentHead struct {
	Time      time.Time
	Granted   Categories
	Withdrawn bool
}

// Apply folds a change into h (the zero ConsentHead knows nothing yet). A
// newer change replaces h; a change of the same second narrows it to what
// both allow, since their order is unknown across replicas; an older one is
// ignored. A withdrawal is for good.
func (h ConsentHead) Apply(c ConsentChange) ConsentHead {
	switch t := c.Time.UTC().Truncate(time.Second); {
	case h.Time.IsZero() || t.After(h.Time):
		h.Time, h.Granted = t, c.Granted
	case t.Equal(h.Time):
		h.Granted &= c.Granted
	}
	if c.Withdrawn || h.Withdrawn {
		h.Withdrawn, h.Granted = true, 0
	}
	return h
}

// ConsentKey is one consent token signing key as the store keeps it.
type ConsentKey struct {
	ID      string // 8 lowercase hex characters, named in every token it signs
	Secret  []byte // 32 random bytes
	Created time.Time
	Retired bool // a retired key neither signs nor verifies
}

// String names the key without its secret, so that a logged key leaks nothing.
func (k ConsentKey) String() string { return "consent key " + k.ID }

// GoString is String, for %#v.
func (k ConsentKey) GoString() string { return k.String() }
