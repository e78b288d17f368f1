package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// SnippetVersion is the tracker's version as the consent ledger records it.
// Bump it when the tracker's behaviour changes.
const SnippetVersion = "2"

//go:embed src/tracker.js src/consent.js src/banner.css
var src embed.FS

// Asset is one built script.
type Asset struct {
	// Name is the versioned file name, such as "f.1a2b3c4d5e6f.js": the
	// content hash changes whenever the content does.
	Name string
	// Body is the minified script; Gzip is the same, gzip-compressed.
	Body []byte
	Gzip []byte
	// SRI is the subresource-integrity value of Body ("sha384-…").
	SRI string
	// Source is the size of the readable source in bytes (CSS included).
	Source int
}

// Bundle is what a browser loads from Footfall.
type Bundle struct {
	// Tracker is f.<hash>.js, also served as f.js: what a site embeds.
	Tracker Asset
	// Consent is consent.<hash>.js: the banner (banner.css inlined), the JS
	// consent API and the consent-platform adapters. The tracker loads it
	// only when a decision is needed or asked for, pinned by its SRI hash.
	Consent Asset
}

// Build minifies the tracker and the consent script from the embedded sources. It
// needs no Node: esbuild runs as a Go library, in a few milliseconds, so the
// server builds at start-up and a test compares sizes with the budget.
func Build() (*Bundle, error) {
	read := func(name string) (string, error) {
		b, err := src.ReadFile("src/" + name)
		return string(b), err
	}
	trackerJS, err1 := read("tracker.js")
	consentJS, err2 := read("consent.js")
	bannerCSS, err3 := read("banner.css")
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("read web sources: %w", err)
	}

	css, err := minify("banner.css", bannerCSS, api.LoaderCSS, api.FormatDefault, nil)
	if err != nil {
		return nil, err
	}
	consent, err := minify("consent.js", consentJS, api.LoaderJS, api.FormatESModule, map[string]string{
		"__CSS__":     jsString(strings.TrimSpace(css)),
		"__VERSION__": jsString(SnippetVersion),
	})
	if err != nil {
		return nil, err
	}
	b := &Bundle{Consent: newAsset("consent", consent, len(consentJS)+len(bannerCSS))}
	tracker, err := minify("tracker.js", trackerJS, api.LoaderJS, api.FormatIIFE, map[string]string{"__CONSENT__": jsString(b.Consent.Name)})
	if err != nil {
		return nil, err
	}
	b.Tracker = newAsset("f", tracker, len(trackerJS))
	return b, nil
}

// minify runs esbuild on one source. The tracker becomes one function
// expression, the consent script an ES module: either way, top-level names
// stay private and are shortened.
func minify(name, code string, loader api.Loader, format api.Format, define map[string]string) (string, error) {
	opts := api.TransformOptions{
		Sourcefile:        name,
		Loader:            loader,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Charset:           api.CharsetUTF8,
		LegalComments:     api.LegalCommentsNone,
		Define:            define,
		Format:            format,
	}
	res := api.Transform(code, opts)
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return "", fmt.Errorf("minify %s: %s", name, strings.Join(msgs, ""))
	}
	return string(res.Code), nil
}

func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func newAsset(base, body string, source int) Asset {
	a := Asset{Body: []byte(body), Source: source}
	sum := sha256.Sum256(a.Body)
	a.Name = base + "." + hex.EncodeToString(sum[:5]) + ".js"
	sri := sha512.Sum384(a.Body)
	a.SRI = "sha384-" + base64.StdEncoding.EncodeToString(sri[:])
	a.Gzip = gzipped(a.Body)
	return a
}

// gzipped compresses b at the best level; the result depends on b alone,
// so a test measures exactly what the server sends.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(b)                                              // a bytes.Buffer does not fail
	zw.Close()
	return buf.Bytes()
}
