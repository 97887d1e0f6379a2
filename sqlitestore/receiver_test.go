package sqlitestore_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/storetest"
)

func TestReceiverStoreContract(t *testing.T) {
	storetest.RunReceiver(t, func(t *testing.T) receiver.Store { return MustOpen(t).Receiver() })
}

// The document history is append-only: the database itself refuses to
// change or delete an event (issue 24 §3).
func TestDocumentHistoryIsAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gpcm.db")
	db, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// An event of a document that does not exist is never written by the
	// store; the foreign key is not enforced on this raw handle.
	if _, err := raw.ExecContext(t.Context(), `INSERT INTO receiver_document_events (document_id, at, kind) VALUES (1, 1, 'noted')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE receiver_document_events SET actor = 'someone else'`, `DELETE FROM receiver_document_events`} {
		if _, err := raw.ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want the append-only refusal", q, err)
		}
	}
}
