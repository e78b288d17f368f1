package enrich

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// ipForms are the spellings of an address that must not leak.
func ipForms(s string) []string {
	a := netip.MustParseAddr(s)
	forms := []string{a.String(), a.StringExpanded(), strings.ToUpper(a.StringExpanded())}
	if a.Is4() {
		m := netip.AddrFrom16(a.As16())
		forms = append(forms, m.String(), m.StringExpanded(), "::ffff:"+a.String())
		// "::ffff:cb00:7107": the mapped address in hex groups.
		b := a.As4()
		forms = append(forms, "::ffff:"+strings.TrimLeft(hex2(b[0], b[1]), "0")+":"+strings.TrimLeft(hex2(b[2], b[3]), "0"))
	} else {
		forms = append(forms, strings.ToUpper(a.String()))
	}
	return forms
}

func hex2(x, y byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[x>>4], digits[x&15], digits[y>>4], digits[y&15]})
}

// stringFields returns every string in ev but IP, by field path.
func stringFields(ev *store.Event) map[string]string {
	out := map[string]string{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			out[path] = v.String()
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if path == "" && f.Name == "IP" {
					continue // the one field allowed to hold it
				}
				walk(path+"."+f.Name, v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				out[path] = string(v.Bytes()) // a byte array as text, just in case
				return
			}
			for i := range v.Len() {
				walk(path+"[]", v.Index(i))
			}
		}
	}
	walk("", reflect.ValueOf(ev).Elem())
	return out
}

func TestNoRawIPOutsideIPField(t *testing.T) {
	const (
		v4 = "203.0.113.7"
		v6 = "2001:db8:85a3::8a2e:370:7334"
		ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 LeakCanary/1.0"
	)
	consent := uuid.MustParse("0b5d8e2a-7f11-4c6b-a0f3-9d2e6c1b4a77")
	synctest.Test(t, func(t *testing.T) {
		var logs lockedBuffer
		log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		salts := &memSalts{}
		e := newTestEnricher(t, Options{
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			BotRanges:      []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
			CityDB:         writeMMDB(t, "GeoLite2-City", testCity),
			ASNDB:          writeMMDB(t, "GeoLite2-ASN", testASN),
			ISPDB:          writeMMDB(t, "GeoIP2-ISP", testISP),
			Salts:          salts,
			Log:            log,
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait()

		header := func(kv ...string) http.Header {
			h := http.Header{}
			h.Set("User-Agent", ua)
			for i := 0; i < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			return h
		}
		requests := map[string]Request{
			"direct v4":        {Remote: v4 + ":443", Header: header()},
			"direct v6":        {Remote: "[" + v6 + "]:443", Header: header()},
			"mapped v4":        {Remote: "[::ffff:" + v4 + "]:443", Header: header()},
			"xff v4":           {Remote: "10.0.0.1:443", Header: header("X-Forwarded-For", v4)},
			"xff v6":           {Remote: "10.0.0.1:443", Header: header("X-Forwarded-For", v6+", 10.0.0.2")},
			"forwarded v6":     {Remote: "10.0.0.1:443", Header: header("Forwarded", `for="[`+v6+`]:1234"`)},
			"x-real-ip v4":     {Remote: "10.0.0.1:443", Header: header("X-Real-IP", v4)},
			"stable visitor":   {Remote: v4 + ":443", Header: header(), ConsentID: consent, StableVisitor: true},
			"with tab session": {Remote: "[" + v6 + "]:443", Header: header(), SID: "tab-1"},
		}
		for name, req := range requests {
			req.Page = mustURL(t, "https://example.com/products/1?utm_source=news&gclid=abc&q=x#/r")
			req.Referrer = mustURL(t, "https://www.google.com/search?q=x")
			req.Site = SiteRules{Domain: "example.com", HashRouting: true, AllowedQuery: []string{"q"}}
			req.SiteID = 7
			var ev store.Event
			if err := e.Enrich(ctx, req, &ev); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if ev.IP == "" || ev.Country == "" {
				t.Fatalf("%s: IP %q, country %q: the request did not exercise address and geo", name, ev.IP, ev.Country)
			}
			for path, value := range stringFields(&ev) {
				for _, ip := range append(ipForms(v4), ipForms(v6)...) {
					if strings.Contains(value, ip) {
						t.Errorf("%s: %s = %q holds the raw address %s", name, path, value, ip)
					}
				}
			}
		}

		// A store outage makes Run and Enrich log and fail: still no address.
		salts.mu.Lock()
		salts.fail = errors.New("store down")
		salts.mu.Unlock()
		synctest.Wait()
		e.salts.cur.Store(&saltSet{}) // forget the salts so Enrich needs the store
		var ev store.Event
		if err := e.Enrich(ctx, Request{Remote: v4 + ":1", Header: header(), Page: mustURL(t, "https://example.com/")}, &ev); !errors.Is(err, ErrNoSalt) {
			t.Errorf("store down: Enrich error %v, want ErrNoSalt", err)
		}
		if err := e.salts.refresh(ctx); err == nil {
			t.Error("store down: refresh returned no error")
		}
		// …and Run logs its failed refresh on the next tick.
		synctest.Wait()
		before := logs.Len()
		waitTick()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if logs.Len() == before {
			t.Error("Run logged nothing for a failed refresh")
		}

		out := logs.String()
		if !strings.Contains(out, "salt") {
			t.Fatalf("no salt messages captured; log:\n%s", out)
		}
		for _, secret := range append(append(ipForms(v4), ipForms(v6)...), ua, "LeakCanary", consent.String()) {
			if strings.Contains(out, secret) {
				t.Errorf("log output holds %q:\n%s", secret, out)
			}
		}
	})
}

// waitTick sleeps past Run's next refresh inside a synctest bubble.
func waitTick() {
	synctest.Wait()
	time.Sleep(SaltRefreshInterval)
	synctest.Wait()
}

func TestCleanTarget(t *testing.T) {
	rules := SiteRules{AllowedQuery: []string{"page"}}
	for _, tt := range []struct{ in, want string }{
		{"https://example.test/reset?token=SECRET&email=a%40b.test&gclid=G#x", "https://example.test/reset"},
		{"https://Example.TEST:8443/a?page=2&utm_source=n&password=p", "https://example.test:8443/a?page=2"},
		{"https://user:pw@example.test/", "https://example.test/"},
		{"/pricing?token=x#plans", "/pricing"},
		{"mailto:a@b.test?subject=hi", "mailto:"},
		{"tel:+41441234567", "tel:"},
		{"javascript:alert(1)", "javascript:"},
		{"signup-button", "signup-button"},
		{"next?token=x", "next"},
		{"", ""},
	} {
		if got := CleanTarget(tt.in, rules); got != tt.want {
			t.Errorf("CleanTarget(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
