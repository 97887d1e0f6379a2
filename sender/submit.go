package sender

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpcm/gpcm/internal/uuid"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/updaterecord"
)

// Submission is one report handed to the outbox: either Input (built here)
// or Message (a ready ITK3 message in FHIR XML or JSON, with its Envelope).
type Submission struct {
	Input *senddoc.Input
	// UpdateRecord is a GP Connect Update Record input (a community
	// pharmacy's consultation summary), built here and sent on
	// GPCONNECT_UPDATE_RECORD to the patient's GPPROVIDER_ address.
	UpdateRecord *updaterecord.Input
	Message      []byte
	// Envelope gives the MESH values of a ready Message: To is required
	// unless routing chooses it; WorkflowID defaults from the message's
	// generation; Subject and LocalID are sent as given.
	Envelope *senddoc.Envelope
	// Key makes submission idempotent; default: a hash of what was
	// submitted, so the same input or message twice gives one transmission.
	Key string
	// RecipientODS is the ODS code looked up under RouteLookup (default: the
	// input's registered practice).
	RecipientODS string
	// EditedAt is when the consultation was created or last updated
	// (default: now, the submission). A consultation report waits until
	// EditedAt + Config.EditWindow and must go by EditedAt +
	// Config.SendWindow (GPCM-SD-CS-075).
	EditedAt time.Time
	// SendNow sends the report at once, without waiting for its edit
	// window to close.
	SendNow bool
	// By is who submitted it, recorded on its first event: a web user's
	// name, "cli", "API".
	By string

	replacesID string
}

// InvalidError refuses a submission before anything is stored or sent.
type InvalidError struct {
	Problems []senddoc.Problem // input problems (field names, never values)
	Findings []senddoc.Finding // validator findings of severity error, and MESH transport findings
	// Report is the validator's whole report when Findings refused the
	// message (nil for input problems).
	Report *senddoc.Report
}

// refused is an *InvalidError of one problem about the submission as a whole.
func refused(msg string) *InvalidError {
	return &InvalidError{Problems: []senddoc.Problem{{Message: msg}}}
}

// Messages returns the problems' and findings' texts, problems first.
func (e *InvalidError) Messages() []string {
	out := make([]string, 0, len(e.Problems)+len(e.Findings))
	for _, p := range e.Problems {
		out = append(out, p.Message)
	}
	for _, f := range e.Findings {
		out = append(out, f.Message)
	}
	return out
}

// ErrInvalid matches every *InvalidError.
var ErrInvalid = errors.New("sender: invalid submission")

func (e *InvalidError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.Message)
	}
	for _, f := range e.Findings {
		parts = append(parts, f.String())
	}
	return "sender: report refused: " + strings.Join(parts, "; ")
}

// Is matches ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Kinds of input ParseSubmissionKind is told to expect.
const (
	KindAuto         = ""              // told by the content
	KindSendDocument = "send-document" // a senddoc input
	KindUpdateRecord = "update-record" // an updaterecord input
)

// ParseSubmission reads what a user submits: a ready ITK3 message (FHIR XML,
// or FHIR JSON with a resourceType), a senddoc input in JSON, or an Update
// Record input in JSON (its useCase one of updaterecord.UseCases).
func ParseSubmission(b []byte) (Submission, error) {
	return ParseSubmissionKind(b, KindAuto)
}

// ParseSubmissionKind is ParseSubmission with the kind of a JSON input
// given (KindSendDocument, KindUpdateRecord) instead of told by its
// useCase; a ready message is told by its content either way.
func ParseSubmissionKind(b []byte, kind string) (Submission, error) {
	switch kind {
	case KindAuto, KindSendDocument, KindUpdateRecord:
	default:
		return Submission{}, refused(fmt.Sprintf("unknown kind %q: use %s or %s", kind, KindSendDocument, KindUpdateRecord))
	}
	trim := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trim) == 0 {
		return Submission{}, refused("the submission is empty")
	}
	if trim[0] == '<' {
		return Submission{Message: b}, nil
	}
	if trim[0] != '{' {
		return Submission{}, refused("the submission is neither JSON nor XML")
	}
	var probe struct {
		ResourceType string `json:"resourceType"`
		UseCase      string `json:"useCase"`
	}
	if err := json.Unmarshal(trim, &probe); err != nil {
		return Submission{}, refused("the JSON does not parse: " + err.Error())
	}
	if probe.ResourceType != "" {
		return Submission{Message: b}, nil
	}
	if kind == KindUpdateRecord || (kind == KindAuto && slices.Contains(updaterecord.UseCases(), updaterecord.UseCase(probe.UseCase))) {
		in, err := updaterecord.ReadInput(bytes.NewReader(trim))
		if err != nil {
			if ie, ok := errors.AsType[*updaterecord.InputError](err); ok {
				return Submission{}, &InvalidError{Problems: problemsOf(ie)}
			}
			return Submission{}, refused(err.Error())
		}
		return Submission{UpdateRecord: &in}, nil
	}
	in, err := senddoc.ReadInput(bytes.NewReader(trim))
	if err != nil {
		var ie *senddoc.InputError
		if errors.As(err, &ie) {
			return Submission{}, &InvalidError{Problems: ie.Problems}
		}
		return Submission{}, refused(err.Error())
	}
	return Submission{Input: &in}, nil
}

// Submit validates sub, stores it in the outbox and wakes the sending
// worker. Submitting the same thing (same Key) again returns the stored
// transmission with created=false. An invalid report is refused with
// *InvalidError and nothing is stored.
func (s *Service) Submit(ctx context.Context, sub Submission) (Transmission, bool, error) {
	nt, err := s.prepare(ctx, sub)
	if err != nil {
		return Transmission{}, false, err
	}
	t, created, err := s.cfg.Store.CreateTransmission(ctx, nt, s.cfg.Now())
	if se, ok := errors.AsType[*StaleError](err); ok {
		s.log.Warn("stale version not queued", "newer", se.Newer.ID, "version", se.Version)
		return Transmission{}, false, se
	}
	if err != nil {
		return Transmission{}, false, fmt.Errorf("sender: submit: %w", err)
	}
	if created {
		s.log.Info("report queued", "transmission", t.ID, "header_id", t.HeaderID, "hold_until", t.HoldUntil, "superseded", t.Superseded)
		s.metrics.submitted.Add(1)
		s.wake()
	}
	return t, created, nil
}

// SendNow sends a report waiting for its edit window at once.
// ErrConflict when it is not waiting (already being sent, sent, or
// withdrawn).
func (s *Service) SendNow(ctx context.Context, id, by string) (Transmission, error) {
	now := s.cfg.Now()
	t, err := s.cfg.Store.Transition(ctx, TransitionParams{ID: id, From: []State{StateQueued}, RequireIdle: true, At: now, By: by,
		Note: "send now: the edit window was closed early", Set: Changes{HoldUntil: &now, NextAttemptAt: &now}})
	if err != nil {
		return Transmission{}, fmt.Errorf("sender: send now %s: %w", id, err)
	}
	s.wake()
	return t, nil
}

// Cancel withdraws a report that has not been sent: it will not be.
// ErrConflict when it is being sent or was sent.
func (s *Service) Cancel(ctx context.Context, id, by string) (Transmission, error) {
	t, err := s.cfg.Store.Transition(ctx, TransitionParams{ID: id, From: []State{StateQueued}, RequireIdle: true, To: StateCancelled, By: by,
		At: s.cfg.Now(), ReleaseLease: true, Note: "cancelled before it was sent"})
	if err != nil {
		return Transmission{}, fmt.Errorf("sender: cancel %s: %w", id, err)
	}
	return t, nil
}

func (s *Service) prepare(ctx context.Context, sub Submission) (NewTransmission, error) {
	var nt NewTransmission
	var env senddoc.Envelope
	var payload, inputJSON []byte
	switch {
	case (sub.Input != nil) && (sub.Message != nil || sub.UpdateRecord != nil) || sub.UpdateRecord != nil && sub.Message != nil:
		return nt, errors.New("sender: give one input or one message, not several")
	case sub.UpdateRecord != nil:
		return s.prepareUpdateRecord(ctx, sub)
	case sub.Input != nil:
		in := sub.Input.WithDefaults()
		if err := in.Validate(); err != nil {
			var ie *senddoc.InputError
			if errors.As(err, &ie) {
				return nt, &InvalidError{Problems: ie.Problems}
			}
			return nt, refused(err.Error())
		}
		var err error
		if inputJSON, err = json.Marshal(in); err != nil {
			return nt, fmt.Errorf("sender: encode input: %w", err)
		}
		built, err := senddoc.Build(in, senddoc.BuildOptions{RenderPDF: s.cfg.RenderPDF, Now: s.cfg.Now})
		if err != nil {
			var ie *senddoc.InputError
			if errors.As(err, &ie) {
				return nt, &InvalidError{Problems: ie.Problems}
			}
			return nt, fmt.Errorf("sender: build: %w", err)
		}
		if payload, err = built.XML(); err != nil {
			return nt, fmt.Errorf("sender: build: %w", err)
		}
		env = built.Envelope
		nt.Source = SourceInput
		if sub.Key == "" {
			sub.Key = "input:" + hashHex(inputJSON)
		}
		if sub.RecipientODS == "" && in.RegisteredPractice != nil {
			sub.RecipientODS = in.RegisteredPractice.ODSCode
		}
	case sub.Message != nil:
		if int64(len(sub.Message)) > s.cfg.MaxPayload {
			return nt, refused(fmt.Sprintf("the message is %d bytes, more than the %d allowed", len(sub.Message), s.cfg.MaxPayload))
		}
		payload = sub.Message
		if sub.Envelope != nil {
			env = *sub.Envelope
		}
		nt.Source = SourceMessage
		if sub.Key == "" {
			sub.Key = "message:" + hashHex(payload)
		}
	default:
		return nt, refused("nothing to send: give a senddoc input or an ITK3 message")
	}
	// Read the identifiers first (generation decides the default workflow).
	pre, err := senddoc.ValidateBytes(ctx, payload, senddoc.Options{AllowTestNHSNumbers: s.cfg.AllowTestNHSNumbers, Now: s.cfg.Now, MaxBytes: s.cfg.MaxPayload})
	if err != nil {
		return nt, refused("the message cannot be read: " + err.Error())
	}
	if pre.Kind != senddoc.KindSendDocument && isUpdateRecord(ctx, payload, env.WorkflowID) {
		return s.prepareUpdateRecordMessage(ctx, sub, payload, env)
	}
	if pre.Kind != senddoc.KindSendDocument {
		return nt, refused(fmt.Sprintf("the message is a %q, not a Send Document message", pre.Kind))
	}
	if env.WorkflowID == "" {
		env.WorkflowID, env.AckWorkflowID = senddoc.WorkflowFor(max(pre.Generation, 1))
	}
	if env.AckWorkflowID == "" {
		env.AckWorkflowID = env.WorkflowID + "_ACK"
	}
	if env.From == "" && s.cfg.Mesh != nil {
		env.From = s.cfg.Mesh.Mailbox()
	}
	if env.From == "" {
		env.From = pre.SourceEndpoint
	}
	if mb := s.mailbox(); mb != "" && !strings.EqualFold(env.From, mb) {
		return nt, refused(fmt.Sprintf("the report's sender mailbox %s is not this sender's MESH mailbox %s: acknowledgements would go elsewhere", env.From, mb))
	}
	var meta *senddoc.MeshMetadata
	switch s.cfg.Routing {
	case RouteMailbox:
		env.To = s.cfg.Mailbox
	case RouteLookup:
		to, err := s.lookup(ctx, sub.RecipientODS, env.WorkflowID)
		if err != nil {
			return nt, err
		}
		env.To = to
	default:
		meta = &senddoc.MeshMetadata{Transport: "api", WorkflowID: env.WorkflowID, From: env.From, To: env.To, Subject: env.Subject, LocalID: env.LocalID}
	}
	if env.To == "" {
		return nt, refused("no recipient: a ready message needs its MESH address (To: GPPROVIDER_… or a mailbox ID)")
	}
	rep := pre
	if meta != nil {
		if rep, err = senddoc.ValidateBytes(ctx, payload, senddoc.Options{Mesh: meta, AllowTestNHSNumbers: s.cfg.AllowTestNHSNumbers, Now: s.cfg.Now, MaxBytes: s.cfg.MaxPayload}); err != nil {
			return nt, refused("the message cannot be read: " + err.Error())
		}
	}
	if meta == nil {
		// Routed to a fixed or looked-up mailbox, the MESH rules were not
		// checked; a confidential report's subject still must not say where
		// the patient was seen (GPCM-SD-CS-030).
		if f, ok := senddoc.SubjectFinding(rep, env.Subject); ok {
			rep.Findings = append(rep.Findings, f)
		}
	}
	// MESH transport findings are warnings to a receiver but the sender's
	// own obligation: they block sending as errors do.
	ie := &InvalidError{Report: &rep}
	for _, f := range rep.Findings {
		if f.Severity == senddoc.SeverityError || f.Transport() {
			ie.Findings = append(ie.Findings, f)
		}
	}
	if len(ie.Findings) > 0 {
		return nt, ie
	}
	nt.queue(sub, env, idsOf(rep.MessageHeaderID, rep.BundleID, rep.BundleIdentifier, rep.DocumentID, rep.SenderReference, rep.Version), payload)
	nt.Transmission.ReplacesID = sub.replacesID
	s.window(&nt, rep, sub)
	nt.Input, nt.By = inputJSON, sub.By
	return nt, nil
}

// messageIDs are the identifiers a validator's report read from a message
// (Send Document and Update Record reports alike).
type messageIDs struct {
	header, bundle, bundleIdentifier, document, senderReference string
	version                                                     int
}

func idsOf(header, bundle, bundleIdentifier, document, senderReference string, version int) messageIDs {
	return messageIDs{header, bundle, bundleIdentifier, document, senderReference, version}
}

// queue makes nt the queued transmission of a checked message: its MESH
// envelope, the identifiers its report read and the payload.
func (nt *NewTransmission) queue(sub Submission, env senddoc.Envelope, ids messageIDs, payload []byte) {
	nt.Transmission = Transmission{
		ID: uuid.New(), Key: sub.Key, State: StateQueued, Source: nt.Source,
		WorkflowID: env.WorkflowID, AckWorkflowID: env.AckWorkflowID, From: env.From, To: env.To, Subject: env.Subject, LocalID: env.LocalID,
		HeaderID: ids.header, BundleID: ids.bundle, BundleIdentifier: ids.bundleIdentifier, DocumentID: ids.document,
		SenderReference: ids.senderReference, Version: ids.version, ContentType: contentType(payload),
	}
	nt.Payload = payload
}

// window sets a consultation report's edit and send windows
// (GPCM-SD-CS-075/076): it waits until the consultation's last edit plus
// EditWindow, must go by the last edit plus SendWindow, and supersedes any
// older version of the consultation still waiting.
func (s *Service) window(nt *NewTransmission, rep senddoc.Report, sub Submission) {
	if ref := rep.SenderReference; ref != "" && !strings.EqualFold(ref, "None") {
		// One consultation: the encounter (CS-046: shared by all its
		// versions), for one patient, from this sender to one recipient.
		nt.Consultation = hashHex([]byte(strings.Join([]string{ref, rep.PatientNHSNumber, nt.From, nt.To}, "\x00")))
		nt.Supersede = true
	}
	if rep.UseCase != senddoc.UseCaseConsultation {
		return
	}
	now := s.cfg.Now()
	edited := sub.EditedAt
	if edited.IsZero() || edited.After(now) {
		edited = now
	}
	nt.SendBy = edited.Add(s.cfg.SendWindow)
	if hold := edited.Add(s.cfg.EditWindow); !sub.SendNow && s.cfg.EditWindow > 0 && hold.After(now) {
		nt.HoldUntil, nt.NextAttemptAt = hold, hold
	}
}

func (s *Service) lookup(ctx context.Context, ods, workflow string) (string, error) {
	if ods == "" {
		return "", refused("endpoint lookup needs the recipient ODS code (registeredPractice.odsCode or --recipient-ods)")
	}
	if s.cfg.Mesh == nil {
		return "", errors.New("sender: endpoint lookup needs a MESH connection")
	}
	res, err := s.cfg.Mesh.Lookup(ctx, ods, workflow)
	if err != nil {
		return "", fmt.Errorf("sender: endpoint lookup %s/%s: %w", ods, workflow, err)
	}
	if len(res) != 1 {
		return "", refused(fmt.Sprintf("endpoint lookup of ODS code %s for %s found %d mailboxes; want exactly one", ods, workflow, len(res)))
	}
	return res[0].MailboxID, nil
}

// Resend sends a failed or overdue report again as a new transmission with
// the same message (same identifiers, so a receiver that did get the first
// copy answers 20007/20008 instead of filing it twice). Resending the same
// transmission twice returns the first resend.
func (s *Service) Resend(ctx context.Context, id, by string) (Transmission, error) {
	prev, err := s.cfg.Store.GetTransmission(ctx, id)
	if err != nil {
		return Transmission{}, err
	}
	if prev.State != StateFailed && prev.State != StateOverdue {
		return Transmission{}, fmt.Errorf("sender: transmission %s is %s; only failed or overdue reports are resent: %w", id, prev.State, ErrConflict)
	}
	payload, input, err := s.cfg.Store.Payload(ctx, id)
	if err != nil {
		return Transmission{}, err
	}
	t := prev
	t.ID, t.Key, t.State, t.ResendOf = uuid.New(), "resend:"+prev.ID, StateQueued, prev.ID
	t.MeshMessageID, t.Attempts, t.AttemptFile, t.NextChunk = "", 0, "", 0
	t.HoldUntil, t.SendBy, t.NextAttemptAt = time.Time{}, time.Time{}, time.Time{} // a resend goes at once
	got, created, err := s.cfg.Store.CreateTransmission(ctx, NewTransmission{Transmission: t, Payload: payload, Input: input, By: by}, s.cfg.Now())
	if err != nil {
		return Transmission{}, fmt.Errorf("sender: resend %s: %w", id, err)
	}
	if created {
		s.log.Info("report queued again", "transmission", got.ID, "resend_of", id)
		s.wake()
	}
	return got, nil
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// contentType is the media type of a FHIR message: JSON when it starts
// with '{', else XML.
func contentType(payload []byte) string {
	if bytes.TrimLeft(payload, " \t\r\n\ufeff")[0] == '{' {
		return "application/fhir+json"
	}
	return "application/fhir+xml"
}
