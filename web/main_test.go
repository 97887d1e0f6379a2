package web_test

import (
	"context"
	"fmt"
	"github.com/gpcm/gpcm/internal/testutil"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gpcm/gpcm/web"
)

// TestMain fails the package if, after a green run, a goroutine is still
// running code of package web (a stream or broker nobody stopped).
func TestMain(m *testing.M) {
	os.Exit(testutil.RunCheckingLeaks(m, "github.com/gpcm/gpcm/web", 10*time.Second))
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
