package web_test

import (
	"testing"
	"time"

	"github.com/gpcm/gpcm/web"
	"github.com/gpcm/gpcm/web/internal/htmlcheck"
)

// TestDocumentMeshFindings: a document accepted with MESH transport
// deviations (GPCM-SD-CS-068 subject wording, GPCM-SD-CS-080 local ID)
// shows them to staff on its page; a document without any shows nothing
// (issue 17 §2).
func TestDocumentMeshFindings(t *testing.T) {
	env := MustServer(t, web.Config{})
	env.seed()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	env.inbox.add(web.Document{
		DocumentSummary: web.DocumentSummary{ID: "doc-a3", PracticeODS: "A11111", State: web.StateAwaitingFiling, Type: "Consultation report",
			ForAction: true, ReceivedAt: now, PatientName: "Carol CHARLIE", NHSNumber: "9990000042", Sender: "Demo Urgent Care (X99)"},
		MeshFindings: []web.DocumentFinding{
			{Requirement: "GPCM-SD-CS-068", Message: "the MESH subject does not follow the template for this use case"},
			{Requirement: "GPCM-SD-CS-080", Message: "the MESH local ID must be the sender's ODS code (X99)"},
		},
	})
	c := env.login("practice-a")
	_, body := c.get("/inbox/doc-a3")
	mustHTML(t, body,
		htmlcheck.In("#mesh-findings .nhsuk-warning-callout__label", htmlcheck.HasText("MESH details")),
		htmlcheck.Count(2, "#mesh-findings li"),
		htmlcheck.In("#mesh-findings", htmlcheck.HasText("GPCM-SD-CS-068"), htmlcheck.HasText("GPCM-SD-CS-080"), htmlcheck.HasText("ODS code")),
		htmlcheck.In(`form[action="/inbox/doc-a3/file"] button`, htmlcheck.HasText("File to patient record")),
		headingsInOrder,
	)
	_, body = c.get("/inbox/doc-a1")
	mustHTML(t, body, htmlcheck.Absent("#mesh-findings"))
}
