package consent

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// A chain proves that no record inside it was changed or removed, but the
// removal of its last records leaves no trace. Checkpoints close that gap:
// the process that appends to a chain periodically signs its head (site,
// chain, seq, hash, time) with a key of its own and appends the signed
// head to a file outside the store. Records a checkpoint saw must still be
// in the ledger, with the hash it saw.

// ChainHead is where one chain of this process stood.
type ChainHead struct {
	SiteID  uint32
	ChainID uuid.UUID
	Seq     uint64
	Hash    [32]byte
}

// Heads returns the head of every chain of c that has a record, by site.
func (c *Chain) Heads() []ChainHead {
	c.mu.Lock()
	sites := make([]uint32, 0, len(c.sites))
	for id := range c.sites {
		sites = append(sites, id)
	}
	c.mu.Unlock()
	slices.Sort(sites)
	var out []ChainHead
	for _, id := range sites {
		sc := c.site(id)
		sc.mu.Lock()
		if sc.seq > 0 {
			out = append(out, ChainHead{SiteID: id, ChainID: sc.id, Seq: sc.seq, Hash: sc.hash})
		}
		sc.mu.Unlock()
	}
	return out
}

// Checkpoint is one line of a checkpoint file: a signed chain head.
type Checkpoint struct {
	SiteID  uint32    `json:"site_id"`
	ChainID uuid.UUID `json:"chain_id"`
	Seq     uint64    `json:"seq"`
	Hash    string    `json:"hash"` // the record's hash, hex
	Time    time.Time `json:"time"` // when the head was signed, UTC seconds
	// Prev is the hex SHA-256 of the file's previous line ("" on the
	// first), so a line removed from the middle of the file shows.
	Prev string `json:"prev"`
	Key  string `json:"key"` // KeyID of the signing key
	Sig  string `json:"sig"` // base64 Ed25519 signature of signed()
}

// signed is what a checkpoint's signature covers: every field but Sig.
func (c *Checkpoint) signed() []byte {
	return fmt.Appendf(nil, "footfall-checkpoint/1\n%d\n%s\n%d\n%s\n%d\n%s\n%s\n",
		c.SiteID, c.ChainID, c.Seq, c.Hash, c.Time.Unix(), c.Prev, c.Key)
}

// KeyID names a checkpoint key by its public half: 16 hex digits of the
// SHA-256 of it.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

const checkpointKeyPEM = "FOOTFALL CHECKPOINT KEY"

// LoadCheckpointKey reads the Ed25519 key of path (PEM, the 32-byte seed),
// creating it, owner-only, if there is none.
func LoadCheckpointKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("checkpoint key %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("checkpoint key %s: %w", path, err)
		}
		werr := pem.Encode(f, &pem.Block{Type: checkpointKeyPEM, Bytes: seed})
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("checkpoint key %s: %w", path, err)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint key %s: %w", path, err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != checkpointKeyPEM || len(b.Bytes) != ed25519.SeedSize {
		return nil, fmt.Errorf("checkpoint key %s: not a %q PEM block of %d bytes", path, checkpointKeyPEM, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(b.Bytes), nil
}

// CheckpointLog appends signed chain heads to a file. It is safe for
// concurrent use.
type CheckpointLog struct {
	mu   sync.Mutex
	f    *os.File
	key  ed25519.PrivateKey
	kid  string
	prev string             // hex SHA-256 of the last line
	last map[ChainHead]bool // heads already written
}

// OpenCheckpointLog opens (creating, owner-only) the checkpoint file at
// path for appending with key. The file's existing lines are read to link
// the next one; their signatures are not checked here.
func OpenCheckpointLog(path string, key ed25519.PrivateKey) (*CheckpointLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("checkpoints %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("checkpoints %s: %w", path, err)
	}
	l := &CheckpointLog{f: f, key: key, kid: KeyID(key.Public().(ed25519.PublicKey)), last: map[ChainHead]bool{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		if line := sc.Bytes(); len(line) > 0 {
			sum := sha256.Sum256(line)
			l.prev = hex.EncodeToString(sum[:])
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("checkpoints %s: %w", path, err)
	}
	return l, nil
}

// Write appends a signed line for every head not written before and syncs
// the file; it returns how many it wrote.
func (l *CheckpointLog) Write(heads []ChainHead, now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var buf []byte
	prev := l.prev
	wrote := 0
	for _, h := range heads {
		if l.last[h] {
			continue
		}
		c := Checkpoint{
			SiteID: h.SiteID, ChainID: h.ChainID, Seq: h.Seq, Hash: hex.EncodeToString(h.Hash[:]),
			Time: now.UTC().Truncate(time.Second), Prev: prev, Key: l.kid,
		}
		c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(l.key, c.signed()))
		line, err := json.Marshal(c)
		if err != nil {
			return 0, err
		}
		sum := sha256.Sum256(line)
		prev = hex.EncodeToString(sum[:])
		buf = append(append(buf, line...), '\n')
		wrote++
	}
	if len(buf) == 0 {
		return 0, nil
	}
	if _, err := l.f.Write(buf); err != nil {
		return 0, fmt.Errorf("checkpoints: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return 0, fmt.Errorf("checkpoints: %w", err)
	}
	l.prev = prev
	clear(l.last) // a chain's older heads never come back
	for _, h := range heads {
		l.last[h] = true
	}
	return wrote, nil
}

// Close closes the file.
func (l *CheckpointLog) Close() error { return l.f.Close() }

// ReadCheckpoints reads a checkpoint file and checks every line: its
// signature by one of keys (by KeyID), and its link to the line before.
// A bad line is an error naming it: the file was altered.
func ReadCheckpoints(r io.Reader, keys ...ed25519.PublicKey) ([]Checkpoint, error) {
	byID := map[string]ed25519.PublicKey{}
	for _, k := range keys {
		byID[KeyID(k)] = k
	}
	var out []Checkpoint
	prev := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(line, &c); err != nil {
			return out, fmt.Errorf("checkpoint line %d: %w", n, err)
		}
		key, ok := byID[c.Key]
		if !ok {
			return out, fmt.Errorf("checkpoint line %d: signed by key %s, which is not given", n, c.Key)
		}
		sig, err := base64.StdEncoding.DecodeString(c.Sig)
		if err != nil || !ed25519.Verify(key, c.signed(), sig) {
			return out, fmt.Errorf("checkpoint line %d: the signature does not match its content", n)
		}
		if c.Prev != prev {
			return out, fmt.Errorf("checkpoint line %d: does not follow line %d (a line was removed or moved)", n, n-1)
		}
		sum := sha256.Sum256(line)
		prev = hex.EncodeToString(sum[:])
		out = append(out, c)
	}
	return out, sc.Err()
}

// VerifyCheckpoints checks records (a site's whole ledger, or all of it)
// against the checkpoints of those sites and returns a store.ChainBreak for each
// checkpoint whose record is gone or altered. Retention removes the oldest
// records: a record older than its chain's first remaining one, or a whole
// chain whose checkpoint is older than kept (the retention cut-off), is
// not missed. A record past the chain's last remaining one was cut off
// its end.
func VerifyCheckpoints(records []store.ConsentRecord, checkpoints []Checkpoint, kept time.Time) []store.ChainBreak {
	type chainKey struct {
		site  uint32
		chain uuid.UUID
	}
	type span struct {
		first, last uint64
		hash        map[uint64][32]byte
	}
	chains := map[chainKey]*span{}
	for _, r := range records {
		k := chainKey{r.SiteID, r.ChainID}
		s := chains[k]
		if s == nil {
			s = &span{first: r.Seq, last: r.Seq, hash: map[uint64][32]byte{}}
			chains[k] = s
		}
		s.first, s.last = min(s.first, r.Seq), max(s.last, r.Seq)
		s.hash[r.Seq] = r.Hash
	}
	var out []store.ChainBreak
	for _, c := range checkpoints {
		s := chains[chainKey{c.SiteID, c.ChainID}]
		reason := ""
		switch {
		case s == nil && c.Time.Before(kept):
			continue // removed by retention
		case s == nil:
			reason = fmt.Sprintf("the chain is gone; a checkpoint of %s saw it at seq %d", c.Time.Format(time.RFC3339), c.Seq)
		case c.Seq > s.last:
			reason = fmt.Sprintf("truncated: the chain ends at seq %d; a checkpoint of %s saw seq %d", s.last, c.Time.Format(time.RFC3339), c.Seq)
		case c.Seq < s.first:
			continue // removed by retention
		default:
			h, ok := s.hash[c.Seq]
			switch {
			case !ok:
				reason = fmt.Sprintf("record missing; a checkpoint of %s saw it", c.Time.Format(time.RFC3339))
			case hex.EncodeToString(h[:]) != c.Hash:
				reason = fmt.Sprintf("altered: its hash differs from the one a checkpoint of %s saw", c.Time.Format(time.RFC3339))
			}
		}
		if reason != "" {
			out = append(out, store.ChainBreak{SiteID: c.SiteID, ChainID: c.ChainID, Seq: c.Seq, Reason: reason})
		}
	}
	return out
}

// Run writes the heads of chain every interval until ctx ends, and once
// more then, when no decision is being recorded any more (the caller stops
// ctx after the HTTP server), so a clean stop leaves its last heads
// signed. A failed write is logged and retried at the next tick.
func (l *CheckpointLog) Run(ctx context.Context, chain *Chain, every time.Duration, now func() time.Time, log *slog.Logger) {
	write := func() {
		if n, err := l.Write(chain.Heads(), now()); err != nil {
			log.Error("consent ledger checkpoint", "err", err)
		} else if n > 0 {
			log.Debug("consent ledger checkpoint", "chains", n)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			write()
			return
		case <-t.C:
			write()
		}
	}
}
