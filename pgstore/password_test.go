package pgstore_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/gpcm/gpcm/pgstore"
)

// TestOpenPassword checks that Options.Password is the password sent, in
// place of the URL's. The test's PostgreSQL trusts every local user, so
// the password goes to a listener that speaks the protocol's start-up and
// asks for the password in clear, records it and refuses the login.
func TestOpenPassword(t *testing.T) {
	tests := []struct {
		name, url, password, want string
	}{
		{"URL without a password", "postgres://gpcm@HOST:PORT/db?sslmode=disable", "from-option", "from-option"},
		{"option replaces the URL's", "postgres://gpcm:in-url@HOST:PORT/db?sslmode=disable", "from-option", "from-option"},
		{"keyword form", "host=HOST port=PORT user=gpcm dbname=db sslmode=disable", "from-option", "from-option"},
		{"no option keeps the URL's", "postgres://gpcm:in-url@HOST:PORT/db?sslmode=disable", "", "in-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			got := make(chan string, 1)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					got <- "accept: " + err.Error()
					return
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				be := pgproto3.NewBackend(conn, conn)
				if _, err := be.ReceiveStartupMessage(); err != nil {
					got <- "startup: " + err.Error()
					return
				}
				be.Send(&pgproto3.AuthenticationCleartextPassword{})
				if err := be.Flush(); err != nil {
					got <- "flush: " + err.Error()
					return
				}
				if err := be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
					got <- err.Error()
					return
				}
				msg, err := be.Receive()
				if err != nil {
					got <- "receive: " + err.Error()
					return
				}
				pw, _ := msg.(*pgproto3.PasswordMessage)
				if pw == nil {
					got <- "not a password message"
					return
				}
				got <- pw.Password
				be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: "password authentication failed"})
				be.Flush()
			}()
			host, port, _ := net.SplitHostPort(ln.Addr().String())
			url := strings.NewReplacer("HOST", host, "PORT", port).Replace(tt.url)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			db, err := pgstore.Open(ctx, url, pgstore.Options{Password: tt.password})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded against a server that refuses every login")
			}
			if p := <-got; p != tt.want {
				t.Errorf("password sent: got %q, want %q", p, tt.want)
			}
		})
	}
}
