package consent

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Action is what a consent decision did; its names are stored in the ledger.
type Action string

// The ledger actions.
const (
	AcceptAll Action = "accept_all"
	RejectAll Action = "reject_all"
	Custom    Action = "custom"
	Withdraw  Action = "withdraw"
	Expire    Action = "expire"
	GPCAuto   Action = "gpc_auto" // GPC turned off marketing the visitor asked for
)

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	switch a {
	case AcceptAll, RejectAll, Custom, Withdraw, Expire, GPCAuto:
		return true
	}
	return false
}

// ActionFor names a decision from what the visitor requested and what the
// banner offered: all offered categories granted is AcceptAll (also when
// nothing optional was offered), none RejectAll, some Custom; GPCAuto when
// gpcForced (Global Privacy Control in force) turned off marketing that was
// offered and requested.
func ActionFor(requested, offered Categories, gpcForced bool) Action {
	granted := requested & offered & All
	switch {
	case gpcForced && granted.Has(Marketing):
		return GPCAuto
	case granted == offered&All:
		return AcceptAll
	case granted == 0:
		return RejectAll
	}
	return Custom
}

// Decide returns what a decision grants, requested limited to offered and
// less marketing under GPC, and its ledger action.
func Decide(requested, offered Categories, gpc bool) (Categories, Action) {
	return Effective(requested&offered, gpc), ActionFor(requested, offered, gpc)
}

// BannerHash returns the hex SHA-256 of the banner text shown, which the
// ledger records instead of the text.
func BannerHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Record is one consent ledger entry: proof of a consent decision. It holds
// no IP and no user agent, ever.
type Record struct {
	SiteID         uint32
	ChainID        uuid.UUID // the appending process's chain for this site
	Seq            uint64    // position in the chain, from 1
	ConsentID      uuid.UUID
	Time           time.Time // UTC, second precision; only the seconds are hashed
	Action         Action
	Granted        Categories
	PolicyVersion  uint32
	BannerHash     string // BannerHash of the banner text shown
	Language       string
	GPC, DNT       bool
	SnippetVersion string
	PrevHash       [32]byte // Hash of the chain's previous record; zero for Seq 1
	Hash           [32]byte // ComputeHash
}

// recordFormat versions the canonical encoding ComputeHash hashes.
const recordFormat = 1

// ComputeHash returns the SHA-256 of PrevHash followed by a canonical
// encoding of every other field but Hash: a format byte, then in field order
// fixed-width big-endian integers, 16-byte UUIDs, Time as signed unix
// seconds, booleans as one byte, strings as a 4-byte length and their bytes.
func (r *Record) ComputeHash() [32]byte {
	b := make([]byte, 0, 160+len(r.Action)+len(r.BannerHash)+len(r.Language)+len(r.SnippetVersion))
	b = append(b, r.PrevHash[:]...)
	b = append(b, recordFormat)
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

// Seal links r to the record whose Hash is prev and sets r.Hash.
func Seal(r *Record, prev [32]byte) {
	r.PrevHash = prev
	r.Hash = r.ComputeHash()
}

// ErrNotLatest is returned by Rollback for a record that is no longer the
// latest of its site's chain.
var ErrNotLatest = errors.New("consent: record is not the latest of its chain")

// Chain appends ledger records to this process's chains, one per site. It
// is safe for concurrent use.
type Chain struct {
	id    uuid.UUID
	mu    sync.Mutex
	sites map[uint32]*siteChain
}

// siteChain is the head of one site's chain.
type siteChain struct {
	mu   sync.Mutex
	id   uuid.UUID
	seq  uint64 // of the latest record, 0 before the first
	hash [32]byte
}

// NewChain returns an appender whose chains start under chainID, which
// should be random per process (uuid.New()).
func NewChain(chainID uuid.UUID) *Chain {
	return &Chain{id: chainID, sites: make(map[uint32]*siteChain)}
}

func (c *Chain) site(id uint32) *siteChain {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc := c.sites[id]
	if sc == nil {
		sc = &siteChain{id: c.id}
		c.sites[id] = sc
	}
	return sc
}

// next links r as the site's next record; sc.mu is held.
func (sc *siteChain) next(r *Record) {
	r.ChainID = sc.id
	r.Seq = sc.seq + 1
	r.Time = r.Time.UTC().Truncate(time.Second)
	Seal(r, sc.hash)
	sc.seq, sc.hash = r.Seq, r.Hash
}

// restart abandons the site's chain: its next record starts a new chain
// under a fresh random id. Whether or not the record that failed to persist
// reached the store, the abandoned chain then ends intact (at that record or
// at the one before), where restoring the old head could fork it.
func (sc *siteChain) restart() {
	sc.id, sc.seq, sc.hash = uuid.New(), 0, [32]byte{}
}

// Next makes r the next record of its site's chain: it sets ChainID, Seq,
// PrevHash and Hash, and normalises Time to UTC seconds. The caller then
// persists r; if that fails it must call Rollback(r).
//
// Next does not wait for the store. If records of one site are persisted
// concurrently and an earlier one fails after a later one was handed out,
// the chain has a gap; Append avoids that.
func (c *Chain) Next(r *Record) {
	sc := c.site(r.SiteID)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.next(r)
}

// Rollback undoes Next(r) after r failed to persist. If r is still the
// latest record of its site, the site's chain is closed and its next record
// starts a new chain (fresh random ChainID, Seq 1): the closed chain verifies
// whether or not the failed write in fact reached the store. If another
// record was handed out after r, it already links to r and nothing can be
// undone: Rollback returns ErrNotLatest, and r must be persisted after all
// (retried) or VerifyChain will report r's Seq as missing.
func (c *Chain) Rollback(r *Record) error {
	sc := c.site(r.SiteID)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if r.ChainID != sc.id || r.Seq != sc.seq || r.Hash != sc.hash {
		return ErrNotLatest
	}
	sc.restart()
	return nil
}

// Append links r as Next does and calls persist(r) while holding the site's
// chain, so no other record of that site is handed out until r is stored or
// has failed to be; on failure the chain is closed as by Rollback and
// persist's error is returned. This keeps every chain intact under
// concurrent decisions, at the price of one store write at a time per site
// and process. persist must not call back into c.
func (c *Chain) Append(r *Record, persist func(*Record) error) error {
	sc := c.site(r.SiteID)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.next(r)
	if err := persist(r); err != nil {
		sc.restart()
		return err
	}
	return nil
}

// Break is the first broken link VerifyChain found.
type Break struct {
	SiteID  uint32
	ChainID uuid.UUID
	Seq     uint64 // the record that breaks the chain, or the first missing one
	Reason  string
}

func (b *Break) String() string {
	return fmt.Sprintf("site %d chain %s seq %d: %s", b.SiteID, b.ChainID, b.Seq, b.Reason)
}

// VerifyChain checks ledger records, in any order, and returns nil if every
// chain is intact. Records are grouped into chains by (SiteID, ChainID) and
// walked in Seq order: Seq must be contiguous and unique, each record's
// PrevHash must be the previous record's Hash and its Hash its ComputeHash.
// A chain starting at Seq 1 must start from a zero PrevHash; one starting
// later (retention removed its beginning) is taken from its first PrevHash.
// Of the chains that break, the break reported is the one whose record is
// earliest by Time, then ChainID. records is not modified.
func VerifyChain(records []Record) *Break {
	order := make([]*Record, len(records))
	for i := range records {
		order[i] = &records[i]
	}
	slices.SortFunc(order, func(a, b *Record) int {
		return cmp.Or(cmp.Compare(a.SiteID, b.SiteID), bytes.Compare(a.ChainID[:], b.ChainID[:]), cmp.Compare(a.Seq, b.Seq))
	})
	var first *Break
	var firstTime time.Time
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && order[end].SiteID == order[start].SiteID && order[end].ChainID == order[start].ChainID {
			end++
		}
		if b, at := verifyOne(order[start:end]); b != nil {
			if first == nil || cmp.Or(at.Compare(firstTime), bytes.Compare(b.ChainID[:], first.ChainID[:])) < 0 {
				first, firstTime = b, at
			}
		}
		start = end
	}
	return first
}

// verifyOne checks one chain, sorted by Seq, and returns its first break and
// the time of the record at the break.
func verifyOne(chain []*Record) (*Break, time.Time) {
	var prev *Record
	for _, r := range chain {
		seq, reason := r.Seq, ""
		switch {
		case r.Seq == 0:
			reason = "seq 0: chains start at 1"
		case prev == nil && r.Seq == 1 && r.PrevHash != [32]byte{}:
			reason = "first record links to a previous hash"
		case prev != nil && r.Seq == prev.Seq:
			reason = "duplicate seq"
		case prev != nil && r.Seq == prev.Seq+2:
			seq, reason = prev.Seq+1, "record missing"
		case prev != nil && r.Seq != prev.Seq+1:
			seq, reason = prev.Seq+1, fmt.Sprintf("records %d to %d missing", prev.Seq+1, r.Seq-1)
		case prev != nil && r.PrevHash != prev.Hash:
			reason = fmt.Sprintf("previous hash does not match record %d", prev.Seq)
		case r.Hash != r.ComputeHash():
			reason = "hash does not match the record's content"
		}
		if reason != "" {
			return &Break{SiteID: r.SiteID, ChainID: r.ChainID, Seq: seq, Reason: reason}, r.Time
		}
		prev = r
	}
	return nil, time.Time{}
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
