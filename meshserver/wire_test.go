package meshserver_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2"

	"github.com/gpcm/gpcm/internal/testutil"
)

// Responses as clients other than Go's net/http see them: every request of
// the tour (tour_test.go) over a raw HTTP/1.1 socket, over HTTP/2 with
// golang.org/x/net/http2's transport, and over HTTP/2 with curl (nghttp2).
// Each response must carry every header name once, frame its body as it
// announces, answer the status the tour names, and give an empty body no
// JSON type.

// rawResponse is a response read byte by byte off an HTTP/1.1 connection.
type rawResponse struct {
	proto  string
	status int
	names  []string // header names in wire order and spelling
	header http.Header
	body   []byte
}

// readRaw reads one HTTP/1.1 response from br for a request of method,
// checking the framing: a body is delimited by Content-Length or chunked
// encoding (never both) and nothing follows it before the server closes.
func readRaw(br *bufio.Reader, method string) (rawResponse, error) {
	var r rawResponse
	line, err := br.ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("status line: %w", err)
	}
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	code, _, _ := strings.Cut(rest, " ")
	if r.status, err = strconv.Atoi(code); err != nil || !strings.HasPrefix(proto, "HTTP/1.") {
		return r, fmt.Errorf("status line %q", line)
	}
	r.proto, r.header = proto, http.Header{}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return r, fmt.Errorf("header: %w", err)
		}
		if !strings.HasSuffix(line, "\r\n") {
			return r, fmt.Errorf("header line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return r, fmt.Errorf("header line %q", line)
		}
		r.names = append(r.names, name)
		r.header.Add(name, strings.TrimSpace(value))
	}
	cl, te := r.header.Get("Content-Length"), r.header.Get("Transfer-Encoding")
	if cl != "" && te != "" {
		return r, fmt.Errorf("both Content-Length %q and Transfer-Encoding %q", cl, te)
	}
	noBody := method == http.MethodHead || r.status == http.StatusNoContent || r.status == http.StatusNotModified || r.status < 200
	switch {
	case noBody:
	case te == "chunked":
		if r.body, err = io.ReadAll(httputil.NewChunkedReader(br)); err != nil {
			return r, fmt.Errorf("chunked body: %w", err)
		}
		if end, _ := io.ReadAll(br); string(end) != "\r\n" {
			return r, fmt.Errorf("after the last chunk: %q, want CRLF", end)
		}
	case te != "":
		return r, fmt.Errorf("transfer encoding %q", te)
	case cl != "":
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return r, fmt.Errorf("Content-Length %q", cl)
		}
		r.body = make([]byte, n)
		if _, err := io.ReadFull(br, r.body); err != nil {
			return r, fmt.Errorf("body of %d bytes: %w", n, err)
		}
	default:
		return r, fmt.Errorf("a %d response with neither Content-Length nor chunked encoding", r.status)
	}
	if extra, _ := io.ReadAll(br); len(extra) > 0 {
		return r, fmt.Errorf("%d bytes after the response: %q", len(extra), extra[:min(len(extra), 80)])
	}
	return r, nil
}

// repeated returns the header names that occur more than once, compared
// case-insensitively.
func repeated(names []string) []string {
	seen := map[string]int{}
	var out []string
	for _, n := range names {
		k := strings.ToLower(n)
		if seen[k]++; seen[k] == 2 {
			out = append(out, n)
		}
	}
	return out
}

// checkBody checks what every response must: an empty body has no JSON
// type, a JSON type has a JSON body.
func checkBody(t *testing.T, c tourCase, h http.Header, body []byte) {
	t.Helper()
	ct := h.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	switch {
	case len(body) == 0 && c.method != http.MethodHead && isJSON:
		t.Errorf("empty body with a JSON Content-Type %q", ct)
	case len(body) > 0 && isJSON && !json.Valid(body):
		t.Errorf("Content-Type %q but the body is not JSON: %q", ct, body)
	}
}

func TestWireHTTP1(t *testing.T) {
	srv := newTourServer(t)
	host := strings.TrimPrefix(srv.URL, "https://")
	for _, c := range tour(t, srv) {
		t.Run(tourName(c), func(t *testing.T) {
			conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: srv.CertPool(), NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := c.request(t, srv, srv.URL)
			req.Close = true
			if err := req.Write(conn); err != nil {
				t.Fatal(err)
			}
			r, err := readRaw(bufio.NewReader(conn), c.method)
			if err != nil {
				t.Fatalf("%s %s: %v", c.method, c.path, err)
			}
			if d := repeated(r.names); len(d) > 0 {
				t.Errorf("repeated header names %v in %v", d, r.names)
			}
			if r.status != c.want {
				t.Errorf("status %d (body %q), want %d", r.status, r.body, c.want)
			}
			checkBody(t, c, r.header, r.body)
		})
	}
}

func TestWireHTTP2(t *testing.T) {
	srv := newTourServer(t)
	hc := &http.Client{Transport: &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool()}, DisableCompression: true}}
	for _, c := range tour(t, srv) {
		t.Run(tourName(c), func(t *testing.T) {
			res, err := hc.Do(c.request(t, srv, srv.URL))
			if err != nil {
				t.Fatalf("%s %s: %v", c.method, c.path, err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("%s %s: reading the body: %v", c.method, c.path, err)
			}
			if res.ProtoMajor != 2 {
				t.Fatalf("protocol %s, want HTTP/2", res.Proto)
			}
			for k, vs := range res.Header {
				if len(vs) > 1 {
					t.Errorf("header %s sent %d times: %q", k, len(vs), vs)
				}
			}
			if res.StatusCode != c.want {
				t.Errorf("status %d (body %q), want %d", res.StatusCode, body, c.want)
			}
			if res.ContentLength >= 0 && c.method != http.MethodHead && res.ContentLength != int64(len(body)) {
				t.Errorf("content-length %d, body %d bytes", res.ContentLength, len(body))
			}
			checkBody(t, c, res.Header, body)
		})
	}
}

// TestWireCurlHTTP2 is the tour with curl, whose HTTP/2 is nghttp2: it
// refuses a response with a repeated content-length (PROTOCOL_ERROR).
func TestWireCurlHTTP2(t *testing.T) {
	curl := testutil.Tool(t, "curl", "curl")
	if out, err := exec.Command(curl, "--version").Output(); err != nil || !bytes.Contains(out, []byte("HTTP2")) {
		testutil.Missing(t, "curl with HTTP/2 (nghttp2)", "curl")
	}
	srv := newTourServer(t)
	dir := t.TempDir()
	ca := caFile(t, srv)
	for i, c := range tour(t, srv) {
		t.Run(tourName(c), func(t *testing.T) {
			req := c.request(t, srv, srv.URL)
			head, body := filepath.Join(dir, fmt.Sprint(i, ".head")), filepath.Join(dir, fmt.Sprint(i, ".body"))
			args := []string{"--silent", "--show-error", "--http2", "--cacert", ca, "--dump-header", head, "--output", body,
				"--write-out", "%{http_version} %{http_code}", "--max-time", "30"}
			if c.method == http.MethodHead {
				args = append(args, "--head")
			} else {
				args = append(args, "--request", c.method)
			}
			for k, vs := range req.Header {
				args = append(args, "--header", k+": "+vs[0])
			}
			if c.body != nil {
				in := filepath.Join(dir, fmt.Sprint(i, ".in"))
				if err := os.WriteFile(in, c.body, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--data-binary", "@"+in)
			} else if c.method == http.MethodPost || c.method == http.MethodPut {
				args = append(args, "--data-binary", "")
			}
			u, _ := url.Parse(req.URL.String())
			args = append(args, "--", u.String())
			out, err := exec.CommandContext(t.Context(), curl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("curl %s %s: %v: %s", c.method, c.path, err, out)
			}
			version, code, _ := strings.Cut(string(out), " ")
			if version != "2" {
				t.Errorf("HTTP version %q, want 2", version)
			}
			hb, err := os.ReadFile(head)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			h := http.Header{}
			for line := range strings.SplitSeq(string(hb), "\r\n") {
				if name, value, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "HTTP/") {
					names = append(names, name)
					h.Add(name, strings.TrimSpace(value))
				}
			}
			if d := repeated(names); len(d) > 0 {
				t.Errorf("repeated header names %v in %v", d, names)
			}
			var b []byte
			if c.method != http.MethodHead { // curl --head writes the head there
				b, _ = os.ReadFile(body)
			}
			if code != strconv.Itoa(c.want) {
				t.Errorf("status %s (body %q), want %d", code, b, c.want)
			}
			checkBody(t, c, h, b)
		})
	}
}
