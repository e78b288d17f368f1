// Package mailtest runs a real SMTP server for tests: Mailpit, built from
// its Go module (tools/mailpit, a module of its own so that Mailpit's
// dependencies stay out of Footfall's go.mod), listening on loopback, with
// its HTTP API to read the delivered messages back.
//
// The binary is FOOTFALL_MAILPIT when set (CI builds it there), otherwise
// built once into the user's cache folder. When it can be neither found nor
// built, Start skips the test, or fails it when FOOTFALL_REQUIRE_MAILPIT=1
// (set in CI, so that a missing server cannot pass silently).
package mailtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	envBinary  = "FOOTFALL_MAILPIT"         // path of a built mailpit binary
	envRequire = "FOOTFALL_REQUIRE_MAILPIT" // "1": fail, not skip, without one
	// version is tools/mailpit's; it names the cached binary.
	version = "v1.33.1"
	// readyTimeout bounds waiting for a started server to answer.
	readyTimeout = 60 * time.Second
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary returns the mailpit binary, building it on first use.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { binary, buildErr = findOrBuild() })
	if buildErr != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("Mailpit required (%s=1) but not available: %v", envRequire, buildErr)
		}
		t.Skipf("Mailpit not available: %v", buildErr)
	}
	return binary
}

func findOrBuild() (string, error) {
	if p := os.Getenv(envBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", envBinary, err)
		}
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(cache, "footfall", "mailpit-"+version)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	dir, err := toolsDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	// Built beside its final name and renamed: packages testing at once
	// never run a half-written binary.
	tmp := fmt.Sprintf("%s.%d", out, os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, "github.com/axllent/mailpit")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build mailpit in %s: %v\n%s", dir, err, b)
	}
	return out, os.Rename(tmp, out)
}

// toolsDir finds tools/mailpit above the test's folder.
func toolsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "tools", "mailpit")
		if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no tools/mailpit above the test's folder")
		}
		dir = parent
	}
}

// FreeAddr returns a loopback host:port nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Server is a running Mailpit.
type Server struct {
	SMTP string // host:port of its SMTP listener
	API  string // base URL of its HTTP API
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

// Start starts Mailpit with its SMTP listener on a free loopback port.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	return StartOn(t, FreeAddr(t), args...)
}

// StartOn starts Mailpit with its SMTP listener on smtpAddr and any extra
// arguments (TLS, authentication); it stops when t ends.
func StartOn(t testing.TB, smtpAddr string, args ...string) *Server {
	t.Helper()
	bin := Binary(t)
	s := &Server{SMTP: smtpAddr, API: "http://" + FreeAddr(t), log: &bytes.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{
		"--smtp", smtpAddr, "--listen", s.API[len("http://"):],
		"--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns",
	}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			t.Fatalf("mailpit exited at start:\n%s", s.log)
		default:
		}
		if s.ready() {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not answer within %v:\n%s", readyTimeout, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) ready() bool {
	c, err := net.Dial("tcp", s.SMTP)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := http.Get(s.API + "/api/v1/info")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// Summary is a message as the list shows it.
type Summary struct {
	ID      string
	Subject string
	To      []Address
}

// Address is a sender or recipient.
type Address struct {
	Name    string
	Address string
}

// Message is a delivered message: its parts and headers.
type Message struct {
	ID      string
	Subject string
	To      []Address
	Text    string
	HTML    string
	Headers map[string][]string
}

// Messages lists the delivered messages, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var list struct {
		Messages []Summary `json:"messages"`
	}
	s.get(t, "/api/v1/messages?limit=1000", &list)
	return list.Messages
}

// Message reads one delivered message with its headers.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.get(t, "/api/v1/message/"+url.PathEscape(id), &m)
	s.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &m.Headers)
	m.Text = strings.ReplaceAll(m.Text, "\r\n", "\n")
	return m
}

func (s *Server) get(t testing.TB, path string, into any) {
	t.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		t.Fatalf("mailpit API: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit API GET %s: %d %s %v", path, resp.StatusCode, b, err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("mailpit API GET %s: %v", path, err)
	}
}
