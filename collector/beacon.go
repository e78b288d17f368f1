package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// Limits on what a beacon may carry. A body or field over its limit is a
// client error, never truncated silently.
const (
	MaxBodyBytes   = 16 << 10
	MaxBatch       = 10
	maxURLLen      = 2048
	maxSiteLen     = 253
	maxTokenLen    = 1024
	maxNameLen     = 128
	maxTargetLen   = 2048
	maxSIDLen      = 64
	maxUserIDLen   = 128
	maxProps       = 20
	maxPropKeyLen  = 64
	maxPropValLen  = 512
	maxEngagedMS   = 24 * 60 * 60 * 1000
	maxScreenWidth = 1<<16 - 1
	maxLangLen     = 64
	maxScroll      = 100
)

// Beacon is the event body the snippet sends. Unknown fields are ignored.
type Beacon struct {
	Site     string         `json:"site"`
	Type     string         `json:"type"`
	URL      string         `json:"url"`
	Referrer string         `json:"referrer"`
	Token    string         `json:"token"`
	Name     string         `json:"name"`
	Target   string         `json:"target"`
	Props    map[string]any `json:"props"`
	SID      string         `json:"sid"`
	UserID   string         `json:"user_id"` // a signed-in user: stored only with personalization
	W        int            `json:"w"`
	MS       int64          `json:"ms"`
	Lang     string         `json:"lang"` // navigator.language; only its primary subtag is stored
	// Scroll is an engagement's deepest scroll of its page view so far,
	// in % of the page's height (0 to 100).
	Scroll int `json:"scroll"`
	// Revenue of a custom event or click: {"amount": "19.90" (or a
	// number), "currency": "EUR"}. The snippet sends it inside props
	// (footfall('event', 'Purchase', {revenue: {…}})), which takes it out.
	Revenue map[string]any `json:"revenue"`
}

// checkContentType accepts what browsers and scripts send a beacon as:
// JSON, text/plain (sendBeacon with a string) and curl's default form type;
// the body is parsed as JSON in every case.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "application/json", "text/plain", "application/x-www-form-urlencoded":
		return nil
	}
	return httpapi.Errorf(http.StatusUnsupportedMediaType, "unsupported content type %q: send application/json or text/plain", mt)
}

// anyOrigin is the Access-Control-Allow-Origin value of the public
// endpoints, shared by every response (setCORS).
var anyOrigin = []string{"*"}

// bodies are the buffers beacon bodies are read into: io.ReadAll would
// allocate and grow a new one for every request. A buffer grows to at most
// MaxBodyBytes.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads the request body, at most MaxBodyBytes (a longer one is a
// *http.MaxBytesError), into a pooled buffer. Put it back with
// bodies.Put once nothing refers to its bytes any more.
func readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, error) {
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes)); err != nil {
		bodies.Put(buf)
		return nil, err
	}
	return buf, nil
}

// decodeBeacons reads one beacon object or an array of at most MaxBatch.
func decodeBeacons(body []byte) ([]Beacon, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, httpapi.Errorf(http.StatusBadRequest, "empty body: send a JSON event")
	}
	if batch, ok := fastBeacons(body); ok {
		if len(batch) > MaxBatch {
			return nil, httpapi.Errorf(http.StatusBadRequest, "a batch holds 1 to %d events, got %d", MaxBatch, len(batch))
		}
		return batch, nil
	}
	// Whatever the fast decoder does not take, encoding/json decides on.
	if body[0] == '[' {
		var batch []Beacon
		if err := json.Unmarshal(body, &batch); err != nil {
			return nil, malformed(err)
		}
		if len(batch) == 0 || len(batch) > MaxBatch {
			return nil, httpapi.Errorf(http.StatusBadRequest, "a batch holds 1 to %d events, got %d", MaxBatch, len(batch))
		}
		return batch, nil
	}
	var b Beacon
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, malformed(err)
	}
	return []Beacon{b}, nil
}

func malformed(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return httpapi.Errorf(http.StatusBadRequest, "field %q: want %s", te.Field, te.Type)
	}
	return &httpapi.Error{Code: http.StatusBadRequest, Msg: "malformed JSON: send one event object or an array of events", Err: err}
}

// page is a beacon's validated, parsed content, before consent and enrichment.
type page struct {
	site     string
	typ      store.EventType
	url      *url.URL
	referrer *url.URL
	props    []store.Prop
	lang     string // the primary language subtag, lower case
	amount   store.Amount
	currency string // with amount, or neither
}

// validate checks every field of b against its limit and parses the URLs.
func validate(b *Beacon) (page, error) {
	p := page{site: strings.ToLower(strings.TrimSpace(b.Site)), typ: store.EventType(b.Type)}
	switch {
	case p.site == "":
		return p, missing("site")
	case b.Type == "":
		return p, missing("type")
	case b.URL == "":
		return p, missing("url")
	}
	if len(p.site) > maxSiteLen {
		return p, tooLong("site", maxSiteLen)
	}
	switch p.typ {
	case store.Pageview, store.Click, store.Custom, store.Engagement:
	default:
		return p, httpapi.Errorf(http.StatusBadRequest, "field \"type\": want pageview, click, event or engagement")
	}
	if p.typ == store.Custom && b.Name == "" {
		return p, missing("name")
	}
	var err error
	if p.url, err = parseHTTPURL("url", b.URL); err != nil {
		return p, err
	}
	if b.Referrer != "" {
		if p.referrer, err = parseHTTPURL("referrer", b.Referrer); err != nil {
			return p, err
		}
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"token", b.Token, maxTokenLen},
		{"name", b.Name, maxNameLen},
		{"target", b.Target, maxTargetLen},
		{"sid", b.SID, maxSIDLen},
		{"user_id", b.UserID, maxUserIDLen},
	} {
		if len(f.value) > f.max {
			return p, tooLong(f.name, f.max)
		}
	}
	if b.W < 0 || b.W > maxScreenWidth {
		return p, httpapi.Errorf(http.StatusBadRequest, "field \"w\": want 0 to %d", maxScreenWidth)
	}
	// Engaged time over a day (a tab left visible) counts as a day, and a
	// viewport whose bottom passed the page's end (an elastic overscroll,
	// a page that shrank) as 100 %: the tracker leaves the caps to us.
	if b.MS < 0 {
		return p, httpapi.Errorf(http.StatusBadRequest, "field \"ms\": want 0 or more milliseconds")
	}
	b.MS = min(b.MS, maxEngagedMS)
	if b.Scroll < 0 {
		return p, httpapi.Errorf(http.StatusBadRequest, "field \"scroll\": want 0 to %d", maxScroll)
	}
	b.Scroll = min(b.Scroll, maxScroll)
	if b.Scroll != 0 && p.typ != store.Engagement {
		return p, httpapi.Errorf(http.StatusBadRequest, "field \"scroll\": only an engagement event has a scroll depth")
	}
	if p.amount, p.currency, err = revenue(b, p.typ); err != nil {
		return p, err
	}
	if p.props, err = flatProps(b.Props); err != nil {
		return p, err
	}
	if p.lang, err = primaryLanguage(b.Lang); err != nil {
		return p, err
	}
	return p, nil
}

// revenue reads the beacon's revenue, given as the field revenue or as the
// object props.revenue (what the snippet sends; taken out of b.Props): an
// amount of at most four decimals (store.ParseAmount) and an ISO 4217
// currency, on a custom event or click only.
func revenue(b *Beacon, typ store.EventType) (store.Amount, string, error) {
	rev := b.Revenue
	if m, ok := b.Props["revenue"].(map[string]any); ok {
		if rev != nil {
			return 0, "", httpapi.Errorf(http.StatusBadRequest, "field \"revenue\": give it once, not also in props")
		}
		rev = m
		delete(b.Props, "revenue")
	}
	if rev == nil {
		return 0, "", nil
	}
	if typ != store.Custom && typ != store.Click {
		return 0, "", httpapi.Errorf(http.StatusBadRequest, "field \"revenue\": only a custom event or a click has revenue")
	}
	var amount string
	switch v := rev["amount"].(type) {
	case string:
		amount = v
	case float64:
		amount = strconv.FormatFloat(v, 'f', -1, 64)
	}
	currency, _ := rev["currency"].(string)
	for k := range rev {
		if k != "amount" && k != "currency" {
			return 0, "", httpapi.Errorf(http.StatusBadRequest, "field \"revenue\": unknown field %q: want amount and currency", k)
		}
	}
	a, err := store.ParseAmount(amount)
	if err != nil {
		return 0, "", httpapi.Errorf(http.StatusBadRequest, "field \"revenue\": amount: %v", err)
	}
	if !store.ValidCurrency(currency) {
		return 0, "", httpapi.Errorf(http.StatusBadRequest, "field \"revenue\": currency: want an ISO 4217 code such as \"EUR\", got %q", currency)
	}
	return a, currency, nil
}

// primaryLanguage returns the primary subtag of a BCP 47 language tag, lower
// case ("de-AT" is "de"), or "" for none.
func primaryLanguage(tag string) (string, error) {
	if len(tag) > maxLangLen {
		return "", tooLong("lang", maxLangLen)
	}
	primary, _, _ := strings.Cut(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"), "-")
	if primary == "" {
		return "", nil
	}
	if len(primary) < 2 || len(primary) > 8 || strings.IndexFunc(primary, func(r rune) bool { return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') }) >= 0 {
		return "", httpapi.Errorf(http.StatusBadRequest, "field \"lang\": want a language tag such as \"de-AT\"")
	}
	return strings.ToLower(primary), nil
}

func parseHTTPURL(field, raw string) (*url.URL, error) {
	if len(raw) > maxURLLen {
		return nil, tooLong(field, maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, httpapi.Errorf(http.StatusBadRequest, "field %q: want an absolute http(s) URL", field)
	}
	return u, nil
}

// flatProps turns the props object into sorted key/value pairs; values must
// be strings, numbers or booleans.
func flatProps(m map[string]any) ([]store.Prop, error) {
	if len(m) > maxProps {
		return nil, httpapi.Errorf(http.StatusBadRequest, "field \"props\": at most %d entries", maxProps)
	}
	props := make([]store.Prop, 0, len(m))
	for k, v := range m {
		if k == "" || len(k) > maxPropKeyLen {
			return nil, httpapi.Errorf(http.StatusBadRequest, "field \"props\": keys are 1 to %d bytes", maxPropKeyLen)
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			s = strconv.FormatBool(v)
		default:
			return nil, httpapi.Errorf(http.StatusBadRequest, "field \"props\": %q must be a string, number or boolean", k)
		}
		if len(s) > maxPropValLen {
			return nil, httpapi.Errorf(http.StatusBadRequest, "field \"props\": values are at most %d bytes", maxPropValLen)
		}
		props = append(props, store.Prop{Key: k, Value: s})
	}
	slices.SortFunc(props, func(a, b store.Prop) int { return strings.Compare(a.Key, b.Key) })
	return props, nil
}

func missing(field string) error {
	return httpapi.Errorf(http.StatusBadRequest, "missing field %q", field)
}

func tooLong(field string, max int) error {
	return httpapi.Errorf(http.StatusBadRequest, "field %q: at most %d bytes", field, max)
}
