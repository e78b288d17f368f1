package enrich

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Length caps of what CleanURL returns. Values over a cap are cut at a
// character boundary (a query parameter that does not fit is left out
// whole), never rejected: the beacon handler has already capped the URL.
const (
	MaxPathLen     = 1024
	MaxQueryLen    = 1024
	MaxUTMLen      = 128
	MaxClickIDLen  = 256 // the whole "name:value"
	MaxReferrerLen = 1024
)

// UTM is the campaign tagging of a page URL, trimmed and capped at
// MaxUTMLen bytes each.
type UTM struct {
	Source   string
	Medium   string
	Campaign string
	Term     string
	Content  string
}

// SiteRules are a site's settings that shape its URLs.
type SiteRules struct {
	// Domain is the site's registered domain; a referrer on it or on a
	// subdomain of it is internal.
	Domain string
	// HashRouting keeps a "#/route" (or "#!/route") fragment in Path, for
	// single-page apps that route by fragment.
	HashRouting bool
	// AllowedQuery are the query parameter names kept in Event.Query,
	// matched exactly (case-sensitively). Sensitive, UTM and click-id
	// parameters are never kept, whatever this says.
	AllowedQuery []string
}

//go:embed sensitive_params.txt
var sensitiveParamsFile string

//go:embed click_ids.txt
var clickIDsFile string

// paramRules are the embedded parameter lists, parsed once.
type paramRules struct {
	sensitive map[string]bool // normalised exact names
	prefixes  []string        // "name*"
	suffixes  []string        // "*name"
	infixes   []string        // "*name*"
	clickIDs  []string        // lower case, priority order
}

var params = sync.OnceValue(func() *paramRules {
	r, err := parseParamRules(sensitiveParamsFile, clickIDsFile)
	if err != nil {
		panic("enrich: embedded parameter lists: " + err.Error()) // caught by the package tests
	}
	return r
})

func parseParamRules(sensitive, clickIDs string) (*paramRules, error) {
	r := &paramRules{sensitive: map[string]bool{}}
	err := eachLine(sensitive, func(n int, line string) error {
		if strings.ContainsAny(line, " \t") {
			return fmt.Errorf("sensitive_params.txt:%d: one name a line", n)
		}
		lead, trail := strings.HasPrefix(line, "*"), strings.HasSuffix(line, "*")
		name := normParam(strings.Trim(line, "*"))
		if name == "" {
			return fmt.Errorf("sensitive_params.txt:%d: empty name", n)
		}
		switch {
		case lead && trail:
			r.infixes = append(r.infixes, name)
		case lead:
			r.suffixes = append(r.suffixes, name)
		case trail:
			r.prefixes = append(r.prefixes, name)
		default:
			r.sensitive[name] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(clickIDs, func(n int, line string) error {
		if strings.ContainsAny(line, " \t*") {
			return fmt.Errorf("click_ids.txt:%d: one name a line", n)
		}
		r.clickIDs = append(r.clickIDs, strings.ToLower(line))
		return nil
	})
	return r, err
}

// eachLine calls f with every line of a data file that is not blank or a
// "#" comment, trimmed.
func eachLine(data string, f func(n int, line string) error) error {
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := f(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// normParam lower-cases a parameter name and drops "-" and "_".
func normParam(name string) string {
	return string(appendNormParam(nil, name))
}

func appendNormParam(b []byte, name string) []byte {
	for _, r := range name {
		switch {
		case r == '-' || r == '_':
		case r < utf8.RuneSelf:
			b = append(b, byte(unicode.ToLower(r)))
		default:
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	return b
}

// isSensitive reports whether a query parameter name is on the sensitive list.
func (r *paramRules) isSensitive(name string) bool {
	var buf [64]byte
	n := appendNormParam(buf[:0], name)
	if r.sensitive[string(n)] {
		return true
	}
	for _, p := range r.prefixes {
		if bytes.HasPrefix(n, []byte(p)) {
			return true
		}
	}
	for _, s := range r.suffixes {
		if bytes.HasSuffix(n, []byte(s)) {
			return true
		}
	}
	for _, s := range r.infixes {
		if bytes.Contains(n, []byte(s)) {
			return true
		}
	}
	return false
}

// IsSensitiveParam reports whether a query parameter of that name is always
// stripped from page URLs (sensitive_params.txt).
func IsSensitiveParam(name string) bool { return params().isSensitive(name) }

// CleanURL splits a page URL into what an event records:
//
//   - host: lower case, without port or trailing dot;
//   - path: percent-encoding normalised (see normPath), "/" when empty, the
//     trailing slash as sent, the fragment dropped unless rules.HashRouting
//     and it is a route ("#/…" or "#!/…", its own query dropped), capped at
//     MaxPathLen;
//   - query: only parameters named in rules.AllowedQuery, never a sensitive
//     one, sorted by name and re-encoded, capped at MaxQueryLen;
//   - utm: the utm_* parameters (names case-insensitive, first value);
//   - clickID: "name:value" of the first click-id parameter in
//     click_ids.txt order, capped at MaxClickIDLen.
//
// UTM, click-id and sensitive parameters never reach query.
func CleanURL(u *url.URL, rules SiteRules) (host, path, query string, utm UTM, clickID string) {
	if u == nil {
		return "", "", "", UTM{}, ""
	}
	host = normHost(u.Hostname())
	path = normPath(u.EscapedPath())
	if rules.HashRouting {
		if route := hashRoute(u.EscapedFragment()); route != "" {
			path += "#" + route
		}
	}
	path = capEscaped(path, MaxPathLen)
	if u.RawQuery == "" {
		return host, path, "", UTM{}, ""
	}
	pr := params()
	clickRank := len(pr.clickIDs)
	var keep []queryPair
	for rest := u.RawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue // net/url rejects ";" separators too
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || name == "" {
			continue // a malformed pair is dropped, the rest of the query kept
		}
		lname := lowerASCII(name)
		if field := utmField(&utm, lname); field != nil {
			if *field == "" {
				*field = capText(value, MaxUTMLen)
			}
			continue
		}
		if strings.HasPrefix(lname, "utm_") {
			continue // utm_id, utm_source_platform, …: campaign tagging, never kept
		}
		if i := slices.Index(pr.clickIDs, lname); i >= 0 {
			if i < clickRank {
				if v := capText(value, MaxClickIDLen-len(lname)-1); v != "" {
					clickRank, clickID = i, lname+":"+v
				}
			}
			continue
		}
		if !slices.Contains(rules.AllowedQuery, name) || pr.isSensitive(name) {
			continue
		}
		keep = append(keep, queryPair{name, value})
	}
	return host, path, encodeQuery(keep), utm, clickID
}

type queryPair struct{ name, value string }

// lowerASCII lower-cases s, allocating only when it has upper-case letters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func utmField(u *UTM, lname string) *string {
	switch lname {
	case "utm_source":
		return &u.Source
	case "utm_medium":
		return &u.Medium
	case "utm_campaign":
		return &u.Campaign
	case "utm_term":
		return &u.Term
	case "utm_content":
		return &u.Content
	}
	return nil
}

// encodeQuery encodes the kept parameters sorted by name, values in the
// order sent, leaving out any pair that would take it past MaxQueryLen.
func encodeQuery(keep []queryPair) string {
	if len(keep) == 0 {
		return ""
	}
	slices.SortStableFunc(keep, func(a, b queryPair) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	for _, p := range keep {
		pair := url.QueryEscape(p.name) + "=" + url.QueryEscape(p.value)
		n := len(pair)
		if b.Len() > 0 {
			n++
		}
		if b.Len()+n > MaxQueryLen {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
}

// hashRoute returns the route of an escaped fragment ("/a/b" of "/a/b?x=1",
// "!/a" of "!/a"), or "" when the fragment is not a route.
func hashRoute(frag string) string {
	if !strings.HasPrefix(frag, "/") && !strings.HasPrefix(frag, "!/") {
		return ""
	}
	frag, _, _ = strings.Cut(frag, "?")
	return normPath(frag)
}

func normHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// normPath normalises an escaped path so that every spelling of a page
// records the same: a percent-escape is decoded unless its character would
// change the path's structure or is unprintable ("/", "?", "#", "%",
// space, controls, bytes that are not UTF-8), and those are re-written with
// upper-case hex. "/caf%c3%a9" and "/café" both become "/café"; "/a%2fb"
// becomes "/a%2Fb". An empty path is "/".
func normPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "%") {
		return p
	}
	// Decode into bytes, remembering which came from an escape.
	raw := make([]byte, 0, len(p))
	escaped := make([]bool, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			raw = append(raw, unhex(p[i+1])<<4|unhex(p[i+2]))
			escaped = append(escaped, true)
			i += 2
			continue
		}
		raw = append(raw, p[i])
		escaped = append(escaped, p[i] == '%') // a lone "%" is written back escaped
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(raw); {
		c := raw[i]
		if !escaped[i] {
			b.WriteByte(c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			if keepEscaped(c) {
				writeEscape(&b, c)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError || !allEscaped(escaped[i:i+n]) || !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			writeEscape(&b, c)
			i++
			continue
		}
		b.Write(raw[i : i+n])
		i += n
	}
	return b.String()
}

func allEscaped(bs []bool) bool {
	for _, e := range bs {
		if !e {
			return false
		}
	}
	return true
}

func keepEscaped(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '/' || c == '?' || c == '#' || c == '%'
}

const upperHex = "0123456789ABCDEF"

func writeEscape(b *strings.Builder, c byte) {
	b.WriteByte('%')
	b.WriteByte(upperHex[c>>4])
	b.WriteByte(upperHex[c&15])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// capEscaped cuts an escaped string to at most n bytes, neither inside a
// "%XX" escape nor inside a UTF-8 character.
func capEscaped(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexByte(s[max(0, cut-2):cut], '%'); i >= 0 {
		cut = max(0, cut-2) + i
	}
	return s[:cut]
}

// capText trims a free-text value, makes it valid UTF-8 without control
// characters and cuts it to at most n bytes at a character boundary.
func capText(s string, n int) string {
	s = strings.TrimSpace(s)
	if n <= 0 {
		return ""
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f || s[i] >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if r == utf8.RuneError || unicode.IsControl(r) {
				return -1
			}
			return r
		}, strings.ToValidUTF8(s, ""))
		s = strings.TrimSpace(s)
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut])
}

// CleanTarget gives a clicked link's target the hygiene of a page URL: an
// absolute http(s) or a root-relative URL keeps its scheme and host, its
// path, and only the query parameters rules.AllowedQuery names (never a
// sensitive, utm_* or click-id one); the fragment is dropped. A link of
// another scheme (mailto:, tel:, …) keeps only its scheme: what follows is
// an address. Anything else (an element name) is kept as sent.
func CleanTarget(raw string, rules SiteRules) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i] // unparseable, but surely no query kept
		}
		return raw
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return u.Scheme + ":"
		}
	case u.Scheme != "":
		return u.Scheme + ":"
	case !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//"):
		if strings.ContainsAny(raw, "?#") {
			return u.Path
		}
		return raw
	}
	host, path, query, _, _ := CleanURL(u, SiteRules{AllowedQuery: rules.AllowedQuery})
	out := path
	if u.Host != "" {
		out = u.Scheme + "://" + host + path
		if port := u.Port(); port != "" {
			out = u.Scheme + "://" + host + ":" + port + path
		}
	}
	if query != "" {
		out += "?" + query
	}
	return out
}
