package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"
)

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, Options{})
	e.addUser(t, "ana@example.test", RoleAnalyst)
	e.addUser(t, "bob@example.test", RoleAnalyst)
	try := func(email, password string) (int, string) {
		rec := e.login(t, email, password)
		return rec.Code, rec.Header().Get("Retry-After")
	}
	for i := 1; i <= 5; i++ {
		if code, _ := try("ana@example.test", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i, code)
		}
	}
	// The 6th attempt is refused even with the right password, without
	// checking it.
	code, retry := try("ana@example.test", testPassword)
	if code != http.StatusTooManyRequests || retry != "60" {
		t.Fatalf("6th attempt: %d Retry-After %q, want 429 after 60", code, retry)
	}
	// Other accounts are not locked (from the same address: 5 < 20).
	if code, _ := try("bob@example.test", testPassword); code != http.StatusOK {
		t.Errorf("another account during the lock: %d, want 200", code)
	}
	e.clock.Add(30 * time.Second)
	if code, retry := try("ana@example.test", testPassword); code != http.StatusTooManyRequests || retry != "30" {
		t.Errorf("half-way through the lock: %d Retry-After %q, want 429 after 30", code, retry)
	}
	e.clock.Add(31 * time.Second)
	// After the lock, another failure locks for twice as long.
	if code, _ := try("ana@example.test", "wrong again"); code != http.StatusUnauthorized {
		t.Fatalf("failure after the lock: %d, want 401", code)
	}
	if code, retry := try("ana@example.test", testPassword); code != http.StatusTooManyRequests || retry != "120" {
		t.Errorf("after a 6th failure: %d Retry-After %q, want 429 after 120", code, retry)
	}
	e.clock.Add(121 * time.Second)
	if code, _ := try("ana@example.test", testPassword); code != http.StatusOK {
		t.Fatalf("after the lock expired: %d, want 200", code)
	}
	// A success clears the account's count.
	for i := 1; i <= 4; i++ {
		try("ana@example.test", "wrong password")
	}
	if code, _ := try("ana@example.test", testPassword); code != http.StatusOK {
		t.Errorf("4 failures after a success: %d, want 200", code)
	}
}

func TestLoginLockoutPerAddress(t *testing.T) {
	e := newEnv(t, Options{LockAfterIP: 8})
	e.addUser(t, "ana@example.test", RoleAnalyst)
	from := func(remote, email, password string) int {
		form := url.Values{"email": {email}, "password": {password}}
		return e.do(t, request{method: http.MethodPost, path: "/login", form: form, remote: remote}).Code
	}
	// Eight different accounts guessed from one address lock the address.
	for i := range 8 {
		if code := from("198.51.100.7:1000", fmt.Sprintf("user%d@example.test", i), "guess guess guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	tests := []struct {
		name, remote string
		want         int
	}{
		{"the locked address", "198.51.100.7:2000", http.StatusTooManyRequests},
		{"another address", "198.51.100.8:1000", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := from(tt.remote, "ana@example.test", testPassword); code != tt.want {
				t.Errorf("got %d, want %d", code, tt.want)
			}
		})
	}
	// IPv6 clients are counted by /64.
	for i := range 8 {
		from(fmt.Sprintf("[2001:db8:1:2::%x]:1000", i+1), fmt.Sprintf("v6user%d@example.test", i), "guess guess guess")
	}
	if code := from("[2001:db8:1:2:ffff::1]:1000", "ana@example.test", testPassword); code != http.StatusTooManyRequests {
		t.Errorf("another address in the guessing /64: %d, want 429", code)
	}
	if code := from("[2001:db8:1:3::1]:1000", "ana@example.test", testPassword); code != http.StatusOK {
		t.Errorf("an address in another /64: %d, want 200", code)
	}
}

func TestLockoutDurations(t *testing.T) {
	l := newLockout(5, time.Minute, time.Hour, 24*time.Hour, 100)
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{5, time.Minute},
		{6, 2 * time.Minute},
		{7, 4 * time.Minute},
		{10, 32 * time.Minute},
		{11, time.Hour},
		{1000, time.Hour},
	}
	for _, tt := range tests {
		if got := l.lockFor(tt.failures); got != tt.want {
			t.Errorf("lockFor(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestLockoutForgetsAndStaysBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLockout(3, time.Minute, time.Hour, 24*time.Hour, 100)
	for range 3 {
		l.fail("ana", now)
	}
	if l.wait("ana", now) != time.Minute {
		t.Fatalf("wait after 3 failures = %v, want 1m", l.wait("ana", now))
	}
	// A day later the failures are forgotten: one more does not lock.
	later := now.Add(25 * time.Hour)
	l.fail("ana", later)
	if w := l.wait("ana", later); w != 0 {
		t.Errorf("a failure a day after the others locks for %v", w)
	}
	// A flood of keys never grows the table past its limit, and the most
	// recent lock survives it.
	for i := range 1000 {
		l.fail(fmt.Sprintf("flood-%d", i), later.Add(time.Duration(i)*time.Millisecond))
	}
	for range 3 {
		l.fail("bob", later.Add(time.Second))
	}
	if n := len(l.keys); n > 100 {
		t.Errorf("the table holds %d keys, want at most 100", n)
	}
	if w := l.wait("bob", later.Add(time.Second)); w != time.Minute {
		t.Errorf("bob's lock after the flood: %v, want 1m", w)
	}
}

// TestConcurrentLoginsCountEach sends 149 wrong passwords and the right one
// at once, through a real HTTP server, from one address: only LockAfter of
// them may be judged, however the goroutines interleave; the others are
// refused without checking the password.
func TestConcurrentLoginsCountEach(t *testing.T) {
	e := newEnv(t, Options{LockAfterIP: 1000})
	e.addUser(t, "ana@example.test", RoleAnalyst)
	srv := httptest.NewServer(e.h)
	defer srv.Close()

	const n = 150
	codes := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		password := fmt.Sprintf("wrong password %d", i)
		if i == n/2 {
			password = testPassword
		}
		wg.Go(func() {
			<-start
			form := url.Values{"email": {"ana@example.test"}, "password": {password}}
			resp, err := srv.Client().PostForm(srv.URL+"/login", form)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	t.Logf("answers: %v", count)
	if judged := count[http.StatusUnauthorized] + count[http.StatusOK]; judged > 5 {
		t.Errorf("%d of %d concurrent attempts had their password checked (%v), want at most 5", judged, n, count)
	}
	if count[http.StatusTooManyRequests] < n-5 {
		t.Errorf("%d attempts refused with 429, want at least %d (%v)", count[http.StatusTooManyRequests], n-5, count)
	}
}

// TestLockoutBehindTrustedProxy: behind a trusted proxy every request
// comes from the proxy's address, and the lockout counts the client the
// proxy names. One guesser locks out itself, not the account's owner
// elsewhere, nor the other clients of the proxy.
func TestLockoutBehindTrustedProxy(t *testing.T) {
	e := newEnv(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}})
	e.addUser(t, "ana@example.test", RoleAdmin)
	via := func(client, password string) int {
		form := url.Values{"email": {"ana@example.test"}, "password": {password}}
		return e.do(t, request{method: http.MethodPost, path: "/login", form: form, remote: "172.18.0.5:4000",
			header: map[string]string{"X-Forwarded-For": client, "X-Forwarded-Proto": "https"}}).Code
	}
	for i := range 30 {
		if code := via("203.0.113.66", "guess guess guess"); code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	tests := []struct {
		name, client string
		want         int
	}{
		{"the guesser, with the right password", "203.0.113.66", http.StatusTooManyRequests},
		{"the owner, from another address", "198.51.100.20", http.StatusOK},
		{"the owner, from another address again", "198.51.100.20", http.StatusOK},
	}
	for _, tt := range tests {
		if code := via(tt.client, testPassword); code != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, code, tt.want)
		}
	}
	// The session cookie of a login forwarded as https is Secure.
	form := url.Values{"email": {"ana@example.test"}, "password": {testPassword}}
	rec := e.do(t, request{method: http.MethodPost, path: "/login", form: form, remote: "172.18.0.5:4000",
		header: map[string]string{"X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "https"}})
	if c := sessionCookie(t, rec); !c.Secure {
		t.Errorf("cookie of a login through the trusted TLS proxy is not Secure")
	}
}

// TestResetKeepsAttemptsInFlight: a success forgets the failures before
// it, not the attempts counted in advance and still being judged, so
// wrong guesses sent beside a right one stay counted.
func TestResetKeepsAttemptsInFlight(t *testing.T) {
	l := newLockout(5, time.Minute, time.Hour, time.Hour, 100)
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for range 4 {
		l.start("ana", now) // four attempts in flight
	}
	l.reset("ana") // one of them was right
	l.done("ana")
	if n := l.keys["ana"].n; n != 3 {
		t.Fatalf("after a success beside 3 attempts in flight: %d failures, want 3", n)
	}
	for range 3 {
		l.done("ana") // the three were wrong: their failures stand
	}
	l.start("ana", now)
	l.start("ana", now)
	l.done("ana")
	l.done("ana")
	if w := l.wait("ana", now); w != time.Minute {
		t.Errorf("5 failures after the success: locked for %v, want 1m", w)
	}
	l.start("bob", now)
	l.reset("bob")
	l.done("bob")
	if _, ok := l.keys["bob"]; ok {
		t.Error("a success with nothing else in flight left bob's failures behind")
	}
}
