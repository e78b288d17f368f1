package mailreport_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/footfall/footfall/aggregator/mailreport"
	"github.com/footfall/footfall/aggregator/mailreport/mailtest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailpit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestReportOverSTARTTLS sends through a server that requires STARTTLS and
// authentication; with STARTTLS required, a server that does not offer it
// gets nothing, not a plain-text message.
func TestReportOverSTARTTLS(t *testing.T) {
	ctx := context.Background()
	st, _ := seeded(t)
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	send := func(t *testing.T, smtpAddr string, reg prometheus.Registerer) error {
		host, port, _ := net.SplitHostPort(smtpAddr)
		p, _ := strconv.Atoi(port)
		s, err := mailreport.New(mailreport.Options{
			Store: st, Config: reportConfig(t, "ana@example.com"), PublicURL: "https://stats.example",
			SMTP: mailreport.SMTP{Host: host, Port: p, TLS: mailreport.TLSStartTLS, Username: "footfall", Password: "secret",
				From: "footfall@stats.example", RootCAs: pool},
			Attempts: 1, Registerer: reg, Now: func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		return s.Run(ctx)
	}

	t.Run("no STARTTLS offered", func(t *testing.T) {
		plain := mailtest.Start(t)
		reg := prometheus.NewRegistry()
		if err := send(t, plain.SMTP, reg); err == nil {
			t.Error("sent without TLS")
		}
		if got := len(plain.Messages(t)); got != 0 {
			t.Errorf("%d messages delivered in plain text", got)
		}
		if got := testutil.ToFloat64(collector(t, reg, "footfall_report_emails_failed_total")); got != 1 {
			t.Errorf("failed counter = %v, want 1", got)
		}
	})
	t.Run("STARTTLS and authentication", func(t *testing.T) {
		users := filepath.Join(t.TempDir(), "users")
		if err := os.WriteFile(users, []byte("footfall:secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		mp := mailtest.Start(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls", "--smtp-auth-file", users)
		if err := send(t, mp.SMTP, nil); err != nil {
			t.Fatalf("Run: %v", err)
		}
		msgs := mp.Messages(t)
		if len(msgs) != 1 {
			t.Fatalf("%d messages, want 1", len(msgs))
		}
		m := mp.Message(t, msgs[0].ID)
		if post := m.Headers["List-Unsubscribe-Post"]; len(post) != 1 || post[0] != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post = %q with an https public URL, want the RFC 8058 one-click value", post)
		}
	})
}
