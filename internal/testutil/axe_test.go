package testutil_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gpcm/gpcm/internal/testutil"
)

// The accessibility check finds what it is there to find: a page with an
// unlabelled image, an unnamed button and an unlabelled input has those
// serious or critical violations, and the same page mended has none.
func TestAxeFindsViolations(t *testing.T) {
	b := testutil.MustBrowser(t, 60*time.Second)
	const bad = `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><h1>T</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button><input type="text"></main></body></html>`
	const good = `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><h1>T</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="A dot"><button>Go</button><label for="x">Name</label><input id="x" type="text"></main></body></html>`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/good" {
			w.Write([]byte(good))
			return
		}
		w.Write([]byte(bad))
	}))
	defer ts.Close()
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/bad", []string{"button-name", "image-alt", "label"}},
		{"/good", nil},
	} {
		b.Do("open "+tc.path, chromedp.Navigate(ts.URL+tc.path))
		vs, err := b.Axe()
		if errors.Is(err, testutil.ErrNoAxe) {
			testutil.Missing(t, "npm package axe-core", "set GPCM_TEST_NODE_MODULES to a node_modules installed from testdata/node")
		}
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			if v.Impact == "serious" || v.Impact == "critical" {
				got = append(got, v.ID)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: serious or critical violations %v, want %v", tc.path, got, tc.want)
		}
	}
}
