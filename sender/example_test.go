package sender_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/sqlitestore"
)

// Submitting a report stores it in the outbox once; the same report again
// returns the stored transmission. Start (with Config.Mesh) would send it.
func Example_submit() {
	dir, err := os.MkdirTemp("", "gpcm-sender-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, filepath.Join(dir, "sender.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	svc, err := sender.New(sender.Config{Store: db.Sender()})
	if err != nil {
		log.Fatal(err)
	}
	in := senddoc.Example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in.PDF = senddoc.ExamplePDF()
	for range 2 {
		t, created, err := svc.Submit(ctx, sender.Submission{Input: &in})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.State, created, t.To, t.WorkflowID)
	}
	// Output:
	// queued true GPPROVIDER_9434765919_19550109_Smith GPFED_CONSULT_REPORT
	// queued false GPPROVIDER_9434765919_19550109_Smith GPFED_CONSULT_REPORT
}
