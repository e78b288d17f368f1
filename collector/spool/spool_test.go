package spool

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// open returns a spool in dir, closed when the test ends.
func open(t *testing.T, opts Options) *Spool {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func events(t testing.TB, n int, seed uint64) []store.Event {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]store.Event, n)
	for i := range out {
		out[i] = randomEvent(t, r)
	}
	return out
}

// readAll reads and commits everything in the spool, max events at a time.
func readAll(t *testing.T, s *Spool, max int) []store.Event {
	t.Helper()
	var all []store.Event
	for s.Pending() {
		got, pos, err := s.Read(nil, max)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > max {
			t.Fatalf("Read returned %d events, max %d", len(got), max)
		}
		all = append(all, got...)
		if err := s.Commit(pos); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

func ids(events []store.Event) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func TestAppendReadCommitInOrderAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, SegmentBytes: 64 << 10})
	want := events(t, 3000, 1)
	for i := 0; i < len(want); i += 100 {
		if err := s.Append(want[i : i+100]); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Segments < 3 || st.Appended != 3000 {
		t.Fatalf("stats %+v: want several 64 KiB segments and 3000 appended", st)
	}
	got := readAll(t, s, 700)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("replayed events differ (-want +got):\n%s", diff)
	}
	st := s.Stats()
	if st.Segments != 0 || st.Bytes != 0 || st.Replayed != 3000 || st.Corrupt != 0 {
		t.Errorf("after the replay: %+v, want no segments left, 3000 replayed", st)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt)); len(left) != 0 {
		t.Errorf("segment files left after everything was committed: %v", left)
	}
}

func TestReadWithoutCommitReadsAgain(t *testing.T) {
	s := open(t, Options{Dir: t.TempDir()})
	want := events(t, 10, 2)
	if err := s.Append(want); err != nil {
		t.Fatal(err)
	}
	first, _, err := s.Read(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	again, pos, err := s.Read(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(first), ids(again)); diff != "" || len(first) != 4 {
		t.Fatalf("a second Read without Commit differs or is not 4 events:\n%s", diff)
	}
	if err := s.Commit(pos); err != nil {
		t.Fatal(err)
	}
	rest := readAll(t, s, 100)
	if diff := cmp.Diff(ids(want[4:]), ids(rest)); diff != "" {
		t.Fatalf("after committing 4, the rest differs:\n%s", diff)
	}
}

// A restarted collector replays what the previous one spooled, and appends
// behind it.
func TestReopenReplaysEarlierRun(t *testing.T) {
	dir := t.TempDir()
	first, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := events(t, 50, 3)
	if err := first.Append(want[:30]); err != nil {
		t.Fatal(err)
	}
	// Part of it stored before the crash (nothing closed: the process
	// dies). The replay resumes after what the store acknowledged.
	got, pos, _ := first.Read(nil, 10)
	if len(got) != 10 {
		t.Fatalf("read %d, want 10", len(got))
	}
	if err := first.Commit(pos); err != nil {
		t.Fatal(err)
	}
	first.crash()

	second := open(t, Options{Dir: dir})
	if err := second.Append(want[30:]); err != nil {
		t.Fatal(err)
	}
	all := readAll(t, second, 1000)
	if diff := cmp.Diff(ids(want[10:]), ids(all)); diff != "" {
		t.Fatalf("replay after restart (-want +got):\n%s", diff)
	}
}

// Damage of every kind is skipped with a count; every intact record still
// comes back; nothing panics.
func TestDamagedRecordsAreSkippedAndCounted(t *testing.T) {
	tests := []struct {
		name        string
		damage      func(t *testing.T, path string, size int64, recordStarts []int64)
		wantLost    []int  // indexes of the events lost
		wantCorrupt uint64 // records counted lost
		wantBytes   bool   // damaged bytes counted
	}{
		{"torn tail: last record cut short", func(t *testing.T, p string, size int64, rs []int64) {
			truncate(t, p, size-5)
		}, []int{9}, 1, true},
		{"torn tail: only a header half written", func(t *testing.T, p string, size int64, rs []int64) {
			truncate(t, p, rs[9]+7)
		}, []int{9}, 1, true},
		{"garbage appended after the last record", func(t *testing.T, p string, size int64, rs []int64) {
			appendBytes(t, p, []byte("\xf0\x07\xfa\x11garbage that is not a record"))
		}, nil, 1, true},
		{"flipped payload byte in the middle", func(t *testing.T, p string, size int64, rs []int64) {
			flip(t, p, rs[4]+recordHeader+10)
		}, []int{4}, 1, true},
		{"flipped length field", func(t *testing.T, p string, size int64, rs []int64) {
			flip(t, p, rs[2]+9)
		}, []int{2}, 1, true},
		{"two damaged stretches", func(t *testing.T, p string, size int64, rs []int64) {
			flip(t, p, rs[1]+1)
			flip(t, p, rs[7]+recordHeader)
		}, []int{1, 7}, 2, true},
		{"bad segment header: the records after it are kept", func(t *testing.T, p string, size int64, rs []int64) {
			flip(t, p, 0)
		}, nil, 0, true},
		{"bad segment header and the first record", func(t *testing.T, p string, size int64, rs []int64) {
			flip(t, p, 3)
			flip(t, p, rs[0]+recordHeader+2)
		}, []int{0}, 1, true},
		{"three records in one damaged stretch", func(t *testing.T, p string, size int64, rs []int64) {
			flip(t, p, rs[3]+recordHeader+1)
			flip(t, p, rs[4]+recordHeader+1)
			flip(t, p, rs[5]+recordHeader+1)
		}, []int{3, 4, 5}, 3, true},
		{"empty segment file", func(t *testing.T, p string, size int64, rs []int64) {
			truncate(t, p, 0)
		}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			want := events(t, 10, 4)
			s, _ := New(Options{Dir: dir})
			var starts []int64
			for i := range want {
				starts = append(starts, s.Stats().Bytes)
				if i == 0 {
					starts[0] = int64(len(segmentHeader))
				}
				if err := s.Append(want[i : i+1]); err != nil {
					t.Fatal(err)
				}
			}
			size := s.Stats().Bytes
			s.Close()
			path := filepath.Join(dir, segmentName(1))
			tt.damage(t, path, size, starts)

			s = open(t, Options{Dir: dir})
			got := readAll(t, s, 3)
			wantKept := []uuid.UUID{}
			for i, e := range want {
				if !contains(tt.wantLost, i) {
					wantKept = append(wantKept, e.ID)
				}
			}
			if diff := cmp.Diff(wantKept, ids(got)); diff != "" {
				t.Errorf("kept events (-want +got):\n%s", diff)
			}
			if c := s.Stats().Corrupt; c != tt.wantCorrupt {
				t.Errorf("records counted lost %d, want %d", c, tt.wantCorrupt)
			}
			if b := s.Stats().CorruptBytes; (b > 0) != tt.wantBytes {
				t.Errorf("damaged bytes counted %d, want some: %v", b, tt.wantBytes)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the damaged segment was not deleted after its replay: %v", err)
			}
		})
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func truncate(t *testing.T, p string, size int64) {
	t.Helper()
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, p string, off int64) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x5a
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, p string, extra []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(extra); err != nil {
		t.Fatal(err)
	}
}

func TestFullSpoolRefusesAndRecovers(t *testing.T) {
	s := open(t, Options{Dir: t.TempDir(), MaxBytes: 64 << 10})
	batch := events(t, 20, 5)
	var appended int
	var err error
	for range 100 {
		if err = s.Append(batch); err != nil {
			break
		}
		appended += len(batch)
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("appending past MaxBytes: %v, want ErrFull", err)
	}
	if st := s.Stats(); st.Bytes > 64<<10 {
		t.Errorf("spool grew to %d bytes, over its 64 KiB limit", st.Bytes)
	}
	if err := s.Health(); !errors.Is(err, ErrFull) {
		t.Errorf("Health = %v, want ErrFull", err)
	}
	if got := readAll(t, s, 1000); len(got) != appended {
		t.Errorf("replayed %d events, want the %d appended before it filled", len(got), appended)
	}
	if err := s.Health(); err != nil {
		t.Errorf("Health after the replay freed it: %v", err)
	}
	if err := s.Append(batch); err != nil {
		t.Errorf("Append after the replay: %v", err)
	}
}

func TestUnusableFolderIsReportedNotFatal(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	s := open(t, Options{Dir: filepath.Join(notDir, "spool")})
	if err := s.Health(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Health = %v, want ErrUnavailable", err)
	}
	if err := s.Append(events(t, 1, 6)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Append = %v, want ErrUnavailable", err)
	}
	if err := s.AppendSync(events(t, 1, 6)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("AppendSync = %v, want ErrUnavailable", err)
	}
	if got, _, err := s.Read(nil, 10); err != nil || len(got) != 0 {
		t.Errorf("Read = %d events, %v; want none, no error", len(got), err)
	}
}

// An operator who fixes the folder does not have to restart the collector.
func TestFolderFixedLaterIsUsed(t *testing.T) {
	base := t.TempDir()
	blocker := filepath.Join(base, "data")
	if err := os.WriteFile(blocker, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	s := open(t, Options{Dir: filepath.Join(blocker, "spool"), RetryInterval: 1})
	if err := s.Health(); err == nil {
		t.Fatal("Health = nil with a file in the way")
	}
	os.Remove(blocker)
	if err := s.Health(); err != nil {
		t.Errorf("Health after the fix: %v", err)
	}
	if err := s.Append(events(t, 3, 7)); err != nil {
		t.Errorf("Append after the fix: %v", err)
	}
}

func TestSecondProcessIsLockedOut(t *testing.T) {
	dir := t.TempDir()
	open(t, Options{Dir: dir})
	other := open(t, Options{Dir: dir})
	if err := other.Health(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a second spool on the same folder: Health = %v, want ErrUnavailable", err)
	}
}

// Concurrent AppendSync calls all return durable, and share fsyncs.
func TestAppendSyncGroupCommit(t *testing.T) {
	dir := t.TempDir()
	s := open(t, Options{Dir: dir})
	batch := events(t, 1, 8)
	const writers, each = 32, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				if err := s.AppendSync(batch); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Appended != writers*each {
		t.Errorf("appended %d, want %d", st.Appended, writers*each)
	}
	if got := readAll(t, s, 10000); len(got) != writers*each {
		t.Errorf("read back %d, want %d", len(got), writers*each)
	}
}

func BenchmarkAppend(b *testing.B) {
	s, _ := New(Options{Dir: b.TempDir(), MaxBytes: 1 << 40})
	defer s.Close()
	batch := []store.Event{sampleEvent()}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendSyncParallel(b *testing.B) {
	s, _ := New(Options{Dir: b.TempDir(), MaxBytes: 1 << 40})
	defer s.Close()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		batch := []store.Event{sampleEvent()}
		for pb.Next() {
			if err := s.AppendSync(batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReadCommit(b *testing.B) {
	s, _ := New(Options{Dir: b.TempDir(), MaxBytes: 1 << 40})
	defer s.Close()
	batch := make([]store.Event, 1000)
	for i := range batch {
		batch[i] = sampleEvent()
	}
	var buf []store.Event
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Append(batch); err != nil {
			b.Fatal(err)
		}
		var pos Pos
		var err error
		buf, pos, err = s.Read(buf[:0], 1000)
		if err != nil || len(buf) != 1000 {
			b.Fatal(len(buf), err)
		}
		s.Commit(pos)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/event")
}

// crash releases the folder as a killed process does: no sync, no close of
// the segment beyond what the kernel does.
func (s *Spool) crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.lock.Close()
}

// A damaged or stale ACK never loses events: the replay starts at the
// segment's beginning (duplicates, which the stores ignore).
func TestDamagedAckReplaysFromTheStart(t *testing.T) {
	dir := t.TempDir()
	first := open(t, Options{Dir: dir})
	want := events(t, 20, 5)
	if err := first.Append(want); err != nil {
		t.Fatal(err)
	}
	_, pos, _ := first.Read(nil, 10)
	if err := first.Commit(pos); err != nil {
		t.Fatal(err)
	}
	first.Close()
	flip(t, filepath.Join(dir, ackName), 9)
	second := open(t, Options{Dir: dir})
	if diff := cmp.Diff(ids(want), ids(readAll(t, second, 1000))); diff != "" {
		t.Fatalf("replay after a damaged ACK (-want +got):\n%s", diff)
	}
}
