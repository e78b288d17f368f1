package consent

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/store"
)

// checkpointed appends 40 decisions of site 1 on one chain, signing the
// head after every tenth into a checkpoint file, and returns the records,
// the file's path and the public key.
func checkpointed(t *testing.T) ([]store.ConsentRecord, string, ed25519.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	key, err := LoadCheckpointKey(filepath.Join(dir, "key"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "checkpoints.jsonl")
	log, err := OpenCheckpointLog(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	chain := NewChain(chainA)
	var recs []store.ConsentRecord
	for i := range 40 {
		r := decision(1, i)
		chain.Next(&r)
		recs = append(recs, r)
		if i%10 == 9 {
			n, err := log.Write(chain.Heads(), r.Time)
			if err != nil || n != 1 {
				t.Fatalf("checkpoint after record %d: wrote %d, %v", i+1, n, err)
			}
			// Nothing moved: nothing is written again.
			if n, err := log.Write(chain.Heads(), r.Time); err != nil || n != 0 {
				t.Fatalf("second checkpoint of the same head: wrote %d, %v", n, err)
			}
		}
	}
	return recs, path, key.Public().(ed25519.PublicKey)
}

func readCheckpoints(t *testing.T, path string, pub ed25519.PublicKey) []Checkpoint {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := ReadCheckpoints(bytes.NewReader(data), pub)
	if err != nil {
		t.Fatal(err)
	}
	return cps
}

func TestCheckpointsCatchTampering(t *testing.T) {
	recs, path, pub := checkpointed(t)
	cps := readCheckpoints(t, path, pub)
	if len(cps) != 4 || cps[3].Seq != 40 {
		t.Fatalf("checkpoints: %d, the last at seq %d; want 4, the last at 40", len(cps), cps[len(cps)-1].Seq)
	}
	if brs := VerifyCheckpoints(recs, cps, time.Time{}); len(brs) != 0 {
		t.Fatalf("intact ledger: %v", brs)
	}

	// Re-sealing the chain after a change keeps the chain intact, so only
	// a checkpoint sees what the sealer did.
	reseal := func(recs []store.ConsentRecord, from int) {
		prev := [32]byte{}
		if from > 0 {
			prev = recs[from-1].Hash
		}
		for i := from; i < len(recs); i++ {
			recs[i].Seal(prev)
			prev = recs[i].Hash
		}
	}
	cases := []struct {
		name   string
		tamper func([]store.ConsentRecord) []store.ConsentRecord
		want   string // in the first break; "" for none
		chain  bool   // VerifyChain sees it too
	}{
		{"last records cut off", func(r []store.ConsentRecord) []store.ConsentRecord { return r[:37] }, "truncated: the chain ends at seq 37", false},
		{"a checkpointed record cut off with all after it", func(r []store.ConsentRecord) []store.ConsentRecord { return r[:25] }, "truncated: the chain ends at seq 25", false},
		{"a record altered and the chain re-sealed", func(r []store.ConsentRecord) []store.ConsentRecord {
			r[32].Action = store.ConsentRejectAll
			reseal(r, 32)
			return r
		}, "seq 40: altered", false},
		{"the last records altered, and re-sealed from a checkpointed one", func(r []store.ConsentRecord) []store.ConsentRecord {
			r[27].Granted = store.ConsentAll
			reseal(r, 27)
			return r
		}, "seq 30: altered", false},
		{"two records swapped and re-sealed", func(r []store.ConsentRecord) []store.ConsentRecord {
			r[18].ConsentID, r[19].ConsentID = r[19].ConsentID, r[18].ConsentID
			reseal(r, 18)
			return r
		}, "seq 20: altered", false},
		{"two records reordered", func(r []store.ConsentRecord) []store.ConsentRecord {
			r[18].Seq, r[19].Seq = r[19].Seq, r[18].Seq
			return r
		}, "seq 20: altered", true},
		{"the chain's first records removed by retention", func(r []store.ConsentRecord) []store.ConsentRecord { return r[12:] }, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.tamper(slices.Clone(recs))
			brs := VerifyCheckpoints(got, cps, time.Time{})
			switch {
			case c.want == "" && len(brs) > 0:
				t.Errorf("breaks %v, want none", brs)
			case c.want != "" && (len(brs) == 0 || !strings.Contains(brs[0].String(), c.want)):
				t.Errorf("breaks %v, want one with %q", brs, c.want)
			}
			if br := store.VerifyChain(got); (br != nil) != c.chain {
				t.Errorf("VerifyChain: %v, want a break: %v", br, c.chain)
			}
		})
	}

	t.Run("a whole chain gone", func(t *testing.T) {
		brs := VerifyCheckpoints(nil, cps, time.Time{})
		if len(brs) != 4 || !strings.Contains(brs[0].Reason, "the chain is gone") {
			t.Errorf("breaks %v, want 4 gone", brs)
		}
		// Unless retention removed it: every checkpoint is older than
		// what the ledger keeps.
		if brs := VerifyCheckpoints(nil, cps, cps[3].Time.Add(time.Second)); len(brs) != 0 {
			t.Errorf("chain gone by retention: %v", brs)
		}
	})
}

func TestCheckpointFileTampering(t *testing.T) {
	_, path, pub := checkpointed(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	other, _, _ := ed25519.GenerateKey(nil)
	cases := []struct {
		name string
		file string
		keys []ed25519.PublicKey
		want string
	}{
		{"a line removed", lines[0] + lines[2] + lines[3], []ed25519.PublicKey{pub}, "line 2: does not follow line 1"},
		{"lines reordered", lines[1] + lines[0] + lines[2] + lines[3], []ed25519.PublicKey{pub}, "line 1: does not follow"},
		{"a seq lowered", strings.Replace(string(data), `"seq":40`, `"seq":35`, 1), []ed25519.PublicKey{pub}, "line 4: the signature does not match"},
		{"another key", string(data), []ed25519.PublicKey{other}, "line 1: signed by key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCheckpoints(strings.NewReader(c.file), c.keys...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one with %q", err, c.want)
			}
		})
	}
}

func TestCheckpointLogReopens(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadCheckpointKey(filepath.Join(dir, "key"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadCheckpointKey(filepath.Join(dir, "key"))
	if err != nil || !again.Equal(key) {
		t.Fatalf("the key read back differs (%v)", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	path := filepath.Join(dir, "cp.jsonl")
	chain := NewChain(chainA)
	for round := range 3 {
		log, err := OpenCheckpointLog(path, key)
		if err != nil {
			t.Fatal(err)
		}
		r := decision(2, round)
		chain.Next(&r)
		if _, err := log.Write(chain.Heads(), r.Time); err != nil {
			t.Fatal(err)
		}
		log.Close()
	}
	cps := readCheckpoints(t, path, key.Public().(ed25519.PublicKey))
	if len(cps) != 3 || cps[2].Seq != 3 {
		t.Fatalf("after three opens: %d checkpoints, want 3 linked", len(cps))
	}
}
