package meshserver_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
)

// BenchmarkSend compares one 4 KiB MESH send (auth check, nonce write,
// payload fsync, metadata commit) with a bare loopback HTTPS POST that
// discards the body: the ratio is the server's own cost.
func BenchmarkSend(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 4096)
	b.Run("baseline-https-discard", func(b *testing.B) {
		hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
		}))
		defer hs.Close()
		c := hs.Client()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			res, err := c.Post(hs.URL+"/messageexchange/X26ABC1/outbox", "application/octet-stream", bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
	b.Run("meshserver-send", func(b *testing.B) {
		srv := meshtest.NewServer(b, meshtest.Options{})
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool()}}}
		signer := mesh.NewSigner("X26ABC1", "password", srv.SharedKey)
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			req, _ := http.NewRequest("POST", srv.URL+"/messageexchange/X26ABC1/outbox", bytes.NewReader(payload))
			req.Header.Set("Authorization", signer.Token(time.Now()).String())
			req.Header.Set("Accept", v2)
			req.Header.Set("Mex-To", "X26ABC2")
			req.Header.Set("Mex-WorkflowID", "WF")
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}

// BenchmarkSendParallel is BenchmarkSend with concurrent senders (the
// load the server is built for: writes share commits).
func BenchmarkSendParallel(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 4096)
	b.Run("baseline-https-discard", func(b *testing.B) {
		hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
		}))
		defer hs.Close()
		c := hs.Client()
		b.SetBytes(int64(len(payload)))
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := c.Post(hs.URL+"/messageexchange/X26ABC1/outbox", "application/octet-stream", bytes.NewReader(payload))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	})
	b.Run("meshserver-send", func(b *testing.B) {
		srv := meshtest.NewServer(b, meshtest.Options{})
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool()}, MaxIdleConnsPerHost: 64}}
		b.SetBytes(int64(len(payload)))
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			signer := mesh.NewSigner("X26ABC1", "password", srv.SharedKey)
			for pb.Next() {
				req, _ := http.NewRequest("POST", srv.URL+"/messageexchange/X26ABC1/outbox", bytes.NewReader(payload))
				req.Header.Set("Authorization", signer.Token(time.Now()).String())
				req.Header.Set("Accept", v2)
				req.Header.Set("Mex-To", "X26ABC2")
				req.Header.Set("Mex-WorkflowID", "WF")
				res, err := c.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusAccepted {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
	})
}
