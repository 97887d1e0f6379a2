package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed static
var embeddedStatic embed.FS

// Static is the embedded static tree (app.js, app.css and the vendored
// NHS.UK frontend under nhsuk/), rooted at the static directory.
var Static = mustSub(embeddedStatic, "static")

// staticFiles serves a static tree under /static/HASH/, where HASH digests
// every file's name and content, so any change gives new URLs and responses
// can be cached for a year.
type staticFiles struct {
	fsys   fs.FS
	prefix string // "/static/HASH/"
	server http.Handler
}

func newStaticFiles(fsys fs.FS) (*staticFiles, error) {
	h := sha256.New()
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := fsys.Open(n)
		if err != nil {
			return nil, fmt.Errorf("web: static files: %w", err)
		}
		fmt.Fprintf(h, "%s\x00", n)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("web: static file %s: %w", n, err)
		}
	}
	for _, need := range []string{"app.js", "app.css", "nhsuk/nhsuk-frontend.min.css", "nhsuk/nhsuk-frontend.min.js"} {
		if _, err := fs.Stat(fsys, need); err != nil {
			return nil, fmt.Errorf("web: static file %s is missing (run scripts/vendor-nhsuk?): %w", need, err)
		}
	}
	sf := &staticFiles{fsys: fsys, prefix: "/static/" + hex.EncodeToString(h.Sum(nil))[:16] + "/"}
	sf.server = http.StripPrefix(strings.TrimSuffix(sf.prefix, "/"), http.FileServerFS(fsys))
	return sf, nil
}

// url is the template function "static": the versioned URL of a file.
func (sf *staticFiles) url(name string) string { return sf.prefix + strings.TrimPrefix(name, "/") }

func (sf *staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	if p == "" || strings.HasSuffix(p, "/") {
		http.NotFound(w, r) // no directory listings
		return
	}
	if ct := mime.TypeByExtension(path.Ext(p)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	sf.server.ServeHTTP(w, r)
}

// serveStale answers a static URL with an old hash: the file if it still
// exists, uncached, so a page from before an upgrade still works.
func (sf *staticFiles) serveStale(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/static/")
	_, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" || strings.HasSuffix(name, "/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, sf.fsys, name)
}

func (sf *staticFiles) serveFavicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeFileFS(w, r, sf.fsys, "nhsuk/assets/images/favicon.ico")
}
