package authtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// failures is a testing.TB that records failures instead of failing.
type failures struct {
	testing.TB
	n int
}

func (f *failures) Helper()               {}
func (f *failures) Errorf(string, ...any) { f.n++ }
func (f *failures) Fatalf(string, ...any) { f.n++ }

// The matrix must fail for every way an endpoint can leak or misjudge.
func TestCheckAnswer(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		ctype    string
		body     string
		cookie   bool
		want     int
		wantFail bool
	}{
		{"refused as expected", 401, "application/json; charset=utf-8", `{"error":"authentication required"}`, false, 401, false},
		{"let through as expected", 200, "application/json", `{"pageviews":1}`, false, 0, false},
		{"let through, then a 404", 404, "application/json", `{"error":"no such site"}`, false, 0, false},
		{"data for the unauthenticated", 200, "application/json", `{"pageviews":1}`, false, 401, true},
		{"403 where 401 is due", 403, "application/json", `{"error":"forbidden"}`, false, 401, true},
		{"refused the admitted", 403, "application/json", `{"error":"forbidden"}`, false, 0, true},
		{"a refusal with data", 403, "application/json", `{"error":"forbidden","pageviews":1}`, false, 403, true},
		{"a refusal in text", 401, "text/plain", "authentication required", false, 401, true},
		{"a refusal without a message", 401, "application/json", `{"error":""}`, false, 401, true},
		{"a refusal that sets a cookie", 401, "application/json", `{"error":"authentication required"}`, true, 401, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", tt.ctype)
			if tt.cookie {
				http.SetCookie(rec, &http.Cookie{Name: "x", Value: "y"})
			}
			rec.WriteHeader(tt.code)
			rec.WriteString(tt.body)
			f := &failures{TB: t}
			checkAnswer(f, rec, tt.want)
			if (f.n > 0) != tt.wantFail {
				t.Errorf("checkAnswer failed %d times, want failure: %v", f.n, tt.wantFail)
			}
		})
	}
}
