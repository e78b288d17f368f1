package consent

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

var (
	chainA = uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000001")
	chainB = uuid.MustParse("bbbbbbbb-0000-4000-8000-000000000002")
)

// decision returns an unchained record of site, made i minutes after t0.
func decision(site uint32, i int) store.ConsentRecord {
	return store.ConsentRecord{
		SiteID:         site,
		ConsentID:      uuid.UUID{0: byte(site), 14: byte(i >> 8), 15: byte(i)},
		Time:           t0.Add(time.Duration(i) * time.Minute),
		Action:         store.ConsentCustom,
		Granted:        store.ConsentAnalytics | store.ConsentPersonalization,
		PolicyVersion:  3,
		BannerHash:     BannerHash("We use cookies."),
		Language:       "en",
		GPC:            i%3 == 0,
		SnippetVersion: "1.2.0",
	}
}

// testLedger appends 50 decisions alternately from two processes (chains
// A and B), alternating between sites 1 and 2, and returns them by site.
func testLedger(t *testing.T) map[uint32][]store.ConsentRecord {
	t.Helper()
	chains := []*Chain{NewChain(chainA), NewChain(chainB)}
	bySite := map[uint32][]store.ConsentRecord{}
	for i := range 50 {
		r := decision(uint32(1+(i/2)%2), i)
		chains[i%2].Next(&r)
		bySite[r.SiteID] = append(bySite[r.SiteID], r)
	}
	return bySite
}

// indexOf returns the index of (chain, seq) in records.
func indexOf(t *testing.T, records []store.ConsentRecord, chain uuid.UUID, seq uint64) int {
	t.Helper()
	i := slices.IndexFunc(records, func(r store.ConsentRecord) bool { return r.ChainID == chain && r.Seq == seq })
	if i < 0 {
		t.Fatalf("no record %s/%d", chain, seq)
	}
	return i
}

func TestChainIntact(t *testing.T) {
	ledger := testLedger(t)
	var all []store.ConsentRecord
	for site, records := range ledger {
		if b := store.VerifyChain(records); b != nil {
			t.Errorf("site %d: %v", site, b)
		}
		all = append(all, records...)
	}
	if len(all) != 50 {
		t.Errorf("%d records, want 50", len(all))
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	if b := store.VerifyChain(all); b != nil {
		t.Errorf("both sites, shuffled: %v", b)
	}
	if b := store.VerifyChain(nil); b != nil {
		t.Errorf("no records: %v", b)
	}
	first := ledger[1][indexOf(t, ledger[1], chainA, 1)]
	if first.PrevHash != [32]byte{} {
		t.Errorf("first record's PrevHash = %x, want zero", first.PrevHash)
	}
}

func TestVerifyChainFindsTampering(t *testing.T) {
	const seq = 6 // a middle record of chain A on site 1 (chain A holds 13 there)
	for _, tc := range []struct {
		name   string
		tamper func(records []store.ConsentRecord, i int) []store.ConsentRecord // i is the index of A/6
		want   store.ChainBreak
	}{
		{"granted bits", func(rs []store.ConsentRecord, i int) []store.ConsentRecord {
			rs[i].Granted |= store.ConsentMarketing
			return rs
		},
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "hash does not match the record's content"}},
		{"action", func(rs []store.ConsentRecord, i int) []store.ConsentRecord {
			rs[i].Action = store.ConsentAcceptAll
			return rs
		},
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "hash does not match the record's content"}},
		{"time", func(rs []store.ConsentRecord, i int) []store.ConsentRecord {
			rs[i].Time = rs[i].Time.Add(-time.Hour)
			return rs
		},
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "hash does not match the record's content"}},
		{"banner hash", func(rs []store.ConsentRecord, i int) []store.ConsentRecord {
			rs[i].BannerHash = BannerHash("Tracking is fun.")
			return rs
		},
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "hash does not match the record's content"}},
		{"signal", func(rs []store.ConsentRecord, i int) []store.ConsentRecord {
			rs[i].Signal = store.SignalBanner
			return rs
		},
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "hash does not match the record's content"}},
		{"consent id", func(rs []store.ConsentRecord, i int) []store.ConsentRecord { rs[i].ConsentID = uuid.Max; return rs },
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "hash does not match the record's content"}},
		{"prev hash", func(rs []store.ConsentRecord, i int) []store.ConsentRecord { rs[i].PrevHash[0] ^= 1; return rs },
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "previous hash does not match record 5"}},
		{"prev hash, resealed", func(rs []store.ConsentRecord, i int) []store.ConsentRecord { rs[i].Seal([32]byte{1}); return rs },
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "previous hash does not match record 5"}},
		// A record rewritten and resealed onto the right predecessor is
		// caught by its successor's link.
		{"content resealed", func(rs []store.ConsentRecord, i int) []store.ConsentRecord {
			rs[i].Granted = 0
			rs[i].Seal(rs[i].PrevHash)
			return rs
		}, store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq + 1, Reason: "previous hash does not match record 6"}},
		{"middle record deleted", func(rs []store.ConsentRecord, i int) []store.ConsentRecord { return slices.Delete(rs, i, i+1) },
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "record missing"}},
		{"seq reordered", func(rs []store.ConsentRecord, i int) []store.ConsentRecord {
			j := indexOf(t, rs, chainA, seq+1)
			rs[i].Seq, rs[j].Seq = rs[j].Seq, rs[i].Seq
			return rs
		}, store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "previous hash does not match record 5"}},
		{"duplicated record", func(rs []store.ConsentRecord, i int) []store.ConsentRecord { return append(rs, rs[i]) },
			store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: seq, Reason: "duplicate seq"}},
		// The moved record breaks both chains: as a record of site 9 it
		// fails its hash, which is reported since it is earlier than the
		// gap it leaves (dated by the record after it).
		{"moved to another site", func(rs []store.ConsentRecord, i int) []store.ConsentRecord { rs[i].SiteID = 9; return rs },
			store.ChainBreak{SiteID: 9, ChainID: chainA, Seq: seq, Reason: "hash does not match the record's content"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			records := testLedger(t)[1]
			records = tc.tamper(records, indexOf(t, records, chainA, seq))
			b := store.VerifyChain(records)
			if b == nil {
				t.Fatal("VerifyChain = nil, want a break")
			}
			if diff := cmp.Diff(tc.want, *b); diff != "" {
				t.Errorf("break (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyChainMissingRange(t *testing.T) {
	records := testLedger(t)[1]
	records = slices.DeleteFunc(records, func(r store.ConsentRecord) bool { return r.ChainID == chainB && r.Seq >= 4 && r.Seq <= 6 })
	got := store.VerifyChain(records)
	want := &store.ChainBreak{SiteID: 1, ChainID: chainB, Seq: 4, Reason: "records 4 to 6 missing"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("break (-want +got):\n%s", diff)
	}
}

func TestVerifyChainStartingLater(t *testing.T) {
	records := testLedger(t)[1]
	// Retention removed the first five records of chain A and the first
	// of chain B.
	records = slices.DeleteFunc(records, func(r store.ConsentRecord) bool {
		return (r.ChainID == chainA && r.Seq <= 5) || (r.ChainID == chainB && r.Seq == 1)
	})
	if b := store.VerifyChain(records); b != nil {
		t.Fatalf("chains starting at seq 6 and 2: %v", b)
	}
	// Tampering after the cut is still found.
	i := indexOf(t, records, chainA, 9)
	records[i].Language = "de"
	want := &store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: 9, Reason: "hash does not match the record's content"}
	if diff := cmp.Diff(want, store.VerifyChain(records)); diff != "" {
		t.Errorf("break (-want +got):\n%s", diff)
	}
}

func TestVerifyChainFirstRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(*store.ConsentRecord)
		want   *store.ChainBreak
	}{
		{"seq 1 with a previous hash", func(r *store.ConsentRecord) { r.Seal([32]byte{7}) },
			&store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: 1, Reason: "first record links to a previous hash"}},
		{"seq 0", func(r *store.ConsentRecord) { r.Seq = 0; r.Seal([32]byte{}) },
			&store.ChainBreak{SiteID: 1, ChainID: chainA, Seq: 0, Reason: "seq 0: chains start at 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			records := testLedger(t)[1]
			tc.tamper(&records[indexOf(t, records, chainA, 1)])
			if diff := cmp.Diff(tc.want, store.VerifyChain(records)); diff != "" {
				t.Errorf("break (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyChainReportsEarliestBreak breaks both chains of site 1 and
// expects the break whose record is earliest.
func TestVerifyChainReportsEarliestBreak(t *testing.T) {
	records := testLedger(t)[1]
	a := indexOf(t, records, chainA, 3)
	b := indexOf(t, records, chainB, 9)
	records[a].DNT = true
	records[b].DNT = true
	if got := store.VerifyChain(records); got == nil || got.ChainID != chainA || got.Seq != 3 {
		t.Errorf("break = %v, want chain A seq 3 (the earlier record)", got)
	}
	records[b].Time = records[a].Time.Add(-time.Hour) // now chain B's break is earlier
	if got := store.VerifyChain(records); got == nil || got.ChainID != chainB || got.Seq != 9 {
		t.Errorf("break = %v, want chain B seq 9 (now the earlier record)", got)
	}
	records[b].Time = records[a].Time // a tie goes to the smaller chain id
	if got := store.VerifyChain(records); got == nil || got.ChainID != chainA {
		t.Errorf("break = %v, want chain A on a tie", got)
	}
}

func TestVerifyChainDoesNotReorderInput(t *testing.T) {
	records := testLedger(t)[1]
	slices.Reverse(records)
	before := slices.Clone(records)
	store.VerifyChain(records)
	if diff := cmp.Diff(before, records); diff != "" {
		t.Errorf("VerifyChain changed its input (-before +after):\n%s", diff)
	}
}

// TestComputeHashCoversEveryField changes each field of store.ConsentRecord but Hash in
// turn; each change must change the hash.
func TestComputeHashCoversEveryField(t *testing.T) {
	base := decision(1, 5)
	base.Seal([32]byte{9})
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if name == "Hash" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := base
			f := reflect.ValueOf(&r).Elem().Field(i)
			switch {
			case f.Type() == reflect.TypeFor[time.Time]():
				f.Set(reflect.ValueOf(r.Time.Add(time.Second)))
			case f.Kind() == reflect.Array:
				f.Index(0).SetUint(f.Index(0).Uint() ^ 1)
			case f.Kind() == reflect.String:
				f.SetString(f.String() + "x")
			case f.Kind() == reflect.Bool:
				f.SetBool(!f.Bool())
			case f.CanUint():
				f.SetUint(f.Uint() + 1)
			default:
				t.Fatalf("field %s of type %s: teach the test to change it", name, f.Type())
			}
			if r.ComputeHash() == base.ComputeHash() {
				t.Errorf("changing %s leaves the hash unchanged", name)
			}
		})
	}
}

func TestComputeHashCanonical(t *testing.T) {
	a, b := decision(1, 1), decision(1, 1)
	a.Language, a.SnippetVersion = "ab", "c"
	b.Language, b.SnippetVersion = "a", "bc"
	if a.ComputeHash() == b.ComputeHash() {
		t.Error("moving a byte between adjacent strings leaves the hash unchanged")
	}
	c := decision(1, 1)
	c.Time = c.Time.Add(400 * time.Millisecond).In(time.FixedZone("CET", 3600))
	if d := decision(1, 1); c.ComputeHash() != d.ComputeHash() {
		t.Error("sub-second time or zone changes the hash; only unix seconds are hashed")
	}
}

// TestComputeHashGolden pins the canonical encoding: stored ledgers are
// verified with it, so it must never change, for format 1 (a record
// without a signal, as all were before signals were kept) nor format 2.
func TestComputeHashGolden(t *testing.T) {
	r := decision(1, 5)
	r.Seal([32]byte{9})
	const want = "a7a662a82c5360eda2040578dcecd3b42353b3e858cb5e3dc29a5b897040696e"
	if got := hex.EncodeToString(r.Hash[:]); got != want {
		t.Errorf("format 1: hash = %s, want %s", got, want)
	}
	r.Signal = store.SignalBanner
	r.Seal([32]byte{9})
	const want2 = "a75f09d4b60851855c566c449fa6de77d257b0b8f11a9f6936560919d482389d"
	if got := hex.EncodeToString(r.Hash[:]); got != want2 {
		t.Errorf("format 2: hash = %s, want %s", got, want2)
	}
}

func TestChainConcurrentNext(t *testing.T) {
	c := NewChain(chainA)
	var mu sync.Mutex
	var records []store.ConsentRecord
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				r := decision(uint32(1+i%3), g*100+i)
				c.Next(&r)
				mu.Lock()
				records = append(records, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if b := store.VerifyChain(records); b != nil {
		t.Fatal(b)
	}
	for site := uint32(1); site <= 3; site++ {
		n := 0
		for _, r := range records {
			if r.SiteID == site {
				n++
			}
		}
		if n == 0 {
			t.Errorf("site %d: no records", site)
		}
	}
}

func TestRollback(t *testing.T) {
	t.Run("latest record: the next starts a new chain", func(t *testing.T) {
		c := NewChain(chainA)
		var stored []store.ConsentRecord
		for i := range 3 {
			r := decision(1, i)
			c.Next(&r)
			stored = append(stored, r)
		}
		failed := decision(1, 3)
		c.Next(&failed)
		if err := c.Rollback(&failed); err != nil {
			t.Fatalf("Rollback: %v", err)
		}
		next := decision(1, 4)
		c.Next(&next)
		if next.ChainID == chainA || next.Seq != 1 || next.PrevHash != ([32]byte{}) {
			t.Errorf("after Rollback: chain %s seq %d prev %x; want a new chain at seq 1", next.ChainID, next.Seq, next.PrevHash)
		}
		stored = append(stored, next)
		if b := store.VerifyChain(stored); b != nil {
			t.Errorf("failed write not stored: %v", b)
		}
		// A write that failed but reached the store anyway (a timeout)
		// leaves the closed chain intact too.
		if b := store.VerifyChain(append(stored, failed)); b != nil {
			t.Errorf("failed write stored after all: %v", b)
		}
		other := decision(2, 5)
		c.Next(&other)
		if other.ChainID != chainA {
			t.Errorf("other site's chain = %s, want it untouched (%s)", other.ChainID, chainA)
		}
	})
	t.Run("not latest: ErrNotLatest and nothing changes", func(t *testing.T) {
		c := NewChain(chainA)
		a, b := decision(1, 0), decision(1, 1)
		c.Next(&a)
		c.Next(&b)
		if err := c.Rollback(&a); !errors.Is(err, ErrNotLatest) {
			t.Fatalf("Rollback(a): %v, want ErrNotLatest", err)
		}
		next := decision(1, 2)
		c.Next(&next)
		if next.ChainID != chainA || next.Seq != 3 || next.PrevHash != b.Hash {
			t.Errorf("after a refused Rollback: chain %s seq %d; want chain A seq 3 linked to b", next.ChainID, next.Seq)
		}
	})
	t.Run("twice", func(t *testing.T) {
		c := NewChain(chainA)
		r := decision(1, 0)
		c.Next(&r)
		if err := c.Rollback(&r); err != nil {
			t.Fatal(err)
		}
		if err := c.Rollback(&r); !errors.Is(err, ErrNotLatest) {
			t.Errorf("second Rollback: %v, want ErrNotLatest", err)
		}
	})
}

// TestAppendConcurrentFailures appends from many goroutines to a store
// whose writes fail now and then, sometimes after the row has landed (a
// timeout). Every chain must verify.
func TestAppendConcurrentFailures(t *testing.T) {
	c := NewChain(chainA)
	var mu sync.Mutex
	var stored []store.ConsentRecord
	var failures int
	writes := 0
	persist := func(r *store.ConsentRecord) error {
		mu.Lock()
		defer mu.Unlock()
		writes++
		switch writes % 7 {
		case 3: // failed before the write
			failures++
			return errors.New("store unavailable")
		case 5: // failed after the write
			stored = append(stored, *r)
			failures++
			return errors.New("write timed out")
		}
		stored = append(stored, *r)
		return nil
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				r := decision(uint32(1+i%2), g*100+i)
				if err := c.Append(&r, persist); err != nil && err.Error() == "" {
					t.Error("empty error")
				}
			}
		})
	}
	wg.Wait()
	if failures == 0 {
		t.Fatal("no write failed; the test proves nothing")
	}
	if b := store.VerifyChain(stored); b != nil {
		t.Fatal(b)
	}
	chains := map[uuid.UUID]bool{}
	for _, r := range stored {
		chains[r.ChainID] = true
	}
	if len(chains) < 2 {
		t.Errorf("%d chains after %d failures, want the chain restarted", len(chains), failures)
	}
}

func TestAppendReturnsPersistError(t *testing.T) {
	c := NewChain(chainA)
	want := errors.New("disk full")
	r := decision(1, 0)
	if err := c.Append(&r, func(*store.ConsentRecord) error { return want }); !errors.Is(err, want) {
		t.Errorf("Append = %v, want %v", err, want)
	}
	if r.ChainID != chainA || r.Seq != 1 || r.Hash != r.ComputeHash() {
		t.Errorf("failed record not sealed: %+v", r)
	}
}

func TestActionFor(t *testing.T) {
	for _, tc := range []struct {
		requested, offered store.Categories
		gpc                bool
		want               store.ConsentAction
		wantGranted        store.Categories
	}{
		{store.ConsentAll, store.ConsentAll, false, store.ConsentAcceptAll, store.ConsentAll},
		{0, store.ConsentAll, false, store.ConsentRejectAll, 0},
		{store.ConsentAnalytics, store.ConsentAll, false, store.ConsentCustom, store.ConsentAnalytics},
		{store.ConsentAnalytics | store.ConsentMarketing, store.ConsentAnalytics | store.ConsentMarketing, false, store.ConsentAcceptAll, store.ConsentAnalytics | store.ConsentMarketing},
		{store.ConsentAll, store.ConsentAnalytics, false, store.ConsentAcceptAll, store.ConsentAnalytics}, // only what was offered counts
		{store.ConsentMarketing, store.ConsentAnalytics, false, store.ConsentRejectAll, 0},
		{store.ConsentAll, store.ConsentAll, true, store.ConsentGPCAuto, store.ConsentAnalytics | store.ConsentPersonalization},
		{store.ConsentMarketing, store.ConsentAll, true, store.ConsentGPCAuto, 0},
		{store.ConsentAnalytics, store.ConsentAll, true, store.ConsentCustom, store.ConsentAnalytics},    // GPC forced nothing off
		{store.ConsentAll, store.ConsentAnalytics, true, store.ConsentAcceptAll, store.ConsentAnalytics}, // marketing not offered
		{0, store.ConsentAll, true, store.ConsentRejectAll, 0},
		{0, 0, false, store.ConsentAcceptAll, 0}, // nothing optional offered
	} {
		t.Run(fmt.Sprintf("requested=%s/offered=%s/gpc=%t", tc.requested, tc.offered, tc.gpc), func(t *testing.T) {
			if got := ActionFor(tc.requested, tc.offered, tc.gpc); got != tc.want {
				t.Errorf("ActionFor = %q, want %q", got, tc.want)
			}
			granted, action := Decide(tc.requested, tc.offered, tc.gpc)
			if granted != tc.wantGranted || action != tc.want {
				t.Errorf("Decide = %s, %q; want %s, %q", granted, action, tc.wantGranted, tc.want)
			}
			if !action.Valid() {
				t.Errorf("%q is not Valid", action)
			}
		})
	}
	if store.ConsentAction("accept").Valid() {
		t.Error(`store.ConsentAction("accept").Valid() = true`)
	}
}

func TestBannerHash(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	} {
		if got := BannerHash(tc.text); got != tc.want {
			t.Errorf("BannerHash(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}
