package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// The server's logs, at debug level and through good and bad requests, hold
// no client IP, token, consent id or raw user agent.
func TestLogsHoldNoIdentifiers(t *testing.T) {
	const clientIP = "127.0.0.77" // a loopback address of its own, so a leak is unambiguous
	const ua = "Mozilla/5.0 (PrivacyTest; rv:1.0) Gecko/20100101 Firefox/133.0 LeakMarker"
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(clientIP)}}).DialContext}}
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatal(errOut)
	}
	addr, stop := startServe(t, "-store", dsn, "-log-level", "debug")
	send := func(method, path, body string, header map[string]string) *http.Response {
		req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", ua)
		req.Header.Set("X-Forwarded-For", "198.51.100.23")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := send("POST", "/api/consent", `{"site":"example.test","categories":{"analytics":true,"marketing":true}}`, nil)
	var d struct {
		ConsentID string `json:"consent_id"`
		Token     string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, body := range []string{
		fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/a","token":%q}`, d.Token),
		fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"not a url","token":%q}`, d.Token),
		fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/b","token":%q}`, d.Token+"x"),
		`{"site":`,
	} {
		send("POST", "/api/event", body, nil).Body.Close()
	}
	send("GET", "/api/consent/"+d.ConsentID+"/data", "", map[string]string{"Authorization": "Bearer " + d.Token}).Body.Close()
	send("GET", "/api/consent/"+d.ConsentID, "", map[string]string{"Authorization": "Bearer wrong"}).Body.Close()
	send("POST", "/api/consent", fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, d.ConsentID, d.Token), nil).Body.Close()
	code, logs := stop()
	if code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs)
	}
	if !strings.Contains(logs, "level=DEBUG") {
		t.Fatalf("no debug lines were logged, the scan proves nothing:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"client IP": clientIP, "forwarded IP": "198.51.100.23", "token": d.Token, "token signature": d.Token[len(d.Token)-20:],
		"consent id": d.ConsentID, "user agent": "LeakMarker",
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold the %s:\n%s", name, logs)
		}
	}
}
