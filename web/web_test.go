package web_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"image/gif"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/footfall/footfall/web"
)

func get(t *testing.T, rawURL string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// A transport that does not add Accept-Encoding or decompress: the
	// test sees what the server sends.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestScriptsAreServedVersionedAndCached(t *testing.T) {
	e := newEnv(t)
	b := e.product().Web.Bundle()
	tests := []struct {
		name  string
		path  string
		asset web.Asset
		cache string
	}{
		{"alias", "/f.js", b.Tracker, "public, max-age=300"},
		{"versioned tracker", "/" + b.Tracker.Name, b.Tracker, "public, max-age=31536000, immutable"},
		{"consent script", "/" + b.Consent.Name, b.Consent, "public, max-age=31536000, immutable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, e.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, tt.asset.Body) {
				t.Fatalf("GET %s: status %d, %d bytes; want 200 and the %d-byte script", tt.path, resp.StatusCode, len(body), len(tt.asset.Body))
			}
			for header, want := range map[string]string{
				"Cache-Control":               tt.cache,
				"Access-Control-Allow-Origin": "*",
				"Content-Type":                "text/javascript; charset=utf-8",
				"X-Content-Type-Options":      "nosniff",
			} {
				if got := resp.Header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
			sum := sha512.Sum384(body)
			if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); tt.asset.SRI != want {
				t.Errorf("SRI %q, want %q", tt.asset.SRI, want)
			}

			resp, zipped := get(t, e.URL+tt.path, map[string]string{"Accept-Encoding": "br, gzip"})
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(zipped))
			if err != nil {
				t.Fatal(err)
			}
			if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, body) {
				t.Errorf("gzip body differs from the script (%v)", err)
			}

			resp, _ = get(t, e.URL+tt.path, map[string]string{"If-None-Match": resp.Header.Get("ETag")})
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("with If-None-Match: status %d, want 304", resp.StatusCode)
			}
		})
	}
	if resp, _ := get(t, e.URL+"/f.0000000000.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown version: status %d, want 404", resp.StatusCode)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	a, err := web.Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := web.Build()
	if err != nil {
		t.Fatal(err)
	}
	if a.Tracker.Name != b.Tracker.Name || a.Consent.Name != b.Consent.Name || !bytes.Equal(a.Tracker.Gzip, b.Tracker.Gzip) {
		t.Errorf("two builds differ: %s %s, %s %s", a.Tracker.Name, b.Tracker.Name, a.Consent.Name, b.Consent.Name)
	}
	if !bytes.Contains(a.Tracker.Body, []byte(a.Consent.Name)) {
		t.Errorf("the tracker does not name its consent script %s", a.Consent.Name)
	}
}

func TestPixel(t *testing.T) {
	e := newEnv(t)
	token := e.grant()
	event := func(u string) string {
		return `{"site":"shop.test","type":"pageview","url":"` + u + `","token":"` + token + `"}`
	}
	tests := []struct {
		name   string
		query  string
		header map[string]string
		stored string // the stored page path, "" for none
	}{
		{"no parameters", "", nil, ""},
		{"noscript tag without a token", "site=shop.test", map[string]string{"Referer": "https://shop.test/noscript"}, ""},
		{"tracker fallback", "e=" + url.QueryEscape(event("https://shop.test/fallback")), nil, "/fallback"},
		{"parameters with a token", "site=shop.test&url=" + url.QueryEscape("https://shop.test/params") + "&token=" + token + "&w=1280", nil, "/params"},
		{"url from the referer", "site=shop.test&token=" + token, map[string]string{"Referer": "https://shop.test/from-referer"}, "/from-referer"},
		{"unknown site", "site=nowhere.test&url=https://nowhere.test/&token=" + token, nil, ""},
		{"malformed event", "e=" + url.QueryEscape(`{"site":`), nil, ""},
		{"invalid field", "e=" + url.QueryEscape(event("ftp://shop.test/x")), nil, ""},
		{"bad number", "site=shop.test&url=https://shop.test/n&token=" + token + "&w=wide", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, r := range e.events() {
				seen[r.ID.String()] = true
			}
			resp, body := get(t, e.URL+"/p.gif?"+tt.query, tt.header)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d, Content-Type %q, Cache-Control %q; want 200, image/gif, no-store",
					resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
			}
			img, err := gif.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 1 || b.Dy() != 1 {
				t.Errorf("image is %dx%d, want 1x1", b.Dx(), b.Dy())
			}
			if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
				t.Errorf("pixel alpha %d, want transparent", a)
			}
			var stored []string
			for _, r := range e.events() {
				if !seen[r.ID.String()] {
					stored = append(stored, r.Path)
				}
			}
			if want := []string{tt.stored}; tt.stored == "" && len(stored) > 0 || tt.stored != "" && !slices.Equal(stored, want) {
				t.Errorf("stored pages %q, want %q", stored, tt.stored)
			}
		})
	}
}

func TestPixelCarriesGPC(t *testing.T) {
	e := newEnv(t)
	token := e.grant()
	resp, _ := get(t, e.URL+"/p.gif?site=shop.test&url="+url.QueryEscape("https://shop.test/?gclid=abc&utm_source=news")+"&token="+token,
		map[string]string{"Sec-GPC": "1"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rows := e.events()
	if len(rows) != 1 {
		t.Fatalf("stored %d events, want 1", len(rows))
	}
	// UTM tags are traffic-source data (analytics); the ad click id is marketing.
	if r := rows[0]; !r.GPC || r.ClickID != "" || r.UTMSource != "news" || r.Consent&4 != 0 {
		t.Errorf("stored GPC %v, click id %q, utm_source %q, consent %b; want GPC, no marketing (no click id), utm_source news", r.GPC, r.ClickID, r.UTMSource, r.Consent)
	}
}

func TestREADMEShowsTheCurrentSnippet(t *testing.T) {
	b, err := web.Build()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := readFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := web.SnippetTag(b, "https://stats.example.com", "example.com")
	if !strings.Contains(readme, want) {
		t.Errorf("README.md does not show the current snippet; put this tag in it:\n%s", want)
	}
}
