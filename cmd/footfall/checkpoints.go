package main

import (
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/footfall/footfall/collector/consent"
)

// checkpointFlags locate the consent ledger's checkpoint file and its key
// (docs/consent.md): serve writes them, consent verify reads them.
type checkpointFlags struct {
	file, key string
	every     time.Duration
}

const (
	checkpointFile = "consent-checkpoints.jsonl"
	checkpointKey  = "consent-checkpoint.key"
)

func (f *checkpointFlags) register(fs *flag.FlagSet, serving bool) {
	if serving {
		fs.StringVar(&f.file, "checkpoints", "", "`file` the signed heads of this process's consent ledger chains are appended to, kept apart from the store so that records cut off a chain's end show (default: "+checkpointFile+" in the spool folder, which is this process's own); off: none")
		fs.StringVar(&f.key, "checkpoint-key", "", "`file` of the Ed25519 key that signs the checkpoints, created if missing (default: "+checkpointKey+" beside -checkpoints)")
		fs.DurationVar(&f.every, "checkpoint-every", time.Minute, "how often to sign the chains' heads that moved (and once more at shutdown)")
		return
	}
	fs.StringVar(&f.file, "checkpoints", "", "comma-separated checkpoint `files` of the collectors (default: "+checkpointFile+" where serve keeps it for -store, if there is one)")
	fs.StringVar(&f.key, "checkpoint-key", "", "comma-separated key `files` that signed them (default: "+checkpointKey+" beside each checkpoint file)")
}

func (f *checkpointFlags) check() []error {
	if f.file != "off" && (f.every < time.Second || f.every > 24*time.Hour) {
		return []error{fmt.Errorf("-checkpoint-every: want 1s to 24h, got %s", f.every)}
	}
	return nil
}

// paths are the checkpoint file and key of serve, whose spool is in
// spoolDir: one collector process a spool folder, as one chain a process.
func (f *checkpointFlags) paths(spoolDir string) (file, key string) {
	file = f.file
	if file == "" {
		file = filepath.Join(spoolDir, checkpointFile)
	}
	key = f.key
	if key == "" {
		key = filepath.Join(filepath.Dir(file), checkpointKey)
	}
	return file, key
}

// open opens serve's checkpoint log, or returns nil with -checkpoints off.
func (f *checkpointFlags) open(spoolDir string) (*consent.CheckpointLog, string, error) {
	if f.file == "off" {
		return nil, "", nil
	}
	file, keyPath := f.paths(spoolDir)
	key, err := consent.LoadCheckpointKey(keyPath)
	if err != nil {
		return nil, "", err
	}
	l, err := consent.OpenCheckpointLog(file, key)
	return l, file, err
}

// read reads and checks every checkpoint file consent verify is given; with
// no -checkpoints, serve's default file for the store if it exists.
func (f *checkpointFlags) read(target storeTarget) ([]consent.Checkpoint, []string, error) {
	var files, keys []string
	if f.file != "" {
		files = strings.Split(f.file, ",")
	} else {
		def, _ := f.paths((&ingestFlags{}).dir(target))
		if _, err := os.Stat(def); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		files = []string{def}
	}
	if f.key != "" {
		keys = strings.Split(f.key, ",")
	} else {
		for _, file := range files {
			keys = append(keys, filepath.Join(filepath.Dir(file), checkpointKey))
		}
	}
	var pubs []ed25519.PublicKey
	for _, k := range keys {
		if _, err := os.Stat(k); err != nil {
			return nil, nil, fmt.Errorf("-checkpoint-key: %w", err)
		}
		priv, err := consent.LoadCheckpointKey(k)
		if err != nil {
			return nil, nil, err
		}
		pubs = append(pubs, priv.Public().(ed25519.PublicKey))
	}
	var all []consent.Checkpoint
	for _, file := range files {
		r, err := os.Open(file)
		if err != nil {
			return nil, nil, fmt.Errorf("-checkpoints: %w", err)
		}
		cps, err := consent.ReadCheckpoints(r, pubs...)
		r.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		all = append(all, cps...)
	}
	return all, files, nil
}
