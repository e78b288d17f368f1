package collector

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// policyLanguage picks the one banner language a policy answer carries
// (all of them would double its size for every visitor): the lang
// parameter (the banner shows the page's language), else the best of the
// visitor's Accept-Language, else English, else the first configured.
// Only the primary subtag counts: de-CH is de.
func policyLanguage(r *http.Request, has func(lang string) bool, langs []string) string {
	primary := func(tag string) string {
		tag, _, _ = strings.Cut(strings.TrimSpace(tag), "-")
		return strings.ToLower(tag)
	}
	if l := primary(r.URL.Query().Get("lang")); has(l) {
		return l
	}
	type choice struct {
		lang string
		q    float64
	}
	var prefs []choice
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if _, v, ok := strings.Cut(strings.ReplaceAll(params, " ", ""), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if l := primary(tag); q > 0 && has(l) {
			prefs = append(prefs, choice{l, q})
		}
	}
	slices.SortStableFunc(prefs, func(a, b choice) int { return cmp.Compare(b.q, a.q) })
	if len(prefs) > 0 {
		return prefs[0].lang
	}
	if has("en") || len(langs) == 0 {
		return "en"
	}
	return slices.Min(langs)
}
