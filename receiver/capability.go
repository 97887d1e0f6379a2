package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gpcm/gpcm/docview"
)

// capability is one GP Connect messaging capability the receiver takes
// (Send Document, Update Record, ...): which MESH workflows carry it, where
// its acknowledgements go, how one of its messages is judged and how staff
// see what it carries. Everything around it — collecting and persisting
// the message, the MESH acknowledgement, the infrastructure ack, patient
// matching, the business ack, exactly-once recording across instances and
// the processing budget — is the shared pipeline (process.go), the same
// for every capability. Adding a capability is one file here implementing
// this over its protocol package.
type capability interface {
	// name identifies the capability ("send-document", "update-record").
	name() string
	// accepts reports whether messages on the MESH workflow are this
	// capability's.
	accepts(workflow string) bool
	// workflows lists the workflows whose inbox pages are collected.
	workflows() []string
	// ackWorkflow is the workflow the acks of a message on workflow go on.
	ackWorkflow(workflow string) string
	// assess validates one message (read whole, within the processing
	// budget) and chooses its infrastructure response, the correlation
	// keys, the patient and replacement it names and what becomes of its
	// worklist item.
	assess(ctx context.Context, m Message, body []byte) outcome
	// structured reports whether the capability's messages carry
	// structured content (Send Document's content is its attachment).
	structured() bool
	// content is the structured content of a stored message as staff read
	// it and as FHIR JSON.
	content(ctx context.Context, body []byte) (Content, error)
}

// Content is the structured content of a received message: how staff read
// it (View, the capability-neutral model the web UI renders) and the
// payload as FHIR JSON a GP system ingests.
type Content struct {
	// Capability names the capability the message came by.
	Capability string `json:"capability"`
	// View is the content laid out for a person.
	View docview.View `json:"view"`
	// FHIR is the document Bundle as FHIR STU3 JSON.
	FHIR json.RawMessage `json:"fhir"`
}

// capabilityFor returns the capability of a workflow (nil when none takes
// it: the message is left in the inbox for other software).
func (r *Receiver) capabilityFor(workflow string) capability {
	for _, c := range r.caps {
		if c.accepts(workflow) {
			return c
		}
	}
	return nil
}

// workflows lists every workflow the receiver collects.
func (r *Receiver) workflows() []string {
	var out []string
	for _, c := range r.caps {
		for _, wf := range c.workflows() {
			if !slices.Contains(out, wf) {
				out = append(out, wf)
			}
		}
	}
	return out
}

// ackWorkflow is the workflow acks to a message on wf go on.
func (r *Receiver) ackWorkflow(wf string) string {
	if c := r.capabilityFor(wf); c != nil {
		return c.ackWorkflow(wf)
	}
	return wf + "_ACK"
}

// DocumentContent returns the structured content of a document's message
// (ErrNotFound when its capability carries none, as Send Document's, whose
// content is its attachment).
func (r *Receiver) DocumentContent(ctx context.Context, id int64) (Content, error) {
	d, err := r.cfg.Store.GetDocument(ctx, id)
	if err != nil {
		return Content{}, err
	}
	m, err := r.cfg.Store.GetMessage(ctx, d.MessageID)
	if err != nil {
		return Content{}, fmt.Errorf("receiver: message of document %d: %w", id, err)
	}
	c := r.capabilityFor(m.WorkflowID)
	if c == nil || !c.structured() {
		// Nothing to read (a Send Document's payload, perhaps large, is
		// not opened).
		return Content{}, fmt.Errorf("receiver: document %d has no structured content: %w", id, ErrNotFound)
	}
	m.Payload = nil
	body, _, err := r.openPayload(ctx, m)
	if err != nil {
		return Content{}, fmt.Errorf("receiver: document %d: %w", id, err)
	}
	ct, err := c.content(ctx, body)
	if err != nil {
		return Content{}, fmt.Errorf("receiver: document %d: %w", id, err)
	}
	ct.Capability = c.name()
	return ct, nil
}
