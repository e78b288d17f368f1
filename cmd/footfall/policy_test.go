package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// Bumping the policy version is one config change: the policy endpoint then
// lists both versions with the date each took effect, and the old tokens
// stop counting.
func TestPolicyBumpIsNoticed(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "footfall.db")
	cfg := filepath.Join(dir, "footfall.yaml")
	write := func(v string) {
		if err := os.WriteFile(cfg, []byte("sites:\n  - domain: example.test\n    consent:\n      policy_version: "+v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("1")
	addr, stop := startServe(t, "-store", dsn, "-config", cfg)
	token := grant(t, addr, "example.test")
	stop()
	write("2")
	addr, stop = startServe(t, "-store", dsn, "-config", cfg)
	defer stop()
	resp, err := http.Get("http://" + addr + "/api/consent/policy?site=example.test")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		PolicyVersion uint32 `json:"policy_version"`
		History       []struct {
			Version uint32 `json:"version"`
			Since   string `json:"since"`
		} `json:"history"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.PolicyVersion != 2 || len(p.History) != 2 || p.History[0].Version != 1 || p.History[1].Version != 2 || p.History[1].Since == "" {
		t.Errorf("policy = %+v, want version 2 with a history of 1 and 2", p)
	}
	body := `{"site":"example.test","type":"pageview","url":"https://example.test/","token":"` + token + `"}`
	if code := postEvent(t, addr, body); code != http.StatusNoContent {
		t.Errorf("a token of the old policy: %d, want 204", code)
	}
}
