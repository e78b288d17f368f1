package reports

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/footfall/footfall/httpapi"
)

// Params lists the query parameters each route reads, by path. Handlers
// read their parameters through query, which refuses any other, so this
// table is what the routes accept; the OpenAPI test holds docs/openapi.yaml
// to it.
var Params = map[string][]string{
	"/api/v1/sites":              {},
	"/api/v1/stats/aggregate":    {"site", "period", "date", "from", "to", "metrics", "filters", "segment", "compare", "format"},
	"/api/v1/stats/timeseries":   {"site", "period", "date", "from", "to", "metrics", "filters", "segment", "interval", "format"},
	"/api/v1/stats/breakdown":    {"site", "period", "date", "from", "to", "metrics", "filters", "segment", "property", "limit", "page", "format"},
	"/api/v1/stats/funnel":       {"site", "period", "date", "from", "to", "filters", "segment", "funnel", "format"},
	"/api/v1/stats/realtime":     {"site"},
	"/api/v1/stats/consent":      {"site", "period", "date", "from", "to", "format"},
	"/api/v1/stats/dimensions":   {},
	"/api/v1/aggregator/status":  {"site"},
	"/api/partner/v1/aggregates": {"from", "to", "format"},
	"/api/v1/annotations":        {"site"},
	"/api/v1/annotations/{id}":   {"site"},
	"/api/v1/segments":           {"site"},
	"/api/v1/segments/{id}":      {"site"},
}

// query returns the request's query parameters after checking that each
// is one the route reads (400 otherwise) and given at most once.
func query(r *http.Request, path string) (map[string]string, error) {
	allowed := Params[path]
	out := map[string]string{}
	vals, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, httpapi.Errorf(http.StatusBadRequest, "malformed query string: %v", err)
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return nil, httpapi.Errorf(http.StatusBadRequest, "unknown parameter %q; this endpoint reads %s", k, strings.Join(allowed, ", "))
		}
		if len(vals[k]) > 1 {
			return nil, httpapi.Errorf(http.StatusBadRequest, "parameter %q given more than once", k)
		}
		out[k] = vals[k][0]
	}
	return out, nil
}

// parseQuery is url.ParseQuery with '&' as the only separator: a bare ';'
// belongs to the value, so filters=a==1;b==2 reads as Plausible's API
// users type it, as well as with ';' sent as %3B (url.ParseQuery refuses
// a bare ';').
func parseQuery(raw string) (url.Values, error) {
	vals := url.Values{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		vals[key] = append(vals[key], value)
	}
	return vals, nil
}
