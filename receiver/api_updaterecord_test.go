package receiver_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/updaterecord"
)

// TestAPIUpdateRecordContent: the JSON API gives an Update Record's
// structured content (UR-F04: for a GP system to ingest) as the view staff
// read and the document Bundle as FHIR JSON; a Send Document has none (its
// content is its attachment); filing names who filed it.
func TestAPIUpdateRecordContent(t *testing.T) {
	e := MustEnv(t, nil)
	rng := rand.New(rand.NewPCG(19, 6))
	ub := urBuild(t, e, urInput(t, e, rng, updaterecord.UseCaseContraception, true))
	urID := urSend(t, e, ub, nil)
	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	e.register(t, regOf(in))
	sdID := e.sendBuilt(t, mustBuild(t, in))
	e.run(t)
	srv := apiServer(t, e)
	do := func(method, path, body string) (*http.Response, []byte) {
		t.Helper()
		return apiRequest(t, srv, method, path, "s3cret", "", body)
	}
	ur, sd := messageDocument(t, e, urID), messageDocument(t, e, sdID)
	path := "/api/v1/documents/" + strconv.FormatInt(ur.ID, 10)

	resp, b := do("GET", path, "")
	var got struct {
		receiver.Document
		Content *struct {
			Capability string `json:"capability"`
			View       struct {
				Title    string `json:"title"`
				Sections []struct {
					Heading string `json:"heading"`
				} `json:"sections"`
			} `json:"view"`
			FHIR struct {
				ResourceType string `json:"resourceType"`
				Type         string `json:"type"`
			} `json:"fhir"`
		} `json:"content"`
	}
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	if c := got.Content; c == nil || c.Capability != "update-record" || c.FHIR.ResourceType != "Bundle" || c.FHIR.Type != "document" || len(c.View.Sections) == 0 {
		t.Fatalf("content %+v", got.Content)
	}
	if got.ID != ur.ID || got.State != receiver.DocAwaitingFiling {
		t.Errorf("document %d %s", got.ID, got.State)
	}
	resp, b = do("GET", path+"/fhir", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/fhir+json" || !strings.Contains(string(b), `"resourceType":"Bundle"`) && !strings.Contains(string(b), `"resourceType": "Bundle"`) {
		t.Errorf("GET %s/fhir: %d %s %.80s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	sdPath := "/api/v1/documents/" + strconv.FormatInt(sd.ID, 10)
	if resp, b = do("GET", sdPath, ""); resp.StatusCode != 200 || strings.Contains(string(b), `"content"`) {
		t.Errorf("GET %s: %d, content present %v", sdPath, resp.StatusCode, strings.Contains(string(b), `"content"`))
	}
	if resp, _ = do("GET", sdPath+"/fhir", ""); resp.StatusCode != 404 {
		t.Errorf("GET %s/fhir: %d, want 404", sdPath, resp.StatusCode)
	}
	resp, b = do("POST", path+"/file", `{"by": "dr.jones"}`)
	var filed receiver.Document
	if err := json.Unmarshal(b, &filed); err != nil || resp.StatusCode != 200 || filed.State != receiver.DocFiled || filed.FiledBy != "dr.jones" {
		t.Errorf("POST %s/file: %d %s by %q (%v)", path, resp.StatusCode, filed.State, filed.FiledBy, err)
	}
}

// apiServer serves the receiver's JSON API with token s3cret.
func apiServer(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	api, err := receiver.NewAPI(e.rcv, receiver.APIConfig{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

// apiRequest makes one API request (token and ctype when not empty) and
// returns the response with its body read.
func apiRequest(t *testing.T, srv *httptest.Server, method, path, token, ctype, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}
