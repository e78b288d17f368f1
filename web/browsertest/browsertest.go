// Package browsertest starts the real headless Chromium that Footfall's
// browser tests drive (Debian's chromium, through chromedp).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path returns the browser's path, or "" when there is none.
func Path() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	p, _ := exec.LookPath("chromium")
	return p
}

// New starts a headless Chromium with a fresh profile for the test and
// returns a context for its first tab, ended at cleanup. Without Chromium
// the test is skipped, or fails under FOOTFALL_REQUIRE_CHROMIUM=1 (CI).
// opts add to the flags every test needs (window size, user agent).
func New(t *testing.T, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("FOOTFALL_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("Chromium is required (FOOTFALL_REQUIRE_CHROMIUM=1) but neither /usr/bin/chromium nor chromium on PATH exists: apt-get install chromium")
		}
		t.Skip("SKIPPED: browser test needs Chromium (/usr/bin/chromium or chromium on PATH); apt-get install chromium, or set FOOTFALL_REQUIRE_CHROMIUM=1 to fail instead")
	}
	// The background-networking flags keep Chromium from calling out: this
	// machine's closed network refuses it, many times per start.
	all := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}, opts...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}
