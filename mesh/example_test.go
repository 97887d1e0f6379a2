package mesh_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/gpcm/gpcm/mesh"
)

// A sender and a receiver: send a file, then drain the inbox, storing each
// message before acknowledging it.
func Example() {
	ctx := context.Background()
	c, err := mesh.NewClient(mesh.Config{
		URL:       "https://msg.intspineservices.nhs.uk",
		Mailbox:   "X26ABC1",
		Password:  os.Getenv("MESH_PASSWORD"),
		SharedKey: os.Getenv("MESH_SHARED_KEY"),
		TLS:       mesh.TLSConfig{CertFile: "client.pem", KeyFile: "client.key", CAFile: "nhs-int-ca-bundle.pem"},
	})
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("report.xml")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	res, err := c.Send(ctx, mesh.SendRequest{To: "X26ABC2", WorkflowID: "GPCONNECT_SEND_DOCUMENT", LocalID: "ref-42", Body: f})
	var unknown *mesh.OutcomeUnknownError
	var rejected *mesh.Error
	switch {
	case errors.As(err, &unknown):
		log.Fatalf("check the outbox for %s before resending: %v", unknown.LocalID, err)
	case errors.As(err, &rejected) && rejected.Code == mesh.CodeUnregisteredRecipient:
		log.Fatalf("no such mailbox: %v", err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("sent", res.MessageID)

	ids, err := c.Inbox(ctx, mesh.InboxOptions{WorkflowFilter: "GPCONNECT_SEND_DOCUMENT*"})
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range ids {
		d, err := c.Get(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		if r, ok := d.Message.Report(); ok {
			fmt.Println("message", r.LinkedMessageID, "failed:", r.StatusCode, r.StatusDescription)
		}
		_, err = io.Copy(io.Discard, d) // store durably instead
		d.Close()
		if err != nil {
			log.Fatal(err)
		}
		if err := c.Ack(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
}
