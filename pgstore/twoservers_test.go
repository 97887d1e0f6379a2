package pgstore_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/blob/s3blob"
	"github.com/gpcm/gpcm/blob/s3blob/s3blobtest"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshtest"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
)

func TestMain(m *testing.M) { os.Exit(s3blobtest.Main(m)) }

// TestTwoServersOnPostgresAndS3 is the scale-out acceptance in one test
// process: two MESH servers on two loopback ports, each with its own
// PostgreSQL pool and its own S3 client (as two processes have), on one
// schema and one bucket. See shareState for what is checked.
func TestTwoServersOnPostgresAndS3(t *testing.T) {
	schema := pgstoretest.Schema(t)
	bucket := s3blobtest.Bucket(t)
	open := func() meshtest.Options {
		blobs, err := s3blob.OpenConfig(t.Context(), bucket)
		if err != nil {
			t.Fatal(err)
		}
		return meshtest.Options{Store: pgstoretest.MustOpenSchema(t, schema).Mesh(), Blobs: blobs}
	}
	one := meshtest.NewServer(t, open())
	two := meshtest.NewServer(t, open())
	shareState(t, endpoint{one.URL, one.SharedKey, one.CA.Pool()}, endpoint{two.URL, two.SharedKey, two.CA.Pool()})
}

// endpoint is one running MESH server as a client sees it.
type endpoint struct {
	URL       string
	SharedKey string
	Roots     *x509.CertPool
}

// client trusts the server and leaves gzip bodies for mesh.Client to decode.
func (e endpoint) client() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true,
		TLSClientConfig: &tls.Config{RootCAs: e.Roots, MinVersion: tls.VersionTLS12}}}
}

// shareState checks that two servers behave as one MESH: a chunked message
// sent via one is listed, downloaded intact and acknowledged via two,
// tracking via one then shows it acknowledged, and a token used on one is
// refused (403) on two. Mailboxes X26ABC1 and X26ABC2 (password
// "password") must exist.
func shareState(t *testing.T, one, two endpoint) {
	t.Helper()
	if one.URL == two.URL {
		t.Fatalf("both servers on %s", one.URL)
	}
	ctx := t.Context()
	client := func(e endpoint, mailbox string) *mesh.Client {
		t.Helper()
		c, err := mesh.NewClient(mesh.Config{URL: e.URL, Mailbox: mailbox, Password: "password", SharedKey: e.SharedKey,
			ChunkSize: 64 << 10, HTTPClient: e.client(), TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sender1 := client(one, "X26ABC1")
	receiver2 := client(two, "X26ABC2")

	body := make([]byte, 200<<10+17) // four chunks of 64 KiB
	_, _ = rand.Read(body)
	res, err := sender1.Send(ctx, mesh.SendRequest{To: "X26ABC2", WorkflowID: "GPFED_CONSULT_REPORT", Filename: "a.dat",
		LocalID: "two-servers", Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatalf("send via server 1: %v", err)
	}
	ids, err := receiver2.Inbox(ctx, mesh.InboxOptions{})
	if err != nil || len(ids) != 1 || ids[0] != res.MessageID {
		t.Fatalf("inbox via server 2: got %v, %v; want [%s]", ids, err, res.MessageID)
	}
	d, err := receiver2.Get(ctx, res.MessageID)
	if err != nil {
		t.Fatalf("download via server 2: %v", err)
	}
	got, err := io.ReadAll(d)
	d.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("download via server 2: got %d bytes, %v; want the %d bytes sent", len(got), err, len(body))
	}
	if d.Chunks() != 4 {
		t.Fatalf("chunks: got %d, want 4", d.Chunks())
	}
	if err := receiver2.Ack(ctx, res.MessageID); err != nil {
		t.Fatalf("acknowledge via server 2: %v", err)
	}
	tr, err := sender1.Track(ctx, res.MessageID)
	if err != nil || tr.Status != mesh.StatusAcknowledged {
		t.Fatalf("tracking via server 1: got %+v, %v; want acknowledged", tr, err)
	}
	if n, err := client(one, "X26ABC2").Count(ctx); err != nil || n != 0 {
		t.Fatalf("count via server 1 after ack via server 2: got %d, %v; want 0", n, err)
	}

	// One token, first on server 1, then replayed on server 2.
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	tok := mesh.NewToken("X26ABC1", "password", one.SharedKey, fmtHex(nonce[:]), 1, time.Now()).String()
	do := func(e endpoint, method, path, tok string, hdr map[string]string, body string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, e.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", tok)
		req.Header.Set("Accept", "application/vnd.mesh.v2+json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := e.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const inbox = "/messageexchange/X26ABC1/inbox"
	if code := do(one, "GET", inbox, tok, nil, ""); code != http.StatusOK {
		t.Fatalf("token on server 1: got %d, want 200", code)
	}
	if code := do(two, "GET", inbox, tok, nil, ""); code != http.StatusForbidden {
		t.Fatalf("same token on server 2: got %d, want 403", code)
	}

	// A small send records its token with the message (Store.Send):
	// replayed on server 2, which has seen the sender, it stores nothing.
	fresh := func() string {
		_, _ = rand.Read(nonce[:])
		return mesh.NewToken("X26ABC1", "password", one.SharedKey, fmtHex(nonce[:]), 1, time.Now()).String()
	}
	if code := do(two, "GET", inbox, fresh(), nil, ""); code != http.StatusOK {
		t.Fatalf("fresh token on server 2: got %d, want 200", code)
	}
	sendTok := fresh()
	send := map[string]string{"Mex-To": "X26ABC2", "Mex-WorkflowID": "GPFED_CONSULT_REPORT", "Content-Type": "application/octet-stream"}
	if code := do(one, "POST", "/messageexchange/X26ABC1/outbox", sendTok, send, "small"); code != http.StatusAccepted {
		t.Fatalf("small send on server 1: got %d, want 202", code)
	}
	if code := do(two, "POST", "/messageexchange/X26ABC1/outbox", sendTok, send, "small"); code != http.StatusForbidden {
		t.Fatalf("same send token on server 2: got %d, want 403", code)
	}
	if n, err := receiver2.Count(ctx); err != nil || n != 1 {
		t.Fatalf("count after a replayed send: got %d, %v; want 1", n, err)
	}
}

func fmtHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
