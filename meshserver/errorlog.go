package meshserver

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// HTTPErrorLog returns a logger for http.Server.ErrorLog that passes each
// line net/http writes to logger: a TLS handshake (or HTTP/2 preface) that
// the client abandoned (connection reset, EOF, broken pipe, timeout) at
// Debug, since clients killed or timing out mid-handshake are routine, and
// every other line (handshake refusals, panics, accept errors) at Warn.
// The lines carry addresses and error texts, never request contents.
func HTTPErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(httpErrorWriter{logger}, "", 0)
}

type httpErrorWriter struct{ log *slog.Logger }

func (w httpErrorWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	level := slog.LevelWarn
	if clientAbandoned(line) {
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, line)
	return len(p), nil
}

// clientAbandoned reports whether line is net/http's report of a
// connection the client dropped before speaking HTTP.
func clientAbandoned(line string) bool {
	if !strings.HasPrefix(line, "http: TLS handshake error from ") &&
		!strings.HasPrefix(line, "http2: server: error reading preface from client ") {
		return false
	}
	for _, s := range []string{
		"connection reset by peer",
		"forcibly closed by the remote host",
		"broken pipe",
		"i/o timeout",
		"use of closed network connection",
	} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return strings.HasSuffix(line, ": EOF") || strings.HasSuffix(line, ": unexpected EOF")
}
