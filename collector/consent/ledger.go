package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// ActionFor names a decision from what the visitor requested and what the
// banner offered: all offered categories granted is store.ConsentAcceptAll (also when
// nothing optional was offered), none store.ConsentRejectAll, some store.ConsentCustom; store.ConsentGPCAuto when
// gpcForced (Global Privacy Control in force) turned off marketing that was
// offered and requested.
func ActionFor(requested, offered store.Categories, gpcForced bool) store.ConsentAction {
	granted := requested & offered & store.ConsentAll
	switch {
	case gpcForced && granted.Has(store.ConsentMarketing):
		return store.ConsentGPCAuto
	case granted == offered&store.ConsentAll:
		return store.ConsentAcceptAll
	case granted == 0:
		return store.ConsentRejectAll
	}
	return store.ConsentCustom
}

// Decide returns what a decision grants, requested limited to offered and
// less marketing under GPC, and its ledger action.
func Decide(requested, offered store.Categories, gpc bool) (store.Categories, store.ConsentAction) {
	return Effective(requested&offered, gpc), ActionFor(requested, offered, gpc)
}

// BannerHash returns the hex SHA-256 of the banner text shown, which the
// ledger records instead of the text.
func BannerHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
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
func (sc *siteChain) next(r *store.ConsentRecord) {
	r.ChainID = sc.id
	r.Seq = sc.seq + 1
	r.Time = r.Time.UTC().Truncate(time.Second)
	r.Seal(sc.hash)
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
func (c *Chain) Next(r *store.ConsentRecord) {
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
// (retried) or store.VerifyChain will report r's Seq as missing.
func (c *Chain) Rollback(r *store.ConsentRecord) error {
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
func (c *Chain) Append(r *store.ConsentRecord, persist func(*store.ConsentRecord) error) error {
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
