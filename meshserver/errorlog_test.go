package meshserver_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/meshserver"
)

// recordHandler sends every record it handles to a channel.
type recordHandler struct{ ch chan slog.Record }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.ch <- r
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

func TestHTTPErrorLogLevels(t *testing.T) {
	tests := []struct {
		name string
		line string
		want slog.Level
	}{
		{"handshake reset", "http: TLS handshake error from 127.0.0.1:5000: read tcp 127.0.0.1:8700->127.0.0.1:5000: read: connection reset by peer", slog.LevelDebug},
		{"handshake EOF", "http: TLS handshake error from 127.0.0.1:5000: EOF", slog.LevelDebug},
		{"handshake timeout", "http: TLS handshake error from 127.0.0.1:5000: read tcp 127.0.0.1:8700->127.0.0.1:5000: i/o timeout", slog.LevelDebug},
		{"handshake broken pipe", "http: TLS handshake error from 127.0.0.1:5000: write tcp 127.0.0.1:8700->127.0.0.1:5000: write: broken pipe", slog.LevelDebug},
		{"http2 preface reset", "http2: server: error reading preface from client 127.0.0.1:5000: read tcp 127.0.0.1:8700->127.0.0.1:5000: read: connection reset by peer", slog.LevelDebug},
		{"handshake bad certificate", "http: TLS handshake error from 127.0.0.1:5000: tls: failed to verify certificate: x509: certificate signed by unknown authority", slog.LevelWarn},
		{"plain HTTP to HTTPS", "http: TLS handshake error from 127.0.0.1:5000: client sent an HTTP request to an HTTPS server", slog.LevelWarn},
		{"unsupported version", "http: TLS handshake error from 127.0.0.1:5000: tls: client offered only unsupported versions: [301]", slog.LevelWarn},
		{"panic mentioning EOF", "http: panic serving 127.0.0.1:5000: unexpected EOF\ngoroutine 1 [running]:", slog.LevelWarn},
		{"accept error", "http: Accept error: accept tcp 127.0.0.1:8700: accept4: too many open files; retrying in 5ms", slog.LevelWarn},
		{"superfluous WriteHeader", "http: superfluous response.WriteHeader call from x.y (z.go:1)", slog.LevelWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := recordHandler{make(chan slog.Record, 1)}
			meshserver.HTTPErrorLog(slog.New(h)).Print(tt.line)
			r := <-h.ch
			if r.Level != tt.want {
				t.Errorf("got level %v, want %v", r.Level, tt.want)
			}
			if r.Message != strings.TrimSuffix(tt.line, "\n") {
				t.Errorf("got message %q, want the line %q", r.Message, tt.line)
			}
		})
	}
}

// TestHTTPErrorLogOverTLS serves HTTPS on loopback with the error log and
// checks what net/http itself writes: a client that resets the connection
// mid-handshake is logged at Debug, a plain-HTTP client and a handler
// panic at Warn.
func TestHTTPErrorLogOverTLS(t *testing.T) {
	h := recordHandler{make(chan slog.Record, 16)}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("handler failed")
	}))
	hs.Config.ErrorLog = meshserver.HTTPErrorLog(slog.New(h))
	hs.StartTLS()
	t.Cleanup(hs.Close)
	addr := hs.Listener.Addr().String()
	next := func(t *testing.T, want string) slog.Record {
		t.Helper()
		select {
		case r := <-h.ch:
			if !strings.Contains(r.Message, want) {
				t.Fatalf("got log %q, want one containing %q", r.Message, want)
			}
			return r
		case <-t.Context().Done():
			t.Fatalf("no log containing %q", want)
		}
		return slog.Record{}
	}

	t.Run("reset mid-handshake", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// The start of a TLS record, then an abortive close (RST).
		if _, err := c.Write([]byte{0x16, 0x03, 0x01, 0x00, 0xff}); err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		if r := next(t, "TLS handshake error"); r.Level != slog.LevelDebug {
			t.Errorf("got level %v for %q, want DEBUG", r.Level, r.Message)
		}
	})
	t.Run("plain HTTP", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, c)
		if r := next(t, "client sent an HTTP request to an HTTPS server"); r.Level != slog.LevelWarn {
			t.Errorf("got level %v for %q, want WARN", r.Level, r.Message)
		}
	})
	t.Run("handler panic", func(t *testing.T) {
		resp, err := hs.Client().Get(hs.URL)
		if err == nil {
			resp.Body.Close()
		}
		if r := next(t, "http: panic serving"); r.Level != slog.LevelWarn {
			t.Errorf("got level %v for %q, want WARN", r.Level, r.Message)
		}
	})
}
