package enrich

import (
	_ "embed"
	"fmt"
	"net/url"
	"strings"
	"sync"
)

// Referrer source classes, as stored in Event.Source.
const (
	ClassSearch   = "search"
	ClassSocial   = "social"
	ClassEmail    = "email"
	ClassAI       = "ai"
	ClassInternal = "internal"
	ClassDirect   = "direct"
	ClassOther    = "other"
)

// Source is what sources.txt says about a referring host.
type Source struct {
	Class string // search, social, email, ai or other
	Name  string // display name: "Google", "Hacker News"
}

//go:embed sources.txt
var sourcesFile string

type sourceTable struct {
	suffix   map[string]Source // "facebook.com": the host and its subdomains
	wildcard map[string]Source // "google": google.com, google.co.uk, … as the whole host
	utm      map[string]Source // utm_source values that mean e-mail
}

var sources = sync.OnceValue(func() *sourceTable {
	t, err := parseSources(sourcesFile)
	if err != nil {
		panic("enrich: embedded sources.txt: " + err.Error()) // caught by the package tests
	}
	return t
})

func parseSources(data string) (*sourceTable, error) {
	t := &sourceTable{suffix: map[string]Source{}, wildcard: map[string]Source{}, utm: map[string]Source{}}
	err := eachLine(data, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) < 3 {
			return fmt.Errorf("sources.txt:%d: want pattern, class and name", n)
		}
		pattern, s := strings.ToLower(f[0]), Source{Class: f[1], Name: strings.Join(f[2:], " ")}
		switch s.Class {
		case ClassSearch, ClassSocial, ClassEmail, ClassAI, ClassOther:
		default:
			return fmt.Errorf("sources.txt:%d: unknown class %q", n, s.Class)
		}
		m, key := t.suffix, pattern
		switch {
		case strings.HasPrefix(pattern, "utm_source="):
			m, key = t.utm, strings.TrimPrefix(pattern, "utm_source=")
			if s.Class != ClassEmail {
				return fmt.Errorf("sources.txt:%d: utm_source rows are e-mail", n)
			}
		case strings.HasSuffix(pattern, ".*"):
			m, key = t.wildcard, strings.TrimSuffix(pattern, ".*")
		}
		if key == "" || strings.ContainsAny(key, "*/:") {
			return fmt.Errorf("sources.txt:%d: bad pattern %q", n, f[0])
		}
		if _, dup := m[key]; dup {
			return fmt.Errorf("sources.txt:%d: %q listed twice", n, f[0])
		}
		m[key] = s
		return nil
	})
	return t, err
}

// LookupSource returns what sources.txt says about a referring host (lower
// case; a leading "www." is ignored).
func LookupSource(host string) (Source, bool) {
	return sources().lookup(strings.TrimPrefix(host, "www."))
}

func (t *sourceTable) lookup(host string) (Source, bool) {
	if host == "" {
		return Source{}, false
	}
	// Hosts no row names exactly are classed by their first label: a
	// webmail ("mail.", "webmail.", even under a search engine's domain,
	// mail.naver.com) or a search page ("search.", "suche.", …).
	first, _, _ := strings.Cut(host, ".")
	byLabel, labelled := firstLabels[first]
	labelled = labelled && strings.Count(host, ".") >= 2
	if _, exact := t.suffix[host]; labelled && !exact && byLabel.Class == ClassEmail {
		return byLabel, true
	}
	if s, ok := t.listed(host); ok {
		return s, true
	}
	if labelled {
		return byLabel, true
	}
	return Source{}, false
}

// firstLabels classify the hosts sources.txt does not list by their first
// label.
var firstLabels = map[string]Source{
	"mail": {ClassEmail, "Webmail"}, "webmail": {ClassEmail, "Webmail"}, "email": {ClassEmail, "Webmail"},
	"mail2": {ClassEmail, "Webmail"}, "webmail2": {ClassEmail, "Webmail"}, "posteingang": {ClassEmail, "Webmail"},
	"search": {ClassSearch, "Search"}, "suche": {ClassSearch, "Search"}, "recherche": {ClassSearch, "Search"},
	"busca": {ClassSearch, "Search"}, "buscador": {ClassSearch, "Search"}, "cerca": {ClassSearch, "Search"},
	"szukaj": {ClassSearch, "Search"}, "zoeken": {ClassSearch, "Search"}, "sok": {ClassSearch, "Search"},
	"haku": {ClassSearch, "Search"}, "poisk": {ClassSearch, "Search"},
}

// listed is what sources.txt says about host: a wildcard row, a suffix
// row, or a "cc." row (any two-letter country label, "de.yahoo.com").
func (t *sourceTable) listed(host string) (Source, bool) {
	if s, ok := t.wildcardMatch(host); ok {
		return s, true
	}
	if len(host) > 3 && host[2] == '.' && isLetters(host[:2]) {
		if s, ok := t.suffix["cc"+host[2:]]; ok {
			return s, true
		}
	}
	for h := host; ; {
		if s, ok := t.suffix[h]; ok {
			return s, true
		}
		_, rest, ok := strings.Cut(h, ".")
		if !ok {
			return Source{}, false
		}
		h = rest
	}
}

// wildcardMatch tries "name.*" patterns against the whole host, with the
// last one or two labels taken as the top-level part ("com", "co.uk").
func (t *sourceTable) wildcardMatch(host string) (Source, bool) {
	for _, labels := range []int{1, 2} {
		i := len(host)
		for range labels {
			i = strings.LastIndexByte(host[:i], '.')
			if i <= 0 {
				return Source{}, false
			}
		}
		if !topLevelLike(host[i+1:]) {
			continue
		}
		if s, ok := t.wildcard[host[:i]]; ok {
			// A more specific suffix row ("mail.yahoo.com") wins over a
			// wildcard matching the same whole host.
			if exact, ok := t.suffix[host]; ok {
				return exact, true
			}
			return s, true
		}
	}
	return Source{}, false
}

// topLevelLike reports whether s looks like a top-level domain, possibly
// with a second-level registry label: "com", "de", "co.uk", "com.br".
func topLevelLike(s string) bool {
	first, last, two := strings.Cut(s, ".")
	if !two {
		last = first
	}
	// Any letters-only top-level domain: "de", "com", "cat", "info".
	if len(last) < 2 || !isLetters(last) {
		return false
	}
	if !two {
		return true
	}
	switch first {
	case "co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "gob", "gen", "nic":
		return true
	}
	return false
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// ClassifyReferrer returns the referring host (lower case, without port and
// without a leading "www.") and its source class:
//
//   - email when the page URL's utm_medium is email/e-mail/newsletter or its
//     utm_source is an e-mail source in sources.txt, whatever the referrer;
//   - direct when there is no referrer;
//   - internal when the referrer is the page's own host, or one is a
//     subdomain of the other ("www." ignored);
//   - the class sources.txt gives the host (search, social, email, ai, other);
//   - other for every host it does not list.
func ClassifyReferrer(ref *url.URL, pageHost string, utm UTM) (host, class string) {
	return classify(ref, pageHost, "", utm)
}

// classify is ClassifyReferrer that also treats the site's own domain and
// its subdomains as internal.
func classify(ref *url.URL, pageHost, siteDomain string, utm UTM) (host, class string) {
	if ref != nil {
		host = strings.TrimPrefix(normHost(ref.Hostname()), "www.")
	}
	if emailUTM(utm) {
		return host, ClassEmail
	}
	if host == "" {
		return "", ClassDirect
	}
	if sameSite(host, normHost(pageHost)) || sameSite(host, normHost(siteDomain)) {
		return host, ClassInternal
	}
	if s, ok := sources().lookup(host); ok {
		return host, s.Class
	}
	return host, ClassOther
}

func emailUTM(utm UTM) bool {
	switch strings.ToLower(utm.Medium) {
	case "email", "e-mail", "e_mail", "newsletter", "mail":
		return true
	}
	if utm.Source == "" {
		return false
	}
	src := strings.ToLower(utm.Source)
	if _, ok := sources().utm[src]; ok {
		return true
	}
	s, ok := sources().lookup(strings.TrimPrefix(src, "www."))
	return ok && s.Class == ClassEmail
}

// sameSite reports whether a and b are the same host, or one is a subdomain
// of the other, ignoring a leading "www.".
func sameSite(a, b string) bool {
	a, b = strings.TrimPrefix(a, "www."), strings.TrimPrefix(b, "www.")
	if a == "" || b == "" {
		return false
	}
	return a == b || isSubdomain(a, b) || isSubdomain(b, a)
}

func isSubdomain(sub, parent string) bool {
	return len(sub) > len(parent) && strings.HasSuffix(sub, parent) && sub[len(sub)-len(parent)-1] == '.'
}

// cleanReferrer is the referrer as Event.Referrer records it: scheme, host
// and normalised path, without user info, query or fragment (they may carry
// another site's identifiers), capped at MaxReferrerLen.
func cleanReferrer(ref *url.URL) string {
	if ref == nil {
		return ""
	}
	host := normHost(ref.Host)
	if host == "" {
		return ""
	}
	scheme := strings.ToLower(ref.Scheme)
	if scheme == "" {
		scheme = "https"
	}
	return capEscaped(scheme+"://"+host+normPath(ref.EscapedPath()), MaxReferrerLen)
}
