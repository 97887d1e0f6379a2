package tlscert_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/internal/tlscert"
	"github.com/gpcm/gpcm/meshserver"
	"software.sslmate.com/src/go-pkcs12"
)

// fixture is a client certificate issued by a CA, in every form Load reads.
type fixture struct {
	ca               *meshserver.CA
	certPEM, keyPEM  []byte
	dir              string
	cert, key, combo string // PEM files
	p12Modern        string // go-pkcs12, AES and PBKDF2 (as current tools write)
	p12Legacy        string // go-pkcs12, 3DES (as older Windows exports are)
}

const p12Password = "correct horse"

func newFixture(t *testing.T) fixture {
	t.Helper()
	ca, err := meshserver.NewCA("tlscert test CA")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, tc, err := ca.Issue("X26ABC1", nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := fixture{ca: ca, certPEM: certPEM, keyPEM: keyPEM, dir: dir,
		cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem"), combo: filepath.Join(dir, "combined.pem"),
		p12Modern: filepath.Join(dir, "modern.p12"), p12Legacy: filepath.Join(dir, "legacy.pfx")}
	write(t, f.cert, certPEM)
	write(t, f.key, keyPEM)
	write(t, f.combo, append(append([]byte{}, certPEM...), keyPEM...))
	leaf, err := x509.ParseCertificate(tc.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		enc  *pkcs12.Encoder
		path string
	}{{pkcs12.Modern, f.p12Modern}, {pkcs12.LegacyDES, f.p12Legacy}} {
		b, err := e.enc.Encode(tc.PrivateKey, leaf, []*x509.Certificate{ca.Cert}, p12Password)
		if err != nil {
			t.Fatal(err)
		}
		write(t, e.path, b)
	}
	return f
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// opensslPKCS12 exports the fixture with openssl pkcs12 -export (a writer
// other than the Go library), or skips without openssl (fails under
// GPCM_TEST_STRICT=1).
func opensslPKCS12(t *testing.T, f fixture) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("GPCM_TEST_STRICT") == "1" {
			t.Fatal("openssl not found (GPCM_TEST_STRICT=1)")
		}
		t.Skip("openssl not found: the PKCS#12 written by another tool is not checked")
	}
	ca := filepath.Join(f.dir, "ca.pem")
	write(t, ca, f.ca.CertPEM)
	out := filepath.Join(f.dir, "openssl.p12")
	cmd := exec.Command(bin, "pkcs12", "-export", "-in", f.cert, "-inkey", f.key, "-certfile", ca,
		"-name", "X26ABC1", "-passout", "pass:"+p12Password, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12 -export: %v\n%s", err, b)
	}
	return out
}

// handshake proves c works as a client certificate: a TLS server that
// requires one signed by the fixture's CA accepts it.
func handshake(t *testing.T, f fixture, c tls.Certificate) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: f.ca.Pool()}
	srv.StartTLS()
	defer srv.Close()
	cl := srv.Client()
	cl.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{c}
	resp, err := cl.Get(srv.URL)
	if err != nil {
		t.Fatalf("TLS handshake with the loaded certificate: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "X26ABC1" {
		t.Fatalf("server saw CN %q (%v), want X26ABC1", b, err)
	}
}

func TestLoad(t *testing.T) {
	f := newFixture(t)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	oneLine := func(b []byte) string { return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", `\n`) }
	tests := []struct {
		name string
		pair tlscert.Pair
	}{
		{"PEM files", tlscert.Pair{CertFile: f.cert, KeyFile: f.key}},
		{"one PEM file with certificate and key", tlscert.Pair{CertFile: f.combo}},
		{"inline PEM", tlscert.Pair{CertPEM: string(f.certPEM), KeyPEM: string(f.keyPEM)}},
		{"inline PEM on one line with \\n", tlscert.Pair{CertPEM: oneLine(f.certPEM), KeyPEM: oneLine(f.keyPEM)}},
		{"inline base64 of PEM", tlscert.Pair{CertPEM: b64(f.certPEM), KeyPEM: b64(f.keyPEM)}},
		{"inline PEM with certificate and key", tlscert.Pair{CertPEM: string(f.certPEM) + string(f.keyPEM)}},
		{"PKCS#12 AES (go-pkcs12 Modern)", tlscert.Pair{PKCS12File: f.p12Modern, PKCS12Password: p12Password}},
		{"PKCS#12 3DES (go-pkcs12 LegacyDES)", tlscert.Pair{PKCS12File: f.p12Legacy, PKCS12Password: p12Password}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.pair.Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			// The fixture's PEM carries the CA after the certificate, and
			// the PKCS#12 files carry it as their chain: both are sent.
			if len(c.Certificate) != 2 {
				t.Errorf("chain: got %d certificates, want 2", len(c.Certificate))
			}
			handshake(t, f, c)
		})
	}
	t.Run("PKCS#12 written by openssl", func(t *testing.T) {
		p := opensslPKCS12(t, f)
		c, err := tlscert.Pair{PKCS12File: p, PKCS12Password: p12Password}.Load()
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		handshake(t, f, c)
	})
}

func TestLoadErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		pair tlscert.Pair
		want string
	}{
		{"nothing", tlscert.Pair{}, "no certificate given"},
		{"two forms", tlscert.Pair{CertFile: f.cert, KeyFile: f.key, PKCS12File: f.p12Modern}, "more than one form"},
		{"wrong PKCS#12 password", tlscert.Pair{PKCS12File: f.p12Modern, PKCS12Password: "wrong"}, "wrong password"},
		{"password without PKCS#12", tlscert.Pair{CertFile: f.cert, KeyFile: f.key, PKCS12Password: "x"}, "no PKCS#12 file"},
		{"key file alone", tlscert.Pair{KeyFile: f.key}, "without its certificate"},
		{"certificate file without its key", tlscert.Pair{CertFile: f.cert}, "must hold the key too"},
		{"missing file", tlscert.Pair{CertFile: filepath.Join(f.dir, "nope.pem"), KeyFile: f.key}, "no such file"},
		{"inline garbage", tlscert.Pair{CertPEM: "not a certificate", KeyPEM: string(f.keyPEM)}, "neither PEM text"},
		{"PKCS#12 that is PEM", tlscert.Pair{PKCS12File: f.cert, PKCS12Password: "x"}, "PKCS#12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.pair.Load()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: got %v, want an error containing %q", err, tt.want)
			}
			keyBody := strings.Split(string(f.keyPEM), "\n")[1]
			if strings.Contains(err.Error(), p12Password) || strings.Contains(err.Error(), keyBody) {
				t.Errorf("error shows secret material: %v", err)
			}
		})
	}
}

func TestCAs(t *testing.T) {
	f := newFixture(t)
	caFile := filepath.Join(f.dir, "ca.pem")
	write(t, caFile, f.ca.CertPEM)
	other, err := meshserver.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := pem.Decode(f.certPEM)
	cert, err := x509.ParseCertificate(leaf.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cas       tlscert.CAs
		wantPool  bool
		wantTrust bool
		wantErr   string
	}{
		{"none is the system pool", tlscert.CAs{}, false, false, ""},
		{"file", tlscert.CAs{File: caFile}, true, true, ""},
		{"inline PEM", tlscert.CAs{PEM: string(f.ca.CertPEM)}, true, true, ""},
		{"inline base64", tlscert.CAs{PEM: base64.StdEncoding.EncodeToString(f.ca.CertPEM)}, true, true, ""},
		{"file and inline", tlscert.CAs{File: caFile, PEM: string(other.CertPEM)}, true, true, ""},
		{"another CA only", tlscert.CAs{PEM: string(other.CertPEM)}, true, false, ""},
		{"file without certificates", tlscert.CAs{File: filepath.Join(f.dir, "key.pem")}, false, false, "holds no PEM certificate"},
		{"inline garbage", tlscert.CAs{PEM: "garbage"}, false, false, "neither PEM text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := tt.cas.Pool()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Pool: got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (pool != nil) != tt.wantPool {
				t.Fatalf("pool: got %v, want a pool: %v", pool, tt.wantPool)
			}
			if pool == nil {
				return
			}
			_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if (err == nil) != tt.wantTrust {
				t.Errorf("verify the fixture certificate: err %v, want trusted: %v", err, tt.wantTrust)
			}
		})
	}
}
