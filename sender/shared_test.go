package sender_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

// requests counts the MESH requests of the sender's mailbox at the server:
// inbox listings, and requests about one message (HEAD, GET, PUT …/status)
// by message ID.
type requests struct {
	mu       sync.Mutex
	listings int
	message  map[string]int
}

func (c *requests) hook(mailbox string) hookFunc {
	prefix := "/messageexchange/" + mailbox + "/inbox"
	return func(w http.ResponseWriter, r *http.Request) bool {
		if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok {
			c.mu.Lock()
			if rest == "" {
				c.listings++
			} else if id, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/"); id != "" {
				c.message[id]++
			}
			c.mu.Unlock()
		}
		return false
	}
}

func (c *requests) take() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, m := c.listings, c.message
	c.listings, c.message = 0, map[string]int{}
	return l, m
}

// TestSharedMailboxForeignWorkflows (mesh-api.md §9 workflow_filter): the
// sender's mailbox also holds 600 messages of other products' workflows
// (their acknowledgements among them) and the DATA a receiver sharing the
// mailbox collects. A poll lists the inbox per acknowledgement workflow
// family and costs no request for any foreign message; the sender takes
// only its own responses and never acknowledges the rest.
func TestSharedMailboxForeignWorkflows(t *testing.T) {
	e := mustEnv(t, envOptions{})
	ctx := t.Context()
	other := []string{"TOC_FHIR_EC_DISCH", "TOC_FHIR_EC_DISCH_ACK", "PATH_RESULT_ACK", "GPCONNECT_PATIENT_REGISTRATION_ACK", "DTS_ANY"}
	const foreignN = 600
	var wg sync.WaitGroup
	errs := make(chan error, foreignN)
	sem := make(chan struct{}, 8)
	for i := range foreignN {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := e.practice.Send(ctx, mesh.SendRequest{To: senderMailbox, WorkflowID: other[i%len(other)],
				LocalID: fmt.Sprint("foreign-", i), Body: strings.NewReader("not the sender's")})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A receiver sharing the mailbox gets reports (the sent workflow, DATA)
	// and a REPORT about an acknowledgement it sent.
	var shared []string
	for i := range 5 {
		res, err := e.practice.Send(ctx, mesh.SendRequest{To: senderMailbox, WorkflowID: senddoc.WorkflowV1,
			LocalID: fmt.Sprint("for-the-receiver-", i), Body: strings.NewReader("<Bundle/>")})
		if err != nil {
			t.Fatal(err)
		}
		shared = append(shared, res.MessageID)
	}
	rep, err := e.mesh.Admin.InjectReport(ctx, meshserver.ReportParams{MailboxID: senderMailbox, Code: "14",
		Description: "Message not collected by recipient after 5 days", WorkflowID: senddoc.WorkflowV1Ack, LinkedMessageID: "20200101000000000000_ABCDEF"})
	if err != nil {
		t.Fatal(err)
	}
	shared = append(shared, rep.ID)

	// The sender's own report, answered with an InfAck.
	tr := e.submit(t, exampleInput())
	e.sendDue(t)
	got := e.practiceInbox(t)
	if len(got) != 1 {
		t.Fatalf("practice got %d reports, want 1", len(got))
	}
	e.respond(t, got[0], itk3.ResponseCode(20013))
	acks, err := e.client.Inbox(ctx, mesh.InboxOptions{WorkflowFilter: senddoc.WorkflowV1Ack})
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, id := range acks {
		if id != rep.ID {
			ours = append(ours, id)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("the InfAck in the sender's inbox: %v", acks)
	}

	count := &requests{message: map[string]int{}}
	e.front.setHook(count.hook(senderMailbox))
	families := len(sender.AckWorkflows)
	for poll := 1; poll <= 3; poll++ {
		n, err := e.svc.PollInbox(ctx)
		if err != nil {
			t.Fatalf("poll %d: %v", poll, err)
		}
		listings, perMessage := count.take()
		if listings != families {
			t.Errorf("poll %d: %d inbox listings, want %d (one per acknowledgement workflow family)", poll, listings, families)
		}
		for id, k := range perMessage {
			switch {
			case id == ours[0] && poll == 1:
				// HEAD, GET and the acknowledgement.
			case poll == 1 && contains(shared, id) && k == 1:
				// Listed under a sent workflow: one HEAD tells it is not
				// the sender's, and later polls remember.
			default:
				t.Errorf("poll %d: %d requests about message %s", poll, k, id)
			}
		}
		if want := map[bool]int{true: 1, false: 0}[poll == 1]; n != want {
			t.Errorf("poll %d processed %d messages, want %d", poll, n, want)
		}
	}
	e.front.setHook(nil)
	e.mustState(t, tr.ID, sender.StateInfAck)

	left, err := e.client.Inbox(ctx, meshInboxAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != foreignN+len(shared) {
		t.Fatalf("%d messages left in the sender's inbox, want the %d foreign ones", len(left), foreignN+len(shared))
	}
	for _, id := range left {
		if id == ours[0] {
			t.Fatal("the sender's own InfAck is still in the inbox")
		}
	}
	for _, id := range shared {
		m, err := e.mesh.Store.GetMessage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != meshserver.StatusAccepted {
			t.Errorf("message %s (%s) has status %s, want %s: the sender must leave it", id, m.WorkflowID, m.Status, meshserver.StatusAccepted)
		}
	}
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
