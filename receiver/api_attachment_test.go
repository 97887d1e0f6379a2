package receiver_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// Issue 23 §7: an attachment is served as application/pdf when it is one
// and as application/octet-stream otherwise, always as an attachment,
// whatever content type the sender declared (here bytes that are no PDF
// declared as one; HTML or a script so declared is refused 20004 before it
// is filed, issue 17 §3).
func TestAPIAttachmentContentType(t *testing.T) {
	e := MustEnv(t, nil)
	notPDF := []byte("GIF89a not a PDF at all")
	for _, tc := range []struct {
		nhs  string
		data []byte // declared application/pdf
	}{
		{"9434765919", senddoc.ExamplePDF()},
		{"9434765870", notPDF},
	} {
		in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
		in.Patient.NHSNumber = tc.nhs
		e.register(t, regOf(in))
		b := mustBuild(t, in)
		x := mustXML(t, b)
		pdf := []byte(base64.StdEncoding.EncodeToString(senddoc.ExamplePDF()))
		if !bytes.Contains(x, pdf) {
			t.Fatal("the built message does not carry the PDF in one base64 value")
		}
		x = bytes.ReplaceAll(x, pdf, []byte(base64.StdEncoding.EncodeToString(tc.data)))
		e.send(t, x, b.Envelope.WorkflowID, b.Envelope.Subject)
	}
	e.run(t)
	srv := apiServer(t, e)
	docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{Limit: 10})
	if err != nil || len(docs) != 2 {
		t.Fatalf("documents: %d %v, want 2", len(docs), err)
	}
	want := map[string]struct{ ctype, ext string }{
		"9434765919": {"application/pdf", ".pdf"},
		"9434765870": {"application/octet-stream", ".bin"},
	}
	for _, d := range docs {
		t.Run(d.Patient.NHSNumber, func(t *testing.T) {
			if len(d.Attachments) == 0 {
				t.Fatalf("document %d has no attachment", d.ID)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/documents/"+itoa(d.ID)+"/attachments/0", nil)
			req.Header.Set("Authorization", "Bearer s3cret")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			w := want[d.Patient.NHSNumber]
			if got := res.Header.Get("Content-Type"); got != w.ctype {
				t.Errorf("declared %s: Content-Type %q, want %q", d.Attachments[0].ContentType, got, w.ctype)
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.HasSuffix(cd, w.ext+`"`) {
				t.Errorf("Content-Disposition %q, want an attachment named *%s", cd, w.ext)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || len(body) != int(d.Attachments[0].Size) {
				t.Errorf("nosniff %q, %d bytes of %d", res.Header.Get("X-Content-Type-Options"), len(body), d.Attachments[0].Size)
			}
		})
	}
}
