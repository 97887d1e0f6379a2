package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/web"
)

// TestMain fails the package if, after a green run, a goroutine is still
// running code of package web (a stream or broker nobody stopped).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := webGoroutines(10 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines of package web still running after the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// webGoroutines waits up to d for goroutines running package web code to
// end, and returns the stacks of those that did not.
func webGoroutines(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "github.com/gpcm/gpcm/web.") && !strings.Contains(g, "TestMain") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Example starts the UI with one in-memory account: every page but the
// sign-in page sends an anonymous visitor to sign in.
func Example() {
	users := web.NewMemUsers()
	if err := users.Add(web.User{Username: "admin", Name: "Ada Admin", Role: web.RoleAdmin}, "a long demo password"); err != nil {
		panic(err)
	}
	srv, err := web.New(web.Config{Users: users})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		panic(err)
	}
	defer srv.Stop()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	res, err := http.Get(ts.URL + "/validator")
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Request.URL.Path, res.Request.URL.Query().Get("next"))
	// Output: 200 /login /validator
}
