package cli

import (
	"flag"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/gpcm/gpcm/httptimeout"
)

// timeoutFlags are the HTTP server limits of a service command: how long a
// request may take to arrive and to be answered beyond the time its bytes
// take at the minimum transfer rate, and how long an idle connection is
// kept (package httptimeout).
type timeoutFlags struct {
	read, write, idle time.Duration
	minRate           string
}

func (t *timeoutFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&t.read, "read-timeout", httptimeout.DefaultRead, "time a request may take to arrive, beyond its body's time at --min-transfer-rate")
	fs.DurationVar(&t.write, "write-timeout", httptimeout.DefaultWrite, "time a response may take, beyond the bodies' time at --min-transfer-rate")
	fs.DurationVar(&t.idle, "idle-timeout", httptimeout.DefaultIdle, "how long a kept-alive connection may wait for its next request")
	fs.StringVar(&t.minRate, "min-transfer-rate", "32KiB", "slowest average `rate` per second (bytes; KiB, MB…) at which a large body or response earns more time")
}

// limits checks the flags and returns the server limits.
func (t *timeoutFlags) limits(cmd, hint string) (httptimeout.Limits, error) {
	rate, err := parseSize(t.minRate)
	if err != nil || rate == 0 {
		return httptimeout.Limits{}, usagef(hint, "%s: --min-transfer-rate %q: want a positive number of bytes such as 32KiB", cmd, t.minRate)
	}
	if t.read <= 0 || t.write <= 0 || t.idle <= 0 {
		return httptimeout.Limits{}, usagef(hint, "%s: --read-timeout, --write-timeout and --idle-timeout must be positive", cmd)
	}
	return httptimeout.Limits{Read: t.read, Write: t.write, Idle: t.idle, MinRate: rate}, nil
}

// newHTTPServer returns a server for h with the limits applied (package
// httptimeout: header, read, write and idle timeouts, and deadlines that
// move with a transfer's bytes), bounded headers, and net/http's own error
// lines going to errLog.
func newHTTPServer(h http.Handler, lim httptimeout.Limits, errLog *log.Logger) *http.Server {
	hs := &http.Server{Handler: h, MaxHeaderBytes: 64 << 10, ErrorLog: errLog}
	lim.Apply(hs)
	return hs
}

// debugLog sends net/http's error lines (mostly clients that went away)
// to logger at Debug.
func debugLog(logger *slog.Logger) *log.Logger {
	return slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
}
