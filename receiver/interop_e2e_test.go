package receiver_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/pgstore/pgstoretest"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// interopMessage is one spelling of a builder output of the interop corpus
// (testdata/interop/build-*, scripts/interop-corpus), with fresh UUIDs so
// that every spelling is a message of its own.
type interopMessage struct {
	name     string // e.g. build-generic/etree.xml
	body     []byte
	headerID string
	workflow string
	subject  string
	patient  receiver.Patient
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// freshUUIDs replaces every UUID in body by a new one, the same UUID by
// the same new one, leaving every byte around them as it was.
func freshUUIDs(body []byte) []byte {
	seen := map[string][]byte{}
	return uuidPattern.ReplaceAllFunc(body, func(old []byte) []byte {
		if n, ok := seen[string(old)]; ok {
			return n
		}
		var b [16]byte
		rand.Read(b[:])
		u := fmt.Appendf(nil, "%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		seen[string(old)] = u
		return u
	})
}

// interopMessages reads every spelling of every builder output in the
// corpus, its MESH values from original.ctl and its patient from
// input.json.
func interopMessages(tb testing.TB) []interopMessage {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "interop", "build-*"))
	if err != nil || len(dirs) == 0 {
		tb.Fatalf("no builder outputs in testdata/interop (run scripts/interop-corpus): %v", err)
	}
	var out []interopMessage
	for _, dir := range dirs {
		var ctl struct {
			WorkflowID string `xml:"WorkflowId"`
			Subject    string `xml:"Subject"`
		}
		raw, err := os.ReadFile(filepath.Join(dir, "original.ctl"))
		if err == nil {
			err = xml.Unmarshal(raw, &ctl)
		}
		if err != nil {
			tb.Fatal(err)
		}
		var in senddoc.Input
		raw, err = os.ReadFile(filepath.Join(dir, "input.json"))
		if err == nil {
			err = json.Unmarshal(raw, &in)
		}
		if err != nil {
			tb.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			m := interopMessage{name: filepath.Base(dir) + "/" + filepath.Base(f), body: freshUUIDs(data),
				workflow: ctl.WorkflowID, subject: ctl.Subject, patient: regOf(in)}
			res, _, err := fhir.DecodeXML(bytes.NewReader(m.body), nil)
			if err != nil {
				tb.Fatalf("%s: %v", m.name, err)
			}
			for _, e := range res.(*fhir.Bundle).Entry {
				if h, ok := e.Resource.(*fhir.MessageHeader); ok {
					m.headerID = h.ID.String()
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// TestInteropCorpusFiled sends every spelling of every builder output in
// the interop corpus (ElementTree's ns0:/html: prefixes, lxml, xmllint
// --format and --c14n, BOM + CRLF, single quotes, white space, CDATA and
// comments in the narrative) over real MESH to a receiver on SQLite and on
// PostgreSQL: each, a clean message for a registered patient, gets exactly
// one InfAck 20013 and one BusAck 30001 and is filed once (issue 17).
func TestInteropCorpusFiled(t *testing.T) {
	backends := []struct {
		name string
		// tweak points the receiver at the backend's storage and returns
		// the store to register patients in (nil: the env's SQLite).
		tweak func(t *testing.T, c *receiver.Config) receiver.Store
	}{
		{"sqlite", func(*testing.T, *receiver.Config) receiver.Store { return nil }},
		{"postgres", func(t *testing.T, c *receiver.Config) receiver.Store {
			db := pgstoretest.MustOpen(t)
			files, err := fileblob.Open(filepath.Join(t.TempDir(), "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			c.Store, c.Blobs = db.Receiver(), tier.New(db.Blobs(), files, tier.DefaultThreshold)
			return c.Store
		}},
	}
	msgs := interopMessages(t)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			var store receiver.Store
			e := MustEnv(t, func(c *receiver.Config) {
				store = be.tweak(t, c)
				c.PageSize = 50
			})
			if store == nil {
				store = e.store
			}
			seen := map[string]bool{}
			for _, m := range msgs {
				if !seen[m.patient.NHSNumber] {
					seen[m.patient.NHSNumber] = true
					if _, err := store.UpsertPatients(t.Context(), []receiver.Patient{m.patient}, e.clock.Now()); err != nil {
						t.Fatal(err)
					}
				}
				e.send(t, m.body, m.workflow, m.subject)
			}
			e.run(t)
			e.readAcks(t)
			for _, m := range msgs {
				t.Run(m.name, func(t *testing.T) {
					want := []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}
					if got := e.codes(m.headerID); !slices.Equal(got, want) {
						t.Errorf("acks for %s: got %v, want %v", m.headerID, got, want)
					}
				})
			}
			docs, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocAwaitingFiling})
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(msgs) {
				t.Fatalf("awaiting filing: got %d documents, want %d", len(docs), len(msgs))
			}
			for _, d := range docs {
				if _, err := e.rcv.FileDocumentBy(t.Context(), d.ID, "test"); err != nil {
					t.Fatal(err)
				}
			}
			filed, err := e.rcv.ListDocuments(t.Context(), receiver.ListDocumentsParams{State: receiver.DocFiled})
			if err != nil || len(filed) != len(msgs) {
				t.Errorf("filed: got %d, %v; want %d", len(filed), err, len(msgs))
			}
			// Nothing more is sent on a later round.
			e.run(t)
			e.readAcks(t)
			for _, m := range msgs {
				if n := len(e.acks[m.headerID]); n != 2 {
					t.Errorf("%s: %d acks after a second round, want 2", m.name, n)
				}
			}
		})
	}
}
