package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gpcm/gpcm/senddoc"
)

type validatorData struct {
	Message   string
	TestNHS   bool
	FileName  string
	Error     string
	ErrorFor  string
	Validated bool
	Report    senddoc.Report
}

func (s *Server) getValidator(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, "Validate a message")
	p.Data = validatorData{TestNHS: true}
	return s.render(w, r, http.StatusOK, "validator", p)
}

// postValidator validates a pasted or uploaded message with senddoc and
// shows every finding; the message is not stored or logged.
func (s *Server) postValidator(w http.ResponseWriter, r *http.Request) error {
	d := validatorData{TestNHS: r.PostFormValue("test_nhs_numbers") != ""}
	var msg []byte
	if f, fh, err := r.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return badRequest("The uploaded file could not be read. Try again")
		}
		if len(bytes.TrimSpace(b)) > 0 {
			msg, d.FileName = b, fh.Filename
		}
	} else if !errors.Is(err, http.ErrMissingFile) && !errors.Is(err, http.ErrNotMultipart) {
		return badRequest("The uploaded file could not be read. Try again")
	}
	if msg == nil {
		d.Message = r.PostFormValue("message")
		msg = []byte(d.Message)
	}
	status := http.StatusOK
	p := s.newPage(r, "Validate a message")
	if len(bytes.TrimSpace(msg)) == 0 {
		d.Error, d.ErrorFor = "Paste a message or choose a file to upload", "message"
		status = http.StatusUnprocessableEntity
		p.Title = "Error: " + p.Title
	} else {
		rep, err := senddoc.ValidateBytes(r.Context(), msg, senddoc.Options{
			AllowTestNHSNumbers: d.TestNHS,
			MaxBytes:            s.cfg.MaxUploadBytes,
		})
		switch {
		case err != nil && r.Context().Err() != nil:
			// The request ended (the browser gave up): the decoder
			// stopped with it and nobody is waiting for an answer.
			return nil
		case errors.Is(err, senddoc.ErrUnreadable):
			// The report still lists what could not be read.
			d.Validated, d.Report = true, rep
			if len(rep.Findings) == 0 {
				d.Error, d.ErrorFor = "The message could not be read as FHIR XML or JSON", "message"
				d.Validated = false
				status = http.StatusUnprocessableEntity
			}
		case err != nil:
			return fmt.Errorf("validating: %w", err)
		default:
			d.Validated, d.Report = true, rep
		}
	}
	if d.FileName != "" {
		d.Message = ""
	} else if len(d.Message) > 2<<20 {
		d.Message = strings.ToValidUTF8(d.Message[:2<<20], "")
	}
	p.Data = d
	return s.render(w, r, status, "validator", p)
}
