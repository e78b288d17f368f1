package main

import (
	"crypto/sha512"
	"encoding/base64"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
)

// footfall snippet prints a tag whose script a running serve serves, and
// whose integrity value is that script's SHA-384.
func TestSnippetMatchesTheServedTracker(t *testing.T) {
	addr, _ := startServe(t, "-store", "sqlite:"+filepath.Join(t.TempDir(), "f.db"))
	code, out, errOut := footfall(t, nil, "snippet", "-site", "Example.com", "-public-url", "http://"+addr+"/")
	if code != 0 {
		t.Fatalf("snippet: exit %d: %s", code, errOut)
	}
	m := regexp.MustCompile(`^<script defer src="([^"]+)" integrity="(sha384-[^"]+)" crossorigin="anonymous" data-site="example.com"></script>\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("snippet printed %q", out)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", m[1], resp.StatusCode, err)
	}
	sum := sha512.Sum384(body)
	if got := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); got != m[2] {
		t.Errorf("integrity %s, but the served script hashes to %s", m[2], got)
	}
	for _, args := range [][]string{{"snippet"}, {"snippet", "-site", "bad domain"}, {"snippet", "-site", "example.com", "-public-url", "stats.example.com"}} {
		if code, _, _ := footfall(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
