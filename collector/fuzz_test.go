package collector_test

import (
	"net/http"
	"strings"
	"testing"
)

// Whatever a client sends to the public endpoints, the answer is a 2xx or a
// 4xx with a JSON error: never a 5xx, never a panic.
func fuzzEndpoint(f *testing.F, path string, seeds []string) {
	for _, s := range seeds {
		f.Add(s)
	}
	r := newRig(f, false)
	f.Fuzz(func(t *testing.T, body string) {
		w := r.do(t, http.MethodPost, path, "text/plain", strings.ReplaceAll(body, "{{token}}", r.token(t, 7)), nil)
		if w.Code >= 500 {
			t.Fatalf("%s answered %d to %q: %s", path, w.Code, body, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `"error"`) {
			t.Fatalf("%s answered %d without a JSON error to %q", path, w.Code, body)
		}
	})
}

func FuzzEventBody(f *testing.F) {
	fuzzEndpoint(f, "/api/event", []string{
		`{"site":"example.test","type":"pageview","url":"https://example.test/a","token":"{{token}}"}`,
		`[{"site":"example.test","type":"event","name":"x","url":"https://example.test/","props":{"a":1,"b":true},"token":"{{token}}"}]`,
		`{"site":"example.test","type":"click","url":"https://example.test/?gclid=1#x","referrer":"https://t.co/","w":-1}`,
		`{"site":"EXAMPLE.test","type":"pageview","url":"https://example.test/%zz","ms":99999999999}`,
		`[]`, `null`, `{"props":[]}`, ``,
	})
}

func FuzzConsentBody(f *testing.F) {
	fuzzEndpoint(f, "/api/consent", []string{
		`{"site":"example.test","categories":{"analytics":true,"marketing":false},"language":"en"}`,
		`{"site":"example.test","action":"withdraw","consent_id":"00000000-0000-0000-0000-000000000001","token":"{{token}}"}`,
		`{"site":"example.test","action":"update","categories":{"necessary":false},"consent_id":"x","token":"v1.a.b.c"}`,
		`{"site":"example.test","categories":{},"policy_version":4294967295,"banner_hash":"ff"}`,
		`{"site":"","categories":null}`, `[1]`, `{"site":1}`,
	})
}
