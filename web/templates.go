package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gpcm/gpcm/patient"
)

//go:embed templates
var embeddedTemplates embed.FS

// Templates is the embedded template tree, rooted at the templates
// directory: layout.tmpl, partials/*.tmpl and one views/NAME.tmpl per page.
// A development build may pass os.DirFS("web/templates") instead.
var Templates = mustSub(embeddedTemplates, "templates")

// views are the pages the server renders; each needs views/NAME.tmpl.
var views = []string{
	"login", "error", "validator", "meshadmin",
	"inbox", "document", "match", "matchconfirm", "outbox", "transmission", "send", "replace",
	"users", "user", "password",
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded; cannot fail
	}
	return sub
}

// pages holds one parsed template set per view.
type pages struct {
	sets map[string]*template.Template
}

func templateFuncs(static func(string) string) template.FuncMap {
	return template.FuncMap{
		"static": static,
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("2 Jan 2006 15:04")
		},
		"isodatetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		// shortdatetime fits a table cell: day, month and time.
		"shortdatetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("2 Jan 15:04")
		},
		// clock is the time of day, HH:MM, with the day when it is not today.
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			l := t.Local()
			if y, m, d := l.Date(); time.Now().Local().Format("20060102") != fmt.Sprintf("%04d%02d%02d", y, m, d) {
				return l.Format("15:04 on 2 Jan")
			}
			return l.Format("15:04")
		},
		// shortid is the first block of a UUID-like identifier.
		"shortid": func(id string) string {
			if i := strings.IndexByte(id, '-'); i >= 8 {
				return id[:i]
			}
			return id
		},
		"nhsnumber": patient.FormatNHSNumber,
		"lower":     strings.ToLower,
		// holdargs builds the argument of the "holdactions" partial.
		"holdargs": func(id string, csrf any) holdArgs { return holdArgs{ID: id, CSRF: csrf} },
		// errfor is a form's error message when it is about field id.
		"errfor": func(d any, id string) string {
			if f, ok := d.(interface{ fieldError(string) string }); ok {
				return f.fieldError(id)
			}
			return ""
		},
		// datefield builds the argument of the "datefield" partial.
		"datefield": newDateArgs,
		// field builds the argument of the "field" partial.
		"field": func(id, label, hint, value, errMsg, typ, class string) fieldArgs {
			return fieldArgs{ID: id, Label: label, Hint: hint, Value: value, Error: errMsg, Type: typ, Class: class}
		},
	}
}

// parsePages parses layout + partials + view for every view; a missing or
// broken template is an error naming the file.
func parsePages(tfs fs.FS, static func(string) string) (*pages, error) {
	partials, err := fs.Glob(tfs, "partials/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	p := &pages{sets: make(map[string]*template.Template)}
	for _, v := range views {
		file := "views/" + v + ".tmpl"
		if _, err := fs.Stat(tfs, file); err != nil {
			return nil, fmt.Errorf("web: template for page %q: %w", v, err)
		}
		files := append([]string{"layout.tmpl"}, partials...)
		files = append(files, file)
		t, err := template.New(v).Funcs(templateFuncs(static)).ParseFS(tfs, files...)
		if err != nil {
			return nil, fmt.Errorf("web: parsing page %q: %w", v, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: %s defines no \"content\" template", file)
		}
		p.sets[v] = t
	}
	return p, nil
}

// fieldArgs is what the "field" partial renders.
type fieldArgs struct {
	ID, Label, Hint, Value, Error, Type, Class string
}

// navItem is one link of the header navigation.
type navItem struct {
	Href, Text string
	Current    bool
}

// page is what every template receives.
type page struct {
	Service string
	Title   string
	User    *User
	CSRF    string
	Nav     []navItem
	// Events is the event stream the page subscribes to ("" for none).
	Events string
	// Accounts is set when users can change their password.
	Accounts bool
	Data     any
}

func (s *Server) newPage(r *http.Request, title string) *page {
	p := &page{Service: s.cfg.ServiceName, Title: title}
	if sess := sessionFrom(r.Context()); sess != nil {
		p.CSRF = sess.csrf
		p.User = sess.user
	}
	if p.User != nil {
		_, p.Accounts = s.cfg.Users.(UserAdmin)
		p.Nav = s.nav(p.User)
		for i := range p.Nav {
			p.Nav[i].Current = r.URL.Path == p.Nav[i].Href || strings.HasPrefix(r.URL.Path, p.Nav[i].Href+"/")
		}
	}
	return p
}

// nav lists the pages a user's role may open; the first is their home.
func (s *Server) nav(u *User) []navItem {
	var n []navItem
	switch u.Role {
	case RolePractice:
		if s.cfg.Inbox != nil {
			n = append(n, navItem{Href: "/inbox", Text: "Inbox"})
		}
	case RoleSender:
		if s.cfg.Outbox != nil {
			n = append(n, navItem{Href: "/outbox", Text: "Transmissions"})
		}
	case RoleAdmin:
		if s.cfg.Mesh != nil {
			n = append(n, navItem{Href: "/mesh", Text: "MESH admin"})
		}
		if _, ok := s.cfg.Users.(UserAdmin); ok {
			n = append(n, navItem{Href: "/users", Text: "Users"})
		}
	}
	return append(n, navItem{Href: "/validator", Text: "Validator"})
}

// render executes a page into a buffer and writes it only when complete.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, view string, p *page) error {
	t, ok := s.pages.sets[view]
	if !ok {
		return fmt.Errorf("web: no page %q", view)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: rendering %s: %w", view, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	if err != nil {
		s.log.DebugContext(r.Context(), "writing page", "err", err)
	}
	return nil
}

// holdArgs is what the "holdactions" partial needs: the transmission and
// the page's CSRF token.
type holdArgs struct {
	ID   string
	CSRF any
}
