// Package spool keeps accepted events on local disk while the store cannot
// take them: when it is down or slow, when the collector's in-memory queue
// is full, when a shutdown runs out of time, and, with -durability=fsync,
// before a beacon is acknowledged at all. The buffered writer replays the
// spool into the store, oldest first, once the store answers again.
//
// # Layout
//
// A spool is a folder of segment files named by a sequence number
// (0000000000000001.spool, …), written append-only in that order, and a
// LOCK file that keeps a second process out. A segment starts with the
// 8-byte header "FFSPOOL1" and then holds one record per event:
//
//	magic   uint32, little endian, 0x11FA07F0
//	crc     uint32, little endian: CRC-32C (Castagnoli) of length and payload
//	length  uint32, little endian: payload bytes
//	payload the event (codec.go: a version byte, then every field)
//
// A segment is sealed when it reaches Options.SegmentBytes and deleted once
// every event in it is stored. All segments together stay under
// Options.MaxBytes: beyond it Append returns ErrFull and Health reports the
// spool full, so /readyz turns the collector away from the load balancer.
//
// # Damaged records
//
// A record whose frame or checksum is wrong — the torn tail of a write cut
// short by a crash or a full disk, or a damaged disk — is skipped: the
// reader resumes at the next record whose magic and checksum are right. A
// damaged segment header loses nothing more: the reader resumes at the
// first intact record after it. Each damaged stretch counts its bytes
// (Stats.CorruptBytes, footfall_spool_corrupt_bytes_total) and the records
// it held (Stats.Corrupt, footfall_spool_corrupt_records_total): the record
// frames whose magic survived, at least one. Damage never stops a replay
// and never crashes the process.
//
// # Replays do not double-count
//
// The read position lives in memory only: a collector that crashes in the
// middle of a replay replays the same segment again from its start after
// the restart, so the store may receive an event it already has. Every
// event carries its UUID (store.Event.ID), and both stores make a second
// write of an event invisible: SQLite inserts with INSERT OR IGNORE on the
// event_id primary key; ClickHouse's events table is a ReplacingMergeTree
// whose sorting key ends in (…, ts, event_id), and every reader queries it
// with FINAL, so duplicates not yet merged away are never counted.
//
// # Durability
//
// Append hands the records to the operating system without fsync: they
// survive a crash of the collector, not of the machine. AppendSync returns
// once the records are on disk; concurrent AppendSync calls share one fsync
// (group commit). Sync makes everything appended so far durable.
//
// # Concurrency
//
// Append, AppendSync, Sync, Health and Stats may be called from any
// goroutine. Read and Commit are for one reader (the buffered writer).
package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/footfall/footfall/store"
)

// Errors of the spool. Wrapped errors carry the cause; test them with
// errors.Is.
var (
	// ErrFull: the segments would exceed Options.MaxBytes.
	ErrFull = errors.New("spool full")
	// ErrUnavailable: the spool folder cannot be used (not creatable, not
	// writable, locked by another process, disk full, I/O error).
	ErrUnavailable = errors.New("spool unavailable")
	// ErrClosed: the spool was closed.
	ErrClosed = errors.New("spool closed")
)

const (
	segmentHeader = "FFSPOOL1"
	segmentExt    = ".spool"
	lockName      = "LOCK"
	ackName       = "ACK"
	probeName     = "probe.tmp"

	recordMagic  uint32 = 0x11FA07F0
	recordHeader        = 12
	// maxRecord bounds one encoded event; the beacon limits keep real
	// events far below it, so a larger length field means damage.
	maxRecord = 1 << 20
	// readChunk is how much of a segment the reader fetches at a time.
	readChunk = 256 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options configure a spool.
type Options struct {
	// Dir is the spool folder; it is created if missing. Required.
	Dir string
	// MaxBytes bounds the total size of the segments. Default 1 GiB.
	MaxBytes int64
	// SegmentBytes is the size at which a segment is sealed and the next
	// begins; smaller segments free disk space sooner during a replay.
	// Default 64 MiB, at most MaxBytes/4, at least 64 KiB.
	SegmentBytes int64
	// RetryInterval is how long an unusable spool waits before it tries
	// its folder again. Default 1s.
	RetryInterval time.Duration
	// Log receives damage reports and failures (paths, offsets, counts).
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = min(64<<20, o.MaxBytes/4)
	}
	o.SegmentBytes = max(o.SegmentBytes, 64<<10)
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Stats describe a spool.
type Stats struct {
	Bytes        int64  // size of all segments
	Segments     int    // segment files
	PendingBytes int64  // bytes not yet committed as stored
	Appended     uint64 // events appended since New
	Replayed     uint64 // events committed (stored) since New
	Corrupt      uint64 // records lost to damage since New (record frames in damaged stretches)
	CorruptBytes uint64 // bytes of damaged stretches skipped since New
	WriteErrors  uint64 // failed writes and fsyncs since New
}

// Pos is a read position: what Read read up to, for Commit.
type Pos struct {
	seq uint64
	off int64
	n   int // events read, for the replay counter
}

// Events is how many events were read up to this position.
func (p Pos) Events() int { return p.n }

type segment struct {
	seq  uint64
	size int64 // bytes written successfully
}

// Spool is an append-only, checksummed event log on local disk.
type Spool struct {
	opts Options

	mu      sync.Mutex
	closed  bool
	ready   bool     // folder created, lock held, segments listed
	lock    *os.File // holds the folder's flock
	ack     *os.File // the commit position, so a restart does not replay what is stored
	err     error    // why the spool is unusable; nil when usable
	errAt   time.Time
	full    bool      // the last append hit MaxBytes; cleared when space is freed
	segs    []segment // oldest first; the last is the active one if active != nil
	active  *os.File
	bytes   int64
	nextSeq uint64
	written int64 // logical bytes appended since New
	synced  int64 // logical bytes known to be on disk
	roff    int64 // commit position within segs[0]

	syncMu sync.Mutex // one fsync leader at a time

	rmu     sync.Mutex // the reader; taken after mu, never before
	r       reader
	corrupt Pos // the furthest damaged stretch counted

	appended, replayed, corruptN, corruptBytes, writeErrors atomic.Uint64
}

// New returns a spool in opts.Dir. It tries the folder at once; if that
// fails the spool still returns, reports the problem through Health and
// Append, and tries again every RetryInterval, so a collector keeps serving
// (and its readiness says why not) until an operator fixes the folder.
func New(opts Options) (*Spool, error) {
	if opts.Dir == "" {
		return nil, errors.New("spool: no folder")
	}
	s := &Spool{opts: opts.withDefaults()}
	s.mu.Lock()
	err := s.usable()
	s.mu.Unlock()
	if err != nil {
		s.opts.Log.Error("spool unusable; events that cannot be written to the store are refused until it is fixed", "dir", s.opts.Dir, "err", err)
	}
	return s, nil
}

// Dir is the spool folder.
func (s *Spool) Dir() string { return s.opts.Dir }

// MaxBytes is the size limit of the segments.
func (s *Spool) MaxBytes() int64 { return s.opts.MaxBytes }

// usable readies the spool or reports why it cannot be used. s.mu is held.
func (s *Spool) usable() error {
	if s.closed {
		return ErrClosed
	}
	if s.err != nil {
		if time.Since(s.errAt) < s.opts.RetryInterval {
			return s.err
		}
		s.err = nil
	}
	if s.ready {
		return nil
	}
	if err := s.open(); err != nil {
		s.fail(err)
		return s.err
	}
	s.ready = true
	return nil
}

// fail records why the spool is unusable. s.mu is held.
func (s *Spool) fail(err error) {
	s.err = fmt.Errorf("%w: %s: %w", ErrUnavailable, s.opts.Dir, err)
	s.errAt = time.Now()
}

// open creates the folder, takes its lock and lists the segments left by
// earlier runs. s.mu is held.
func (s *Spool) open() error {
	if err := os.MkdirAll(s.opts.Dir, 0o750); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(s.opts.Dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return fmt.Errorf("locked by another footfall process: %w", err)
	}
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		lock.Close()
		return err
	}
	var segs []segment
	var total int64
	for _, e := range entries {
		seq, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			lock.Close()
			return err
		}
		segs = append(segs, segment{seq: seq, size: info.Size()})
		total += info.Size()
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seq < segs[j].seq })
	if s.ack != nil {
		s.ack.Close()
	}
	ack, err := os.OpenFile(filepath.Join(s.opts.Dir, ackName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		lock.Close()
		return err
	}
	s.lock, s.ack, s.segs, s.bytes, s.roff = lock, ack, segs, total, 0
	if len(segs) > 0 {
		s.roff = readAck(ack, segs[0])
	}
	s.nextSeq = 1
	if len(segs) > 0 {
		s.nextSeq = segs[len(segs)-1].seq + 1
		s.opts.Log.Info("spool holds events from an earlier run; they are replayed when the store answers", "dir", s.opts.Dir, "segments", len(segs), "bytes", total)
	}
	return nil
}

func segmentName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, segmentExt) }

func parseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(hex, 16, 64)
	return seq, err == nil && seq > 0
}

func (s *Spool) path(seq uint64) string { return filepath.Join(s.opts.Dir, segmentName(seq)) }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// encode frames every event as one record.
func encode(b []byte, events []store.Event) ([]byte, error) {
	for i := range events {
		start := len(b)
		b = append(b, make([]byte, recordHeader)...)
		b = appendEvent(b, &events[i])
		n := len(b) - start - recordHeader
		if n > maxRecord {
			return b[:start], fmt.Errorf("event %s encodes to %d bytes, over the %d-byte record limit", events[i].ID, n, maxRecord)
		}
		h := b[start:]
		binary.LittleEndian.PutUint32(h[0:], recordMagic)
		binary.LittleEndian.PutUint32(h[8:], uint32(n))
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(h[8:recordHeader+n], castagnoli))
	}
	return b, nil
}

// Append writes events to the spool, in one write, without waiting for the
// disk. It returns ErrFull when they do not fit under MaxBytes and an
// ErrUnavailable error when the folder cannot be written; then nothing of
// events is in the spool.
func (s *Spool) Append(events []store.Event) error {
	_, err := s.append(events)
	return err
}

// AppendSync is Append, then it waits until the records are on disk. Calls
// that overlap share one fsync.
func (s *Spool) AppendSync(events []store.Event) error {
	end, err := s.append(events)
	if err != nil {
		return err
	}
	return s.syncTo(end)
}

// Sync waits until everything appended so far is on disk.
func (s *Spool) Sync() error {
	s.mu.Lock()
	end := s.written
	s.mu.Unlock()
	return s.syncTo(end)
}

func (s *Spool) append(events []store.Event) (end int64, err error) {
	if len(events) == 0 {
		return 0, nil
	}
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 1<<20 {
			bufPool.Put(bp)
		}
	}()
	enc, err := encode((*bp)[:0], events)
	*bp = enc
	if err != nil {
		return 0, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return 0, err
	}
	need := int64(len(enc))
	activeSize := int64(0)
	if s.active != nil {
		activeSize = s.segs[len(s.segs)-1].size
	}
	rotate := s.active == nil || activeSize > int64(len(segmentHeader)) && activeSize+need > s.opts.SegmentBytes
	if rotate {
		need += int64(len(segmentHeader))
	}
	if s.bytes+need > s.opts.MaxBytes {
		s.full = true
		return 0, fmt.Errorf("%w: %d of %d bytes used, %d more needed", ErrFull, s.bytes, s.opts.MaxBytes, need)
	}
	if rotate {
		s.seal(true)
		if err := s.createSegment(); err != nil {
			s.writeErrors.Add(1)
			s.fail(err)
			return 0, s.err
		}
	}
	seg := &s.segs[len(s.segs)-1]
	n, err := s.active.Write(enc)
	if err != nil {
		s.writeErrors.Add(1)
		if n > 0 {
			// Leave no half record behind; if even that fails, the reader
			// skips the torn stretch by its checksum.
			if terr := s.active.Truncate(seg.size); terr != nil {
				s.opts.Log.Warn("spool: could not cut a partial write", "segment", segmentName(seg.seq), "err", terr)
			}
		}
		s.seal(true)
		s.fail(fmt.Errorf("write: %w", err))
		return 0, s.err
	}
	seg.size += int64(len(enc))
	s.bytes += int64(len(enc))
	s.written += int64(len(enc))
	s.appended.Add(uint64(len(events)))
	return s.written, nil
}

// createSegment starts the next segment and makes its name durable. s.mu
// is held.
func (s *Spool) createSegment() error {
	seq := s.nextSeq
	p := s.path(seq)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	if _, err := f.Write([]byte(segmentHeader)); err != nil {
		f.Close()
		os.Remove(p)
		return fmt.Errorf("create segment: %w", err)
	}
	if err := syncDir(s.opts.Dir); err != nil {
		f.Close()
		os.Remove(p)
		return fmt.Errorf("create segment: %w", err)
	}
	s.nextSeq++
	s.active = f
	s.segs = append(s.segs, segment{seq: seq, size: int64(len(segmentHeader))})
	s.bytes += int64(len(segmentHeader))
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// seal closes the active segment; with durable it is fsynced first (only
// an empty or fully stored segment may skip it). s.mu is held.
func (s *Spool) seal(durable bool) {
	if s.active == nil {
		return
	}
	if durable {
		if err := s.active.Sync(); err != nil {
			s.writeErrors.Add(1)
			s.opts.Log.Warn("spool: fsync of a sealed segment failed", "err", err)
		}
	}
	s.active.Close()
	s.active = nil
	s.synced = s.written
}

// syncTo returns once the logical offset end is on disk. The caller that
// finds no fsync running starts one covering everything written so far;
// the callers queued behind it usually find their records covered.
func (s *Spool) syncTo(end int64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	if s.synced >= end {
		s.mu.Unlock()
		return nil
	}
	f, upto := s.active, s.written
	s.mu.Unlock()
	var err error
	if f != nil {
		err = f.Sync()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && f != nil {
		s.synced = max(s.synced, upto)
	}
	if s.synced >= end {
		return nil // covered, or sealed (and synced) meanwhile
	}
	s.writeErrors.Add(1)
	if err == nil {
		err = errors.New("segment closed before its fsync")
	}
	s.fail(fmt.Errorf("fsync: %w", err))
	return s.err
}

// Pending reports whether the spool holds events not yet committed that
// Read can return: false once the spool is closed, and while its folder is
// unusable.
func (s *Spool) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready && !s.closed && s.pendingBytes() > 0
}

// pendingBytes is what lies beyond the commit position. s.mu is held.
func (s *Spool) pendingBytes() int64 {
	var n int64
	for i, g := range s.segs {
		from := int64(len(segmentHeader))
		if i == 0 {
			from = max(from, s.roff)
		}
		if g.size > from {
			n += g.size - from
		} else if i < len(s.segs)-1 || s.active == nil {
			n++ // an empty or damaged sealed segment: still to delete
		}
	}
	return n
}

// Health reports whether the spool can take events: nil, an error wrapping
// ErrUnavailable (with the cause), or one wrapping ErrFull. A spool within
// 1/16 of MaxBytes (at most 1 MiB) of its limit counts as full already.
func (s *Spool) Health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil && s.ready && !s.closed && time.Since(s.errAt) >= s.opts.RetryInterval {
		// A write failed earlier and nothing has written since: try a
		// small write so readiness recovers with the disk.
		if err := s.probe(); err != nil {
			s.fail(fmt.Errorf("probe: %w", err))
			return s.err
		}
		s.err = nil
	}
	if err := s.usable(); err != nil {
		return err
	}
	headroom := min(1<<20, s.opts.MaxBytes/16)
	if s.full || s.bytes > s.opts.MaxBytes-headroom {
		return fmt.Errorf("%w: %d of %d bytes used", ErrFull, s.bytes, s.opts.MaxBytes)
	}
	return nil
}

// probe writes, fsyncs and removes a small file in the folder. s.mu is held.
func (s *Spool) probe() error {
	p := filepath.Join(s.opts.Dir, probeName)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer os.Remove(p)
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Stats returns the spool's sizes and counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	st := Stats{Bytes: s.bytes, Segments: len(s.segs), PendingBytes: s.pendingBytes()}
	s.mu.Unlock()
	st.Appended = s.appended.Load()
	st.Replayed = s.replayed.Load()
	st.Corrupt = s.corruptN.Load()
	st.CorruptBytes = s.corruptBytes.Load()
	st.WriteErrors = s.writeErrors.Load()
	return st
}

// Read appends to dst up to max events from the commit position on, oldest
// first, and returns the position after them. Reading again without
// Commit returns the same events. Damaged records are skipped and counted;
// an error is an I/O error of the disk.
func (s *Spool) Read(dst []store.Event, max int) ([]store.Event, Pos, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return dst, Pos{}, ErrClosed
	}
	if !s.ready || len(s.segs) == 0 {
		s.mu.Unlock()
		return dst, Pos{}, nil
	}
	segs := append([]segment(nil), s.segs...)
	pos := Pos{seq: segs[0].seq, off: s.roff}
	s.mu.Unlock()

	s.rmu.Lock()
	defer s.rmu.Unlock()
	for i, g := range segs {
		if i > 0 {
			pos = Pos{seq: g.seq, off: 0, n: pos.n}
		}
		if err := s.r.open(s.path(g.seq), g.seq); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				s.damaged(pos, g.size, "segment file missing")
				pos.off = g.size
				continue
			}
			return dst, pos, fmt.Errorf("read spool: %w", err)
		}
		if pos.off < int64(len(segmentHeader)) {
			h, err := s.r.at(0, len(segmentHeader), g.size)
			if err != nil {
				return dst, pos, fmt.Errorf("read spool: %w", err)
			}
			if h == nil || string(h) != segmentHeader {
				// The records after it are checksummed on their own:
				// resume at the first intact one rather than lose the
				// segment.
				resume, err := s.r.resync(0, g.size)
				if err != nil {
					return dst, pos, fmt.Errorf("read spool: %w", err)
				}
				if g.size > 0 {
					s.damagedHeader(pos, resume)
				}
				pos.off = resume
			} else {
				pos.off = int64(len(segmentHeader))
			}
		}
		for pos.off < g.size && pos.n < max {
			payload, next, err := s.r.record(pos.off, g.size)
			if err != nil {
				return dst, pos, fmt.Errorf("read spool: %w", err)
			}
			if payload == nil {
				resume, err := s.r.resync(pos.off+1, g.size)
				if err != nil {
					return dst, pos, fmt.Errorf("read spool: %w", err)
				}
				s.damaged(pos, resume, "bad record frame or checksum")
				pos.off = resume
				continue
			}
			dst = append(dst, store.Event{})
			if err := decodeEvent(payload, &dst[len(dst)-1]); err != nil {
				dst = dst[:len(dst)-1]
				s.damaged(pos, next, "undecodable event: "+err.Error())
			} else {
				pos.n++
			}
			pos.off = next
		}
		if pos.n >= max {
			break
		}
	}
	return dst, pos, nil
}

// damaged counts and logs a damaged stretch [from, to) of records once,
// however often it is read: its bytes, and the records it held (the record
// frames whose magic survived, at least one: a stretch starts where a
// record should).
func (s *Spool) damaged(from Pos, to int64, why string) {
	if !s.firstSight(from) {
		return
	}
	records, err := s.r.countMagic(from.off, to)
	if err != nil {
		s.opts.Log.Warn("spool: could not count the records of a damaged stretch", "err", err)
	}
	records = max(records, 1)
	s.corruptN.Add(uint64(records))
	s.corruptBytes.Add(uint64(to - from.off))
	s.opts.Log.Warn("spool: skipped a damaged stretch", "segment", segmentName(from.seq), "offset", from.off, "bytes", to-from.off, "records", records, "why", why)
}

// damagedHeader counts a damaged segment header and whatever lies between
// it and the first intact record.
func (s *Spool) damagedHeader(from Pos, to int64) {
	if !s.firstSight(from) {
		return
	}
	records := 0
	if to > int64(len(segmentHeader)) {
		n, err := s.r.countMagic(int64(len(segmentHeader)), to)
		if err != nil {
			s.opts.Log.Warn("spool: could not count the records of a damaged stretch", "err", err)
		}
		records = max(n, 1)
	}
	s.corruptN.Add(uint64(records))
	s.corruptBytes.Add(uint64(to))
	s.opts.Log.Warn("spool: damaged segment header; reading on from the first intact record", "segment", segmentName(from.seq), "bytes", to, "records", records)
}

// firstSight reports whether a damaged stretch at from is seen for the
// first time (a replay reads it again until it is committed).
func (s *Spool) firstSight(from Pos) bool {
	if from.seq < s.corrupt.seq || from.seq == s.corrupt.seq && from.off < s.corrupt.off {
		return false
	}
	s.corrupt = Pos{seq: from.seq, off: from.off + 1}
	return true
}

// Commit records that everything Read returned up to p is stored: the
// segments before p are deleted, and so is p's own segment when p is its
// end.
func (s *Spool) Commit(p Pos) error {
	if p.seq == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for len(s.segs) > 0 {
		g := s.segs[0]
		if g.seq > p.seq || g.seq == p.seq && p.off < g.size {
			if g.seq == p.seq {
				s.roff = p.off
				s.writeAck(g.seq, p.off)
			}
			break
		}
		if s.active != nil && len(s.segs) == 1 {
			s.active.Close() // fully stored: nothing left to make durable
			s.active = nil
			s.synced = s.written
		}
		s.rmu.Lock()
		s.r.forget(g.seq)
		s.rmu.Unlock()
		if err := os.Remove(s.path(g.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			// A segment that comes back is replayed again: duplicates, not loss.
			errs = append(errs, fmt.Errorf("delete stored segment: %w", err))
		}
		s.bytes -= g.size
		s.segs = s.segs[1:]
		s.roff = 0
		s.full = false
	}
	s.replayed.Add(uint64(p.n))
	return errors.Join(errs...)
}

// The ACK file holds the commit position in the oldest segment: segment
// sequence, offset, and a CRC-32C of both (16 + 4 bytes, little endian).
// It is written after each Commit without fsync: a lost or torn write
// only makes the next start replay more (duplicates, which the stores
// ignore), never less.
const ackSize = 20

func (s *Spool) writeAck(seq uint64, off int64) {
	var b [ackSize]byte
	binary.LittleEndian.PutUint64(b[0:], seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	if _, err := s.ack.WriteAt(b[:], 0); err != nil {
		s.opts.Log.Warn("spool: could not record the replay position; a restart replays more", "err", err)
	}
}

// readAck returns where the replay of the oldest segment resumes: the
// recorded position if it is for that segment and intact, else its start.
func readAck(f *os.File, oldest segment) int64 {
	var b [ackSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		return 0
	}
	if crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return 0
	}
	seq, off := binary.LittleEndian.Uint64(b[0:]), int64(binary.LittleEndian.Uint64(b[8:]))
	if seq != oldest.seq || off < int64(len(segmentHeader)) || off > oldest.size {
		return 0
	}
	return off
}

// Close makes everything appended durable and releases the folder.
func (s *Spool) Close() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.active != nil {
		err = s.active.Sync()
		if cerr := s.active.Close(); err == nil {
			err = cerr
		}
		s.active = nil
	}
	s.rmu.Lock()
	s.r.forget(0)
	s.rmu.Unlock()
	if s.ack != nil {
		s.ack.Close()
		s.ack = nil
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
		s.lock = nil
	}
	if err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}

// reader reads one segment through a window of its bytes.
type reader struct {
	f    *os.File
	seq  uint64
	buf  []byte // bytes [base, base+len(buf)) of the file
	base int64
}

func (r *reader) open(path string, seq uint64) error {
	if r.f != nil && r.seq == seq {
		return nil
	}
	r.forget(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	r.f, r.seq, r.buf, r.base = f, seq, r.buf[:0], 0
	return nil
}

// forget closes the reader if it reads seq, or whatever it reads for 0.
func (r *reader) forget(seq uint64) {
	if r.f != nil && (seq == 0 || r.seq == seq) {
		r.f.Close()
		r.f, r.buf, r.base = nil, r.buf[:0], 0
	}
}

// at returns the n bytes at off, or nil if they reach past limit.
func (r *reader) at(off int64, n int, limit int64) ([]byte, error) {
	if off < 0 || off+int64(n) > limit {
		return nil, nil
	}
	if off >= r.base && off+int64(n) <= r.base+int64(len(r.buf)) {
		return r.buf[off-r.base:][:n], nil
	}
	size := int(min(int64(max(n, readChunk)), limit-off))
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	got, err := r.f.ReadAt(r.buf, off)
	r.buf, r.base = r.buf[:got], off
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, nil // shorter than its recorded size: treat as damage
		}
		return nil, err
	}
	return r.buf[:n], nil
}

// record returns the payload of the record at off and the offset after it,
// or a nil payload if the record there is damaged.
func (r *reader) record(off, limit int64) (payload []byte, next int64, err error) {
	h, err := r.at(off, recordHeader, limit)
	if h == nil || err != nil {
		return nil, 0, err
	}
	if binary.LittleEndian.Uint32(h[0:]) != recordMagic {
		return nil, 0, nil
	}
	sum, n := binary.LittleEndian.Uint32(h[4:]), binary.LittleEndian.Uint32(h[8:])
	if n > maxRecord {
		return nil, 0, nil
	}
	framed, err := r.at(off+8, 4+int(n), limit)
	if framed == nil || err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(framed, castagnoli) != sum {
		return nil, 0, nil
	}
	return framed[4:], off + recordHeader + int64(n), nil
}

// countMagic counts the record magics in [off, limit).
func (r *reader) countMagic(off, limit int64) (int, error) {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], recordMagic)
	n := 0
	for off+int64(len(magic)) <= limit {
		size := int(min(int64(readChunk), limit-off))
		window, err := r.at(off, size, limit)
		if window == nil || err != nil {
			return n, err
		}
		n += bytes.Count(window, magic[:])
		if off+int64(size) >= limit {
			break
		}
		off += int64(size - len(magic) + 1) // a magic across the boundary is seen once
	}
	return n, nil
}

// resync finds the first intact record at or after off, or returns limit.
func (r *reader) resync(off, limit int64) (int64, error) {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], recordMagic)
	for off+recordHeader <= limit {
		n := int(min(int64(readChunk), limit-off))
		window, err := r.at(off, n, limit)
		if window == nil || err != nil {
			return limit, err
		}
		i := bytes.Index(window, magic[:])
		if i < 0 {
			off += int64(max(1, n-len(magic)+1))
			continue
		}
		cand := off + int64(i)
		payload, _, err := r.record(cand, limit)
		if err != nil {
			return limit, err
		}
		if payload != nil {
			return cand, nil
		}
		off = cand + 1
	}
	return limit, nil
}
