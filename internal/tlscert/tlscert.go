// Package tlscert loads a TLS certificate with its private key, and a pool
// of trusted CAs, from the forms deployments hand them over in: PEM files,
// PEM text inline (in a variable, or base64 of it, as container platforms
// inject secrets), or a PKCS#12 file (.p12/.pfx, as NHS issues MESH
// mailbox certificates in some onboarding routes) with its password.
package tlscert

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// Pair says where a certificate and its key come from: files, inline PEM,
// or PKCS#12. Give one form; the zero Pair means no certificate.
type Pair struct {
	// CertFile and KeyFile are PEM files. KeyFile may be empty when
	// CertFile holds the key too.
	CertFile, KeyFile string
	// CertPEM and KeyPEM are PEM text, or base64 of PEM text. KeyPEM may
	// be empty when CertPEM holds the key too.
	CertPEM, KeyPEM string
	// PKCS12File is a PKCS#12 archive holding the key, its certificate and
	// optionally the chain (sent after the certificate); PKCS12Password
	// opens it.
	PKCS12File, PKCS12Password string
}

// IsZero reports whether no form is given.
func (p Pair) IsZero() bool { return p == Pair{} }

// Load returns the certificate (with any chain) and its key.
func (p Pair) Load() (tls.Certificate, error) {
	forms := 0
	for _, given := range []bool{p.CertFile != "" || p.KeyFile != "", p.CertPEM != "" || p.KeyPEM != "", p.PKCS12File != ""} {
		if given {
			forms++
		}
	}
	switch {
	case forms == 0:
		return tls.Certificate{}, errors.New("no certificate given")
	case forms > 1:
		return tls.Certificate{}, errors.New("certificate given in more than one form (files, inline PEM, PKCS#12): give one")
	case p.PKCS12File != "":
		return loadPKCS12(p.PKCS12File, p.PKCS12Password)
	case p.PKCS12Password != "":
		return tls.Certificate{}, errors.New("a PKCS#12 password is given but no PKCS#12 file")
	case p.CertFile != "":
		return loadFiles(p.CertFile, p.KeyFile)
	case p.KeyFile != "":
		return tls.Certificate{}, fmt.Errorf("key file %s is given without its certificate", p.KeyFile)
	case p.CertPEM == "":
		return tls.Certificate{}, errors.New("inline key PEM is given without its certificate")
	}
	cert, err := inlinePEM(p.CertPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("inline certificate: %w", err)
	}
	key := cert
	if p.KeyPEM != "" {
		if key, err = inlinePEM(p.KeyPEM); err != nil {
			return tls.Certificate{}, fmt.Errorf("inline key: %w", err)
		}
	}
	c, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("inline certificate and key: %w", err)
	}
	return c, nil
}

func loadFiles(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate: %w", err)
	}
	key := cert
	if keyFile != "" {
		if key, err = os.ReadFile(keyFile); err != nil {
			return tls.Certificate{}, fmt.Errorf("key: %w", err)
		}
	}
	c, err := tls.X509KeyPair(cert, key)
	if err != nil {
		if keyFile == "" {
			return tls.Certificate{}, fmt.Errorf("certificate %s (no key file given, so it must hold the key too): %w", certFile, err)
		}
		return tls.Certificate{}, fmt.Errorf("certificate %s / key %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

func loadPKCS12(file, password string) (tls.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("PKCS#12: %w", err)
	}
	key, leaf, chain, err := pkcs12.DecodeChain(b, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return tls.Certificate{}, fmt.Errorf("PKCS#12 %s: wrong password", file)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("PKCS#12 %s: %w (export it again with a current tool, e.g. openssl pkcs12 -export)", file, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return tls.Certificate{}, fmt.Errorf("PKCS#12 %s: its private key (%T) cannot sign", file, key)
	}
	c := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: signer, Leaf: leaf}
	for _, ca := range chain {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return c, nil
}

// inlinePEM returns s as PEM bytes: PEM text as it is (with literal "\n"
// sequences, which some platforms leave in one-line variables, turned into
// line breaks), or base64 of PEM text decoded.
func inlinePEM(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "-----BEGIN") {
		if !strings.Contains(s, "\n") {
			s = strings.ReplaceAll(s, `\n`, "\n")
		}
		return []byte(s), nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil || !strings.Contains(string(b), "-----BEGIN") {
		return nil, errors.New("neither PEM text (-----BEGIN …) nor base64 of PEM text")
	}
	return b, nil
}

// CAs says where trusted CA certificates come from: a PEM file, inline PEM
// (or base64 of it), or both.
type CAs struct {
	File string
	PEM  string
}

// Pool returns a pool of the CAs given, or nil (the system's) when none is.
func (c CAs) Pool() (*x509.CertPool, error) {
	if c.File == "" && c.PEM == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if c.File != "" {
		b, err := os.ReadFile(c.File)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", c.File)
		}
	}
	if c.PEM != "" {
		b, err := inlinePEM(c.PEM)
		if err != nil {
			return nil, fmt.Errorf("inline CA bundle: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, errors.New("inline CA bundle holds no PEM certificate")
		}
	}
	return pool, nil
}
