package receiver

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// APIConfig configures the HTTP API.
type APIConfig struct {
	// Token is the bearer token every /api/ request must carry. Required.
	Token string
	// Logger receives request errors (no patient data); default the
	// receiver's logger.
	Logger *slog.Logger
	// MaxImportBytes bounds a register import body; default 256 MiB.
	MaxImportBytes int64
}

// API serves the receiver's JSON HTTP API (see API.md).
type API struct {
	r   *Receiver
	cfg APIConfig
	log *slog.Logger
	mux *http.ServeMux
}

// NewAPI returns the API handler; it needs a token.
func NewAPI(r *Receiver, cfg APIConfig) (*API, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("receiver: API token must be set")
	}
	if cfg.Logger == nil {
		cfg.Logger = r.log
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = 256 << 20
	}
	a := &API{r: r, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /healthz", a.handle(false, a.healthz))
	a.mux.HandleFunc("GET /metrics", a.handle(false, a.metrics))
	a.mux.HandleFunc("GET /api/v1/documents", a.handle(true, a.listDocuments))
	a.mux.HandleFunc("GET /api/v1/documents/{id}", a.handle(true, a.getDocument))
	a.mux.HandleFunc("GET /api/v1/documents/{id}/attachments/{n}", a.handle(true, a.attachment))
	a.mux.HandleFunc("GET /api/v1/documents/{id}/fhir", a.handle(true, a.documentFHIR))
	a.mux.HandleFunc("POST /api/v1/documents/{id}/file", a.handle(true, a.fileDocument))
	a.mux.HandleFunc("POST /api/v1/documents/{id}/reject", a.handle(true, a.rejectDocument))
	a.mux.HandleFunc("POST /api/v1/documents/{id}/match", a.handle(true, a.matchDocument))
	a.mux.HandleFunc("POST /api/v1/register", a.handle(true, a.importRegister))
	a.mux.HandleFunc("POST /api/v1/register/search", a.handle(true, a.searchRegister))
	a.mux.HandleFunc("GET /api/v1/register", a.handle(true, a.findPatientsDeprecated))
	a.mux.HandleFunc("/api/", a.handle(true, func(http.ResponseWriter, *http.Request) error {
		return fmt.Errorf("%w: no such endpoint or method", errNoRoute)
	}))
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

var (
	errUnauthorized = errors.New("missing or wrong bearer token")
	errNoRoute      = errors.New("not found")
)

// handle adapts a handler that returns an error; errors become JSON here
// and only here.
func (a *API) handle(auth bool, h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var err error
		if auth && !a.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gpcm-receiver"`)
			err = errUnauthorized
		} else {
			err = h(w, r)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	}
}

func (a *API) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(a.cfg.Token)) == 1
}

type apiError struct {
	Error    string       `json:"error"`
	Problems []RowProblem `json:"problems,omitempty"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := http.StatusInternalServerError, apiError{Error: "internal error"}
	var re *RegisterError
	switch {
	case errors.Is(err, errUnauthorized):
		status, body.Error = http.StatusUnauthorized, err.Error()
	case errors.As(err, &re):
		status, body.Error, body.Problems = http.StatusUnprocessableEntity, "the register file has problems; nothing was imported", re.Problems
	case errors.Is(err, ErrInvalid):
		status, body.Error = http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrNotMatchable):
		status, body.Error = http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, ErrNotFound), errors.Is(err, errNoRoute):
		status, body.Error = http.StatusNotFound, err.Error()
	case errors.Is(err, ErrConflict):
		status, body.Error = http.StatusConflict, err.Error()
	}
	if status >= 500 {
		a.log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		a.log.Info("API request refused", "method", r.Method, "path", r.URL.Path, "status", status)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.r.cfg.Store.CountMessages(r.Context()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := io.WriteString(w, "ok\n")
	return err
}

func (a *API) metrics(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	return a.r.WriteMetrics(r.Context(), w)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: document id must be a positive integer", ErrInvalid)
	}
	return id, nil
}

func (a *API) listDocuments(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := ListDocumentsParams{State: DocumentState(q.Get("state")), NHSNumber: q.Get("nhs_number")}
	if p.State != "" && !p.State.Valid() {
		return fmt.Errorf("%w: state must be one of awaiting_filing, filed, held_for_review, not_filed, rejected, replaced", ErrInvalid)
	}
	if v := q.Get("for_action"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%w: for_action must be true or false", ErrInvalid)
		}
		p.ForAction = &b
	}
	for name, dst := range map[string]*int64{"after": &p.AfterID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: %s must be a non-negative integer", ErrInvalid, name)
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("%w: limit must be between 1 and 1000", ErrInvalid)
		}
		p.Limit = n
	}
	docs, err := a.r.ListDocuments(r.Context(), p)
	if err != nil {
		return err
	}
	out := struct {
		Documents []Document `json:"documents"`
		Next      string     `json:"next,omitempty"`
	}{Documents: docs}
	limit := p.Limit
	if limit == 0 {
		limit = 100
	}
	if len(docs) == limit {
		nq := r.URL.Query()
		nq.Set("after", strconv.FormatInt(docs[len(docs)-1].ID, 10))
		out.Next = r.URL.Path + "?" + nq.Encode()
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := a.r.GetDocument(r.Context(), id)
	if err != nil {
		return err
	}
	// The structured content (an Update Record's), for a GP system to
	// ingest: the document Bundle as FHIR JSON beside the view staff read.
	h, err := a.r.History(r.Context(), id)
	if err != nil {
		return err
	}
	out := struct {
		Document
		Content *Content        `json:"content,omitempty"`
		History []DocumentEvent `json:"history"`
	}{Document: d, History: h}
	c, err := a.r.DocumentContent(r.Context(), id)
	switch {
	case err == nil:
		out.Content = &c
	case !errors.Is(err, ErrNotFound):
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// documentFHIR serves a document's structured content as FHIR STU3 JSON
// (404 for a document without any, such as a Send Document).
func (a *API) documentFHIR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := a.r.DocumentContent(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(c.FHIR)
	return err
}

// pdfMagic starts every PDF file.
const pdfMagic = "%PDF-"

func (a *API) attachment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		return fmt.Errorf("%w: attachment index must be a non-negative integer", ErrInvalid)
	}
	att, rc, err := a.r.OpenAttachment(r.Context(), id, n)
	if err != nil {
		return err
	}
	defer rc.Close()
	// The type is ours, not the one the sender declared: application/pdf
	// for bytes that start as a PDF does, else application/octet-stream,
	// always as an attachment.
	head := make([]byte, len(pdfMagic))
	k, _ := io.ReadFull(rc, head)
	head = head[:k]
	ct, ext := "application/octet-stream", "bin"
	if string(head) == pdfMagic {
		ct, ext = "application/pdf", "pdf"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(att.Size, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="document-%d-%d.%s"`, id, n, ext))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.Copy(w, io.MultiReader(bytes.NewReader(head), rc))
	if err != nil {
		a.log.Warn("attachment download interrupted", "document", id, "attachment", n, "err", err)
	}
	return nil
}

func (a *API) fileDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		By string `json:"by"`
	}
	if err := decodeOptional(r, &body); err != nil {
		return fmt.Errorf("%w: want no body or a JSON body {\"by\": \"…\"}", ErrInvalid)
	}
	by, err := actor(body.By)
	if err != nil {
		return err
	}
	d, err := a.r.FileDocumentBy(r.Context(), id, by)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// actor is the person an API call names ("API" when none), at most 200
// characters.
func actor(by string) (string, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		by = "API"
	}
	if len(by) > 200 {
		return "", fmt.Errorf("%w: by must be at most 200 characters", ErrInvalid)
	}
	return by, nil
}

func (a *API) matchDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		NHSNumber string `json:"nhsNumber"`
		By        string `json:"by"`
		Reason    string `json:"reason"`
	}
	if err := decodeOptional(r, &body); err != nil {
		return fmt.Errorf("%w: want no body or a JSON body {\"nhsNumber\": \"…\", \"by\": \"…\", \"reason\": \"…\"}", ErrInvalid)
	}
	by, err := actor(body.By)
	if err != nil {
		return err
	}
	d, err := a.r.MatchDocumentTo(r.Context(), id, MatchParams{NHSNumber: strings.TrimSpace(body.NHSNumber), By: by, Reason: body.Reason})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// decodeOptional decodes a small JSON body into v; an empty body leaves v
// as it is.
func decodeOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil || len(b) > 64<<10 {
		return errors.New("body unreadable or too large")
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON body")
	}
	return nil
}

// searchRegister searches the register with the terms in a JSON body, so
// that no NHS number, name or date of birth goes in a URL (where proxy and
// access logs keep it).
func (a *API) searchRegister(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NHSNumber string `json:"nhsNumber"`
		Family    string `json:"family"`
		BirthDate string `json:"birthDate"`
	}
	if err := decodeOptional(r, &body); err != nil {
		return fmt.Errorf("%w: want a JSON body {\"nhsNumber\": \"…\"} or {\"family\": \"…\", \"birthDate\": \"YYYY-MM-DD\"}", ErrInvalid)
	}
	return a.findPatients(w, r, FindPatientsParams{NHSNumber: body.NHSNumber, Family: body.Family, BirthDate: body.BirthDate})
}

// registerSearchDeprecated is the day GET /api/v1/register was deprecated
// (RFC 9745 Deprecation header).
const registerSearchDeprecated = "@1796083200" // 2026-12-01

// findPatientsDeprecated is the register search with its terms in the
// query string, kept for existing clients; use POST /api/v1/register/search.
func (a *API) findPatientsDeprecated(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Deprecation", registerSearchDeprecated)
	w.Header().Set("Link", `</api/v1/register/search>; rel="successor-version"`)
	q := r.URL.Query()
	return a.findPatients(w, r, FindPatientsParams{NHSNumber: q.Get("nhs_number"), Family: q.Get("family"), BirthDate: q.Get("birth_date")})
}

func (a *API) findPatients(w http.ResponseWriter, r *http.Request, p FindPatientsParams) error {
	ps, err := a.r.FindPatients(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Patients []Patient `json:"patients"`
	}{ps})
}

func (a *API) rejectDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
		By     string `json:"by"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return fmt.Errorf("%w: want a JSON body {\"reason\": \"…\", \"by\": \"…\"}", ErrInvalid)
	}
	by, err := actor(body.By)
	if err != nil {
		return err
	}
	d, err := a.r.RejectDocument(r.Context(), id, RejectParams{Reason: body.Reason, By: by})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (a *API) importRegister(w http.ResponseWriter, r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	format := ""
	switch mt {
	case "text/csv":
		format = "csv"
	case "application/fhir+json", "application/fhir+xml", "application/json", "application/xml", "text/xml":
		format = "fhir"
	default:
		return fmt.Errorf("%w: Content-Type must be text/csv (header %s) or a FHIR Patient bundle (application/fhir+json, application/fhir+xml)", ErrInvalid, RegisterHeader)
	}
	body := http.MaxBytesReader(w, r.Body, a.cfg.MaxImportBytes)
	res, err := a.r.ImportRegister(r.Context(), body, format)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: the register file is larger than %d bytes", ErrInvalid, a.cfg.MaxImportBytes)
	}
	if err != nil {
		return err
	}
	a.log.Info("register imported", "inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged)
	return writeJSON(w, http.StatusOK, res)
}
