package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Seal links r to the record whose Hash is prev and sets r.Hash.
func (r *ConsentRecord) Seal(prev [32]byte) {
	r.PrevHash = prev
	r.Hash = r.ComputeHash()
}

// ChainBreak is the first broken link VerifyChain found.
type ChainBreak struct {
	SiteID  uint32
	ChainID uuid.UUID
	Seq     uint64 // the record that breaks the chain, or the first missing one
	Reason  string
}

func (b *ChainBreak) String() string {
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
func VerifyChain(records []ConsentRecord) *ChainBreak {
	order := make([]*ConsentRecord, len(records))
	for i := range records {
		order[i] = &records[i]
	}
	slices.SortFunc(order, func(a, b *ConsentRecord) int {
		return cmp.Or(cmp.Compare(a.SiteID, b.SiteID), bytes.Compare(a.ChainID[:], b.ChainID[:]), cmp.Compare(a.Seq, b.Seq))
	})
	var first *ChainBreak
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
func verifyOne(chain []*ConsentRecord) (*ChainBreak, time.Time) {
	var prev *ConsentRecord
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
			return &ChainBreak{SiteID: r.SiteID, ChainID: r.ChainID, Seq: seq, Reason: reason}, r.Time
		}
		prev = r
	}
	return nil, time.Time{}
}
