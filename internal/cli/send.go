package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/senddoc"
	"github.com/gpcm/gpcm/sender"
)

const sendHelp = `Usage: gpcm send <subcommand> [flags] [arguments]

The durable outbox for Send Document reports: submit a report (a senddoc
JSON input or a ready ITK3 message), and the worker validates, stores, sends
it over MESH without duplicates, matches the InfAck/BusAck and MESH REPORTs
that come back, and alerts a person when a report fails or an
acknowledgement is late (GPCM-SD-043/044/045).

Subcommands:
  submit   validate and queue reports (FILE... or - for stdin)
  run      run the worker and the JSON API until interrupted
  list     list transmissions, newest first
  show     one transmission with its state history and alerts
  alerts   list alerts to a person
  resend   queue a failed or overdue report again (same message)
  replace  queue a corrected version that replaces a sent report
  now      send a report waiting for its edit window at once
  cancel   withdraw a report that has not been sent

Consultation reports wait for an edit window (default 3h, --edit-window)
after the consultation's last edit, so that a later edit replaces the
waiting version instead of following it; they go within the 3-hour send
window (GPCM-SD-CS-075/076). "gpcm send list" shows until when.

Every subcommand takes --data DIR (the outbox database DIR/sender.db).
Run "gpcm send <subcommand> --help" for its flags.

Examples:
  gpcm send submit --data ./outbox report.json
  MESH_URL=https://localhost:8443 MESH_MAILBOX=X26ABC1 MESH_PASSWORD=password \
    MESH_SHARED_KEY=TestKey gpcm send run --data ./outbox --listen 127.0.0.1:8081
  gpcm send list --data ./outbox --state failed
`

// runSend dispatches gpcm send subcommands.
func runSend(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, sendHelp)
		return &exitError{code: ExitUsage}
	}
	subs := map[string]func(context.Context, *Env, []string) error{
		"submit": sendSubmit, "run": sendRun, "list": sendList, "show": sendShow, "alerts": sendAlerts,
		"resend": sendResend, "replace": sendReplace, "now": sendNow, "cancel": sendCancel,
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, sendHelp)
		return flag.ErrHelp
	}
	run, ok := subs[args[0]]
	if !ok {
		return usagef("gpcm send --help", "send: unknown subcommand %q", args[0])
	}
	return run(ctx, env, args[1:])
}

// sendCmd holds what every send subcommand shares.
type sendCmd struct {
	name     string
	fs       *flag.FlagSet
	data     string
	json     bool
	conn     meshConn
	withMesh bool
	routing  string
	mailbox  string
	testNHS  bool
	storage  storageFlags
	// Edit and send windows (submit, run).
	editWindow, sendWindow time.Duration
}

func newSendCmd(env *Env, name, help string, withMesh bool) *sendCmd {
	if withMesh {
		help += "\n" + meshConnHelp
	}
	c := &sendCmd{name: name, fs: newFlagSet(env, "send "+name, help), withMesh: withMesh}
	c.fs.StringVar(&c.data, "data", "", "outbox `directory` (holds sender.db); required")
	c.fs.BoolVar(&c.json, "json", false, "print JSON")
	c.storage.register(c.fs, false)
	if withMesh {
		c.conn.register(c.fs)
	}
	return c
}

// windowFlags registers the edit and send window of consultation reports.
func (c *sendCmd) windowFlags() {
	c.fs.DurationVar(&c.editWindow, "edit-window", sender.DefaultEditWindow, "a consultation report waits this `long` after the consultation's last edit, so edits replace it (0: send at once)")
	c.fs.DurationVar(&c.sendWindow, "send-window", sender.DefaultSendWindow, "a consultation report must go within this `long` of the last edit (GPCM-SD-CS-075)")
}

// windows puts the window flags into cfg.
func (c *sendCmd) windows(cfg *sender.Config) {
	cfg.EditWindow, cfg.SendWindow = c.editWindow, c.sendWindow
	if c.editWindow == 0 {
		cfg.EditWindow = -1
	}
}

func (c *sendCmd) routingFlags() {
	c.fs.StringVar(&c.routing, "routing", "auto", "recipient `mode`: auto (GPPROVIDER_… or the input's recipientMailbox), mailbox (--recipient), lookup (MESH endpoint lookup of the practice ODS code)")
	c.fs.StringVar(&c.mailbox, "recipient", "", "recipient mailbox `ID` for --routing mailbox")
	c.fs.BoolVar(&c.testNHS, "allow-test-nhs-numbers", false, "accept NHS numbers that fail the check digit (with a warning)")
}

// sendInvocationFlags describe one invocation of a send subcommand (what
// to submit or list), so they take no variable; --data, the storage and
// connection flags and the worker's settings do.
var sendInvocationFlags = []string{"json", "to", "subject", "local-id", "idempotency-key", "recipient-ods", "state", "limit"}

func (c *sendCmd) parse(env *Env, args []string, minArgs, maxArgs int, what string) ([]string, error) {
	for _, n := range sendInvocationFlags {
		if c.fs.Lookup(n) != nil {
			cmdlineOnly(c.fs, n)
		}
	}
	pos, err := parseInterspersed(c.fs, env, args)
	if err != nil {
		return nil, err
	}
	hint := "gpcm send " + c.name + " --help"
	if c.data == "" {
		return nil, usagef(hint, "send %s: --data is required (the outbox directory)", c.name)
	}
	if len(pos) < minArgs || (maxArgs >= 0 && len(pos) > maxArgs) {
		return nil, usagef(hint, "send %s: want %s", c.name, what)
	}
	if err := c.storage.check("send "+c.name, hint); err != nil {
		return nil, err
	}
	return pos, nil
}

// open opens the outbox and builds a Service (with MESH if withMesh or the
// routing needs it).
func (c *sendCmd) open(ctx context.Context, env *Env, cfg sender.Config) (*sender.Service, func(), error) {
	if err := dataDir(env.Logger(), c.data); err != nil {
		return nil, nil, fmt.Errorf("send %s: %w", c.name, err)
	}
	db, err := c.storage.openDB(ctx, c.data, "sender.db", pgstore.Options{MinConns: 4})
	if err != nil {
		return nil, nil, fmt.Errorf("send %s: %w", c.name, err)
	}
	cfg.Store = db.Sender()
	cfg.Logger = env.Logger()
	cfg.RenderPDF = senddoc.RenderReport
	cfg.Routing, cfg.Mailbox, cfg.AllowTestNHSNumbers = sender.Routing(c.routing), c.mailbox, c.testNHS
	if c.withMesh || c.routing == string(sender.RouteLookup) {
		mc, err := c.conn.client(env)
		if err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("send %s: %w", c.name, err)
		}
		cfg.Mesh = mc
	}
	svc, err := sender.New(cfg)
	if err != nil {
		db.Close()
		return nil, nil, usagef("gpcm send "+c.name+" --help", "send %s: %v", c.name, err)
	}
	return svc, func() { db.Close() }, nil
}

func sendSubmit(ctx context.Context, env *Env, args []string) error {
	c := newSendCmd(env, "submit", `Usage: gpcm send submit --data DIR [flags] FILE...

Validates each report and stores it in the outbox; "gpcm send run" sends it.
FILE is a senddoc JSON input (see "gpcm senddoc --help"), a GP Connect
Update Record JSON input (see "gpcm update-record example"; told by its
useCase, or say --kind update-record) or a ready ITK3 message in FHIR XML or
JSON ("-" reads stdin). An Update Record goes on GPCONNECT_UPDATE_RECORD to
the patient's GPPROVIDER_ address and its acknowledgements come back on
GPCONNECT_UPDATE_RECORD_ACK, reconciled and alerted on as for Send
Document. A ready message needs its
MESH address (--to) unless --routing chooses one. An invalid report is
refused with the validator's findings and nothing is stored. Submitting the
same report again prints the stored transmission (no second copy).

A consultation report waits --edit-window after the consultation's last
edit (--edited-at, default now) before it is sent; a newer version of the
same consultation (same encounter) submitted meanwhile replaces it, and an
older version than one already queued or sent is refused as stale
(GPCM-SD-CS-076). --send-now skips the wait.

Exit status: 0 all queued, 1 a report was refused, stale or failed, 2 usage.

Examples:
  gpcm send submit --data ./outbox report.json
  gpcm send submit --data ./outbox --edited-at 2026-11-24T09:40:00Z report-v2.json
  gpcm send submit --data ./outbox --send-now report.json
  gpcm send submit --data ./outbox --to GPPROVIDER_9434765919_19550109_Smith \
    --subject "Consultation report for …" --local-id X26 message.xml
  gpcm send submit --data ./outbox --routing mailbox --recipient X27ABC1 report.json
  gpcm update-record example --use-case blood-pressure > update.json
  gpcm send submit --data ./outbox --kind update-record update.json`, false)
	c.routingFlags()
	to := c.fs.String("to", "", "MESH `address` of a ready message (GPPROVIDER_… or mailbox ID)")
	subject := c.fs.String("subject", "", "MESH `subject` of a ready message")
	localID := c.fs.String("local-id", "", "MESH local `ID` of a ready message (the sender ODS code)")
	key := c.fs.String("idempotency-key", "", "idempotency `key` (default: a hash of the report); only with one FILE")
	ods := c.fs.String("recipient-ods", "", "ODS `code` for --routing lookup (default: the input's registered practice)")
	sendNow := c.fs.Bool("send-now", false, "send at once, without waiting for the edit window")
	editedAt := c.fs.String("edited-at", "", "when the consultation was created or last updated, RFC 3339 `time` (default: now)")
	kind := c.fs.String("kind", "", "`kind` of a JSON input: send-document or update-record (default: told by its useCase)")
	c.windowFlags()
	c.conn.register(c.fs)
	files, err := c.parse(env, args, 1, -1, "at least one FILE")
	if err != nil {
		return err
	}
	if *key != "" && len(files) > 1 {
		return usagef("gpcm send submit --help", "send submit: --idempotency-key needs exactly one FILE")
	}
	var edited time.Time
	if *editedAt != "" {
		if edited, err = time.Parse(time.RFC3339, *editedAt); err != nil {
			return usagef("gpcm send submit --help", "send submit: --edited-at must be an RFC 3339 time such as 2026-11-24T09:40:00Z")
		}
	}
	var cfg sender.Config
	c.windows(&cfg)
	svc, closeDB, err := c.open(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	failed := 0
	for _, name := range files {
		b, err := readSendFile(env, name)
		if err == nil {
			var sub sender.Submission
			if sub, err = sender.ParseSubmissionKind(b, *kind); err == nil {
				sub.Key, sub.RecipientODS, sub.SendNow, sub.EditedAt, sub.By = *key, *ods, *sendNow, edited, "cli"
				if sub.Message != nil {
					sub.Envelope = &senddoc.Envelope{To: *to, Subject: *subject, LocalID: *localID}
				}
				var t sender.Transmission
				var created bool
				if t, created, err = svc.Submit(ctx, sub); err == nil {
					printSubmitted(env, c.json, name, t, created)
					continue
				}
			}
		}
		failed++
		printRefused(env, name, err)
	}
	if failed > 0 {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("send submit: %d of %d reports not queued", failed, len(files))}
	}
	return nil
}

func readSendFile(env *Env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(env.Stdin, 100<<20))
	}
	return os.ReadFile(name)
}

func printSubmitted(env *Env, asJSON bool, name string, t sender.Transmission, created bool) {
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		_ = enc.Encode(map[string]any{"file": name, "created": created, "transmission": t})
		return
	}
	what := "queued"
	if !created {
		what = "already in the outbox"
	}
	fmt.Fprintf(env.Stdout, "%s: %s %s (state %s, header %s)\n", name, what, t.ID, t.State, t.HeaderID)
	if !t.HoldUntil.IsZero() && t.State == sender.StateQueued {
		fmt.Fprintf(env.Stdout, "  waiting to send until %s (edit window; gpcm send now %s sends it at once)\n", t.HoldUntil.Local().Format("15:04 on 2 Jan 2006"), t.ID)
	}
	for _, old := range t.Superseded {
		fmt.Fprintf(env.Stdout, "  replaces the waiting version %s, which will not be sent\n", old)
	}
}

func printRefused(env *Env, name string, err error) {
	if se, ok := errors.AsType[*sender.StaleError](err); ok {
		fmt.Fprintf(env.Stderr, "%s: warning: stale, not queued: version %d of this consultation's report; transmission %s already holds version %d (%s), and only the latest version is sent (GPCM-SD-CS-076)\n",
			name, se.Version, se.Newer.ID, se.Newer.Version, se.Newer.State)
		return
	}
	var ie *sender.InvalidError
	if errors.As(err, &ie) {
		fmt.Fprintf(env.Stderr, "%s: refused, nothing stored:\n", name)
		for _, p := range ie.Problems {
			fmt.Fprintf(env.Stderr, "  %s\n", p)
		}
		for _, f := range ie.Findings {
			fmt.Fprintf(env.Stderr, "  %s\n", f.String())
		}
		return
	}
	fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
}

func sendRun(ctx context.Context, env *Env, args []string) error {
	c := newSendCmd(env, "run", `Usage: gpcm send run --data DIR [flags]

Runs the sender until interrupted: sends queued reports over MESH (no
duplicate on retry: an ambiguous send is checked against the MESH outbox
before anything is sent again), polls the mailbox for ITK3 acknowledgements
and MESH REPORTs (acknowledging them only after they are recorded), tracks
delivery, marks late acknowledgements overdue and hands every alert to the
hook. With --listen it serves the JSON API (bearer token from --token or
GPCM_SEND_TOKEN), /healthz and Prometheus /metrics:

  POST /api/transmissions               submit (body: input JSON or ITK3 message)
  GET  /api/transmissions[?state=S]     list
  GET  /api/transmissions/{id}          transmission, events, alerts
  POST /api/transmissions/{id}/resend   resend a failed or overdue report
  POST /api/transmissions/{id}/replace  corrected version (body: input JSON)
  POST /api/transmissions/{id}/send-now send a report waiting for its edit window
  POST /api/transmissions/{id}/cancel   withdraw a report not yet sent
  GET  /api/alerts                      alerts

Consultation reports submitted through the API wait --edit-window after
the consultation's last edit (?editedAt=…, default now; ?sendNow=true skips
it); a newer version replaces the waiting one (GPCM-SD-CS-076), and one
that goes after --send-window raises an alert (GPCM-SD-CS-075).

Deadlines (our defaults; the specification leaves them to the supplier):
InfAck 4h after sending, BusAck 72h after the InfAck.

Alert hook: --alert-command runs a program with the alert JSON on stdin
(exit 0 = delivered); --alert-webhook POSTs it (2xx = delivered). Alerts are
retried until the hook takes them.

File drop (MESH client compatibility): with --drop-dir OUT, every NAME.dat +
NAME.ctl pair in OUT is validated and sent; the pair then moves to SENT with
a status .ctl (StatusRecord SUCCESS and DTSId = MESH message ID, or ERROR
with the reason). A malformed .ctl gets an ERROR status and nothing is sent.

Examples:
  export MESH_URL=https://localhost:8443 MESH_MAILBOX=X26ABC1 MESH_PASSWORD=password MESH_SHARED_KEY=TestKey
  GPCM_SEND_TOKEN=s3cret gpcm send run --data ./outbox --listen 127.0.0.1:8081 --ca ./mesh-data/tls/ca.pem
  gpcm send run --data ./outbox --alert-command /usr/local/bin/page-duty-gp --infack-within 2h
  gpcm send run --data ./outbox --drop-dir /srv/mesh/OUT --drop-sent-dir /srv/mesh/SENT`, true)
	c.routingFlags()
	listen := c.fs.String("listen", "", "serve the JSON API on `host:port` (e.g. 127.0.0.1:8081)")
	token := c.fs.String("token", "", "API bearer `token` (prefer the variable: flags show in ps)")
	envName(c.fs, "token", "GPCM_SEND_TOKEN")
	alertCmd := c.fs.String("alert-command", "", "`program` run with each alert as JSON on stdin")
	alertHook := c.fs.String("alert-webhook", "", "`URL` each alert is POSTed to as JSON")
	hookToken := c.fs.String("alert-webhook-token", "", "bearer `token` for --alert-webhook (prefer the variable)")
	infAck := c.fs.Duration("infack-within", 4*time.Hour, "alert when no InfAck arrives within this `duration` of sending")
	busAck := c.fs.Duration("busack-within", 72*time.Hour, "alert when no BusAck arrives within this `duration` of the InfAck")
	poll := c.fs.Duration("poll", time.Minute, "inbox poll `interval` (live MESH: at most every 5 minutes)")
	track := c.fs.Duration("track", 15*time.Minute, "MESH tracking `interval` per sent report")
	lease := c.fs.Duration("lease", 10*time.Minute, "how long a claim on a report lasts before another worker (or this one after a crash) takes it over")
	recheck := c.fs.Duration("recheck-after", 10*time.Minute, "after an ambiguous send, wait this `long` before searching the MESH outbox for it")
	sendEvery := c.fs.Duration("send-interval", 5*time.Second, "`interval` between outbox scans (new submissions through the API are sent at once)")
	handshake := c.fs.Duration("handshake-interval", mesh.DefaultHandshakeInterval, "`interval` between MESH handshakes, the first at start (MESH asks for one a day)")
	dropDir := c.fs.String("drop-dir", "", "MESH client OUT `folder` to watch for .ctl/.dat pairs (legacy file drop)")
	dropSent := c.fs.String("drop-sent-dir", "", "`folder` for sent pairs and their status .ctl files (default: SENT beside --drop-dir)")
	var timeouts timeoutFlags
	timeouts.register(c.fs)
	c.windowFlags()
	if _, err := c.parse(env, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	lim, err := timeouts.limits("send run", "gpcm send run --help")
	if err != nil {
		return err
	}
	if *alertCmd != "" && *alertHook != "" {
		return usagef("gpcm send run --help", "send run: give --alert-command or --alert-webhook, not both")
	}
	tok := *token
	if *listen != "" && tok == "" {
		return usagef("gpcm send run --help", "send run: --listen needs an API token (--token or GPCM_SEND_TOKEN)")
	}
	cfg := sender.Config{InfAckWithin: *infAck, BusAckWithin: *busAck, PollInterval: *poll, TrackInterval: *track,
		Lease: *lease, RecheckAfter: *recheck, SendInterval: *sendEvery, HandshakeInterval: *handshake}
	c.windows(&cfg)
	if *dropDir != "" {
		cfg.Drop = &sender.FileDrop{Out: *dropDir, Sent: *dropSent}
	}
	switch {
	case *alertCmd != "":
		cfg.Hook = sender.CommandHook{Path: *alertCmd}
	case *alertHook != "":
		cfg.Hook = sender.WebhookHook{URL: *alertHook, Token: *hookToken, Client: &http.Client{Timeout: time.Minute}}
	}
	svc, closeDB, err := c.open(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	log := env.Logger()
	if err := svc.Start(ctx); err != nil {
		return fmt.Errorf("send run: %w", err)
	}
	defer svc.Stop()
	if *listen == "" {
		fmt.Fprintln(env.Stdout, "sender running")
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("send run: listen on %s: %w", *listen, err)
	}
	hs := newHTTPServer(svc.Handler(tok), lim, debugLog(log))
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	fmt.Fprintf(env.Stdout, "http://%s\n", ln.Addr().String())
	log.Info("sender ready", "addr", ln.Addr().String())
	select {
	case err := <-serveErr:
		return fmt.Errorf("send run: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("send run: shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("send run: %w", err)
	}
	return nil
}

func sendList(ctx context.Context, env *Env, args []string) error {
	c := newSendCmd(env, "list", `Usage: gpcm send list --data DIR [--state STATE] [--limit N] [--json]

Lists transmissions, newest first. States: queued, send_unknown, sent,
delivered, infack, complete, failed, overdue, superseded (a newer version
replaced it before it was sent), cancelled. HOLD UNTIL is when a queued
consultation report's edit window closes and it is sent.

Examples:
  gpcm send list --data ./outbox
  gpcm send list --data ./outbox --state overdue --json`, false)
	state := c.fs.String("state", "", "only transmissions in this `state`")
	limit := c.fs.Int("limit", 100, "at most `N` transmissions")
	if _, err := c.parse(env, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	if *state != "" && !validState(*state) {
		return usagef("gpcm send list --help", "send list: unknown state %q", *state)
	}
	svc, closeDB, err := c.open(ctx, env, sender.Config{})
	if err != nil {
		return err
	}
	defer closeDB()
	ts, err := svc.List(ctx, sender.ListParams{State: sender.State(*state), Limit: *limit})
	if err != nil {
		return err
	}
	if c.json {
		return writeSendJSON(env, map[string]any{"transmissions": ts})
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tHOLD UNTIL\tMESH ID\tINFACK\tBUSACK")
	for _, t := range ts {
		hold := "-"
		if t.State == sender.StateQueued && t.Attempts == 0 && t.HoldUntil.After(time.Now()) {
			hold = t.HoldUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.State, t.CreatedAt.Format(time.RFC3339), hold, dash(t.MeshMessageID), codeOrDash(t.InfAckCode), codeOrDash(t.BusAckCode))
	}
	return tw.Flush()
}

func validState(s string) bool {
	for _, st := range sender.States() {
		if string(st) == s {
			return true
		}
	}
	return false
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func codeOrDash(c int) string {
	if c == 0 {
		return "-"
	}
	return fmt.Sprint(c)
}

func writeSendJSON(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func sendShow(ctx context.Context, env *Env, args []string) error {
	c := newSendCmd(env, "show", `Usage: gpcm send show --data DIR [--json] ID

Shows one transmission, its state history with times, and its alerts.

Examples:
  gpcm send show --data ./outbox 3f0c9b9e-5d7a-4a37-9a8e-0d1f2c3b4a5e`, false)
	pos, err := c.parse(env, args, 1, 1, "one transmission ID")
	if err != nil {
		return err
	}
	svc, closeDB, err := c.open(ctx, env, sender.Config{})
	if err != nil {
		return err
	}
	defer closeDB()
	d, err := svc.Detail(ctx, pos[0])
	if errors.Is(err, sender.ErrNotFound) {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("send show: no transmission %s", pos[0])}
	}
	if err != nil {
		return err
	}
	if c.json {
		return writeSendJSON(env, d)
	}
	t := d.Transmission
	fmt.Fprintf(env.Stdout, "Transmission %s\n  state      %s\n  to         %s (%s)\n  header id  %s\n  document   %s version %d\n  MESH id    %s\n",
		t.ID, t.State, t.To, t.WorkflowID, t.HeaderID, dash(t.DocumentID), t.Version, dash(t.MeshMessageID))
	if t.ReplacesID != "" {
		fmt.Fprintf(env.Stdout, "  replaces   %s\n", t.ReplacesID)
	}
	if t.ResendOf != "" {
		fmt.Fprintf(env.Stdout, "  resend of  %s\n", t.ResendOf)
	}
	if t.State == sender.StateQueued && t.Attempts == 0 && t.HoldUntil.After(time.Now()) {
		fmt.Fprintf(env.Stdout, "  waiting    to send until %s (edit window)\n", t.HoldUntil.Format(time.RFC3339))
	}
	if !t.SendBy.IsZero() {
		fmt.Fprintf(env.Stdout, "  send by    %s (GPCM-SD-CS-075)\n", t.SendBy.Format(time.RFC3339))
	}
	if t.SupersededBy != "" {
		fmt.Fprintf(env.Stdout, "  superseded by %s\n", t.SupersededBy)
	}
	if t.LastError != "" {
		fmt.Fprintf(env.Stdout, "  last error %s\n", t.LastError)
	}
	fmt.Fprintln(env.Stdout, "History:")
	for _, e := range d.Events {
		fmt.Fprintf(env.Stdout, "  %s  %-12s → %-12s %s\n", e.At.Format(time.RFC3339), dash(string(e.From)), e.To, e.Note)
	}
	if len(d.Alerts) > 0 {
		fmt.Fprintln(env.Stdout, "Alerts:")
		for _, a := range d.Alerts {
			fmt.Fprintf(env.Stdout, "  #%d %s %s (%s)\n", a.ID, a.Reason, a.Message, a.Delivery)
		}
	}
	return nil
}

func sendAlerts(ctx context.Context, env *Env, args []string) error {
	c := newSendCmd(env, "alerts", `Usage: gpcm send alerts --data DIR [--limit N] [--json]

Lists alerts to a person, newest first: negative InfAck or BusAck, missing
acknowledgements, MESH routing errors (EPL-15x), undelivered messages.

Examples:
  gpcm send alerts --data ./outbox
  gpcm send alerts --data ./outbox --json | jq '.alerts[] | select(.delivery != "delivered")'`, false)
	limit := c.fs.Int("limit", 100, "at most `N` alerts")
	if _, err := c.parse(env, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	svc, closeDB, err := c.open(ctx, env, sender.Config{})
	if err != nil {
		return err
	}
	defer closeDB()
	as, err := svc.Alerts(ctx, sender.AlertFilter{Limit: *limit})
	if err != nil {
		return err
	}
	if c.json {
		return writeSendJSON(env, map[string]any{"alerts": as})
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tREASON\tCODE\tDELIVERY\tMESSAGE")
	for _, a := range as {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.CreatedAt.Format(time.RFC3339), a.Reason, dash(a.Code), a.Delivery, a.Message)
	}
	return tw.Flush()
}

func sendResend(ctx context.Context, env *Env, args []string) error {
	c := newSendCmd(env, "resend", `Usage: gpcm send resend --data DIR ID

Queues a failed or overdue report again, as a new transmission carrying the
same message (a receiver that already has it answers "duplicate" instead of
filing it twice). "gpcm send run" sends it.

Examples:
  gpcm send resend --data ./outbox 3f0c9b9e-5d7a-4a37-9a8e-0d1f2c3b4a5e`, false)
	pos, err := c.parse(env, args, 1, 1, "one transmission ID")
	if err != nil {
		return err
	}
	svc, closeDB, err := c.open(ctx, env, sender.Config{})
	if err != nil {
		return err
	}
	defer closeDB()
	t, err := svc.Resend(ctx, pos[0], "cli")
	if err != nil {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("send resend: %v", err)}
	}
	if c.json {
		return writeSendJSON(env, t)
	}
	fmt.Fprintf(env.Stdout, "queued %s (resend of %s)\n", t.ID, pos[0])
	return nil
}

func sendReplace(ctx context.Context, env *Env, args []string) error {
	c := newSendCmd(env, "replace", `Usage: gpcm send replace --data DIR ID FILE

Queues a corrected version of the report sent as transmission ID: FILE is the
full senddoc JSON input of the new version (same encounter). The new document
gets relatesTo replaces → the previous document identifier
(GPCM-SD-038/039), a version one higher and new identifiers. Send it within
24 hours of the original (GPCM-SD-037). Refused (exit status 1) unless the
original was sent (sent, delivered, acknowledged, complete, or failed with a
business acknowledgement) and no other version replaces it already: what
the web's "Send a corrected version" allows.

Examples:
  gpcm send replace --data ./outbox 3f0c9b9e-5d7a-4a37-9a8e-0d1f2c3b4a5e corrected.json`, false)
	c.routingFlags()
	c.windowFlags()
	pos, err := c.parse(env, args, 2, 2, "a transmission ID and a FILE")
	if err != nil {
		return err
	}
	b, err := readSendFile(env, pos[1])
	if err != nil {
		return err
	}
	sub, err := sender.ParseSubmission(b)
	if err == nil && sub.Input == nil {
		err = &sender.InvalidError{Problems: []senddoc.Problem{{Message: "a replacement must be a senddoc JSON input, not a ready message"}}}
	}
	if err != nil {
		printRefused(env, pos[1], err)
		return &exitError{code: ExitFailure}
	}
	var cfg sender.Config
	c.windows(&cfg)
	svc, closeDB, err := c.open(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	t, err := svc.Replace(ctx, pos[0], *sub.Input, "cli")
	if nr, ok := errors.AsType[*sender.NotReplaceableError](err); ok {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("send replace: %s cannot be replaced: %s", pos[0], nr.Why)}
	}
	if err != nil {
		printRefused(env, pos[1], err)
		return &exitError{code: ExitFailure}
	}
	if c.json {
		return writeSendJSON(env, t)
	}
	fmt.Fprintf(env.Stdout, "queued %s (version %d, replaces %s)\n", t.ID, t.Version, pos[0])
	return nil
}

func sendNow(ctx context.Context, env *Env, args []string) error {
	return sendHold(ctx, env, args, "now", `Usage: gpcm send now --data DIR ID

Sends a consultation report that waits for its edit window at once ("gpcm
send run" picks it up on its next pass). Refused when the report is no
longer waiting (being sent, sent, superseded or cancelled).

Examples:
  gpcm send now --data ./outbox 3f0c9b9e-5d7a-4a37-9a8e-0d1f2c3b4a5e`, "released; it is sent now", (*sender.Service).SendNow)
}

func sendCancel(ctx context.Context, env *Env, args []string) error {
	return sendHold(ctx, env, args, "cancel", `Usage: gpcm send cancel --data DIR ID

Withdraws a report that has not been sent (it waits for its edit window,
or for a retry); it will not be sent. Refused when it is being sent or was
sent: use "gpcm send replace" for a correction then.

Examples:
  gpcm send cancel --data ./outbox 3f0c9b9e-5d7a-4a37-9a8e-0d1f2c3b4a5e`, "cancelled; it will not be sent", (*sender.Service).Cancel)
}

func sendHold(ctx context.Context, env *Env, args []string, name, help, done string, act func(*sender.Service, context.Context, string, string) (sender.Transmission, error)) error {
	c := newSendCmd(env, name, help, false)
	pos, err := c.parse(env, args, 1, 1, "one transmission ID")
	if err != nil {
		return err
	}
	svc, closeDB, err := c.open(ctx, env, sender.Config{})
	if err != nil {
		return err
	}
	defer closeDB()
	t, err := act(svc, ctx, pos[0], "cli")
	switch {
	case errors.Is(err, sender.ErrNotFound):
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("send %s: no transmission %s", name, pos[0])}
	case errors.Is(err, sender.ErrConflict):
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("send %s: transmission %s is not waiting to be sent", name, pos[0])}
	case err != nil:
		return err
	}
	if c.json {
		return writeSendJSON(env, t)
	}
	fmt.Fprintf(env.Stdout, "%s %s\n", t.ID, done)
	return nil
}
