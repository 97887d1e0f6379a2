package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gpcm/gpcm/internal/uuid"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/senddoc"
)

// Mesh is the part of the MESH client the sender calls; *mesh.Client
// satisfies it.
type Mesh interface {
	Mailbox() string
	Handshake(ctx context.Context) error
	Send(ctx context.Context, req mesh.SendRequest) (mesh.SendResult, error)
	Inbox(ctx context.Context, opts mesh.InboxOptions) ([]string, error)
	Head(ctx context.Context, messageID string) (mesh.Message, error)
	Get(ctx context.Context, messageID string) (*mesh.Download, error)
	Ack(ctx context.Context, messageID string) error
	Track(ctx context.Context, messageID string) (mesh.Tracking, error)
	RichOutbox(ctx context.Context, opts mesh.RichInboxOptions) ([]mesh.RichMessage, error)
	Lookup(ctx context.Context, odsCode, workflowID string) ([]mesh.LookupResult, error)
}

var _ Mesh = (*mesh.Client)(nil)

// Routing says how the recipient address (Mex-To) is chosen.
type Routing string

// Routing modes.
const (
	// RouteAuto uses the address senddoc derives: the patient's GPPROVIDER_…
	// address (MESH finds the registered practice), or the input's
	// recipientMailbox when it names one.
	RouteAuto Routing = "auto"
	// RouteMailbox sends everything to Config.Mailbox.
	RouteMailbox Routing = "mailbox"
	// RouteLookup resolves the recipient with MESH endpoint lookup of the
	// registered practice's ODS code (or Submission.RecipientODS) and the
	// message workflow; exactly one mailbox must be found.
	RouteLookup Routing = "lookup"
)

// Hook hands an alert to a person (see CommandHook and WebhookHook).
type Hook interface {
	Deliver(ctx context.Context, a Alert) error
}

// Config configures a Service. Zero durations take the defaults.
type Config struct {
	Store Store
	// Mesh is the sender's mailbox. It may be nil for a Service that only
	// submits and reads (the CLI's submit, list and show).
	Mesh Mesh

	Routing Routing
	// Mailbox is the recipient for RouteMailbox.
	Mailbox string

	// EditWindow is how long a consultation report waits after the
	// consultation's last edit (Submission.EditedAt) before it is sent, so
	// that edits in that time replace it rather than follow it (the process
	// map's configurable wait, default 3 hours). A newer version submitted
	// meanwhile supersedes the waiting one (GPCM-SD-CS-076). Negative sends
	// at once. Online consultation and generic reports are never held.
	EditWindow time.Duration
	// SendWindow is how long after the consultation's last edit a report
	// must be sent (GPCM-SD-CS-075: 3 hours, the default); EditWindow may not
	// be longer. A report that goes out later raises an alert.
	SendWindow time.Duration

	// InfAckWithin and BusAckWithin are the acknowledgement deadlines
	// (defaults 4 h after sending and 3 days after the InfAck: our choice,
	// see the package doc).
	InfAckWithin time.Duration
	BusAckWithin time.Duration

	// SendInterval, PollInterval, TrackInterval and AlertInterval pace the
	// workers (defaults 5 s, 1 min, 15 min, 30 s). MESH asks for an inbox
	// poll no more than every 5 minutes in live; set PollInterval to match.
	SendInterval  time.Duration
	PollInterval  time.Duration
	TrackInterval time.Duration
	AlertInterval time.Duration
	// HandshakeInterval is how often the running sender validates its
	// mailbox with a MESH handshake, the first at Start (default 24 h, as
	// MESH asks of a client).
	HandshakeInterval time.Duration
	// Lease is how long a claim lasts before another worker may take the
	// work over (default 10 min).
	Lease time.Duration
	// RecheckAfter is how long after an ambiguous send the outbox is
	// searched for it (default 10 min: longer than a response can take).
	RecheckAfter time.Duration
	// Backoff paces retries of sends that certainly did not reach MESH
	// (default 30 s doubling to 30 min).
	Backoff mesh.Backoff

	// Hook receives each alert; nil keeps alerts in the store and API only.
	Hook Hook
	// Drop, if set, is a MESH client OUT folder the workers scan for
	// .ctl/.dat pairs (every SendInterval).
	Drop *FileDrop

	// Owner names this worker in leases (default "sender-<random>").
	Owner string
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// RenderPDF renders a report whose input carries no PDF.
	RenderPDF func(senddoc.Input) ([]byte, error)
	// AllowTestNHSNumbers accepts NHS numbers failing the check digit with a
	// warning (test environments).
	AllowTestNHSNumbers bool
	// MaxPayload bounds a submitted message (default 100 MB, the MESH limit).
	MaxPayload int64
}

func (c *Config) withDefaults() error {
	if c.Store == nil {
		return errors.New("sender: Config.Store is required")
	}
	if c.Routing == "" {
		c.Routing = RouteAuto
	}
	switch c.Routing {
	case RouteAuto, RouteLookup:
	case RouteMailbox:
		if c.Mailbox == "" {
			return errors.New("sender: routing \"mailbox\" needs Config.Mailbox (the recipient mailbox ID)")
		}
	default:
		return fmt.Errorf("sender: unknown routing %q (want auto, mailbox or lookup)", c.Routing)
	}
	def := func(d *time.Duration, v time.Duration, name string) error {
		if *d < 0 {
			return fmt.Errorf("sender: Config.%s is negative", name)
		}
		if *d == 0 {
			*d = v
		}
		return nil
	}
	for _, f := range []struct {
		d    *time.Duration
		v    time.Duration
		name string
	}{
		{&c.InfAckWithin, 4 * time.Hour, "InfAckWithin"}, {&c.BusAckWithin, 72 * time.Hour, "BusAckWithin"},
		{&c.SendInterval, 5 * time.Second, "SendInterval"}, {&c.PollInterval, time.Minute, "PollInterval"},
		{&c.TrackInterval, 15 * time.Minute, "TrackInterval"}, {&c.AlertInterval, 30 * time.Second, "AlertInterval"},
		{&c.Lease, 10 * time.Minute, "Lease"}, {&c.RecheckAfter, 10 * time.Minute, "RecheckAfter"},
		{&c.HandshakeInterval, mesh.DefaultHandshakeInterval, "HandshakeInterval"},
	} {
		if err := def(f.d, f.v, f.name); err != nil {
			return err
		}
	}
	if err := def(&c.SendWindow, DefaultSendWindow, "SendWindow"); err != nil {
		return err
	}
	switch {
	case c.EditWindow == 0:
		c.EditWindow = min(DefaultEditWindow, c.SendWindow)
	case c.EditWindow > c.SendWindow:
		return fmt.Errorf("sender: Config.EditWindow (%v) is longer than Config.SendWindow (%v): a held report would miss the send window (GPCM-SD-CS-075)", c.EditWindow, c.SendWindow)
	}
	if c.Backoff.Initial == 0 {
		c.Backoff = mesh.Backoff{Retries: 1 << 30, Initial: 30 * time.Second, Max: DefaultBackoffMax}
	}
	if c.Owner == "" {
		c.Owner = "sender-" + uuid.New()[:8]
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = mesh.MaxRequestBytes
	}
	return nil
}

// DefaultBackoffMax is the longest wait between retries of a send or an
// alert hook under the default Backoff.
const DefaultBackoffMax = 30 * time.Minute

// Edit and send windows of consultation reports: the process map's wait
// (configurable) and GPCM-SD-CS-075's limit.
const (
	DefaultEditWindow = 3 * time.Hour
	DefaultSendWindow = 3 * time.Hour
)
