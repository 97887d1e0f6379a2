package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

const meshHelp = `Usage: gpcm mesh <subcommand> [flags] [arguments]

Talk to a MESH mailbox over the MESH API v2 (mutual TLS, NHSMESH tokens).

Subcommands:
  handshake                 check the mailbox can connect and authenticate
  send --to MB --workflow WF FILE|-   send a message; prints its message ID
  inbox [--workflow WF] [--all]       list message IDs, one per line
  get ID [-o FILE] [--ack]  download a message (body to stdout or FILE)
  ack ID                    acknowledge a downloaded message
  count                     number of messages in the inbox
  track ID                  tracking record of a message you sent
  lookup ODS WORKFLOW       mailboxes of an organisation for a workflow
  workflows WORKFLOW        mailboxes registered to receive a workflow

` + meshConnHelp + `

Run "gpcm mesh <subcommand> --help" for its flags.

Examples:
  export MESH_URL=https://msg.intspineservices.nhs.uk MESH_MAILBOX=X26ABC1
  export MESH_PASSWORD=... MESH_SHARED_KEY=... MESH_CERT=client.pem MESH_KEY=client.key MESH_CA=nhs-int-ca-bundle.pem
  gpcm mesh handshake
  gpcm mesh send --to X26ABC2 --workflow GPCONNECT_SEND_DOCUMENT --local-id ref-1 report.xml
  gpcm mesh inbox --all | while read id; do gpcm mesh get "$id" -o "$id.dat" --ack; done
`

func runMesh(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, meshHelp)
		return &exitError{code: ExitUsage}
	}
	subs := map[string]func(context.Context, *Env, []string) error{
		"handshake": meshHandshake, "send": meshSend, "inbox": meshInbox, "get": meshGet, "ack": meshAck,
		"count": meshCount, "track": meshTrack, "lookup": meshLookup, "workflows": meshWorkflows,
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, meshHelp)
		return flag.ErrHelp
	}
	run, ok := subs[args[0]]
	if !ok {
		return usagef("gpcm mesh --help", "mesh: unknown subcommand %q", args[0])
	}
	return run(ctx, env, args[1:])
}

// meshCmd is the common part of every mesh subcommand.
type meshCmd struct {
	name string
	fs   *flag.FlagSet
	conn meshConn
	json bool
}

func newMeshCmd(env *Env, name, help string) *meshCmd {
	c := &meshCmd{name: name, fs: newFlagSet(env, "mesh "+name, help+"\n\n"+meshConnHelp)}
	c.conn.oneShot = true
	c.conn.register(c.fs)
	c.fs.BoolVar(&c.json, "json", false, "print the result as JSON")
	return c
}

// parse parses args and checks the number of positional arguments.
// Its own flags (what to send, which message) are for this invocation
// only; the connection flags keep their MESH_* variables.
func (c *meshCmd) parse(env *Env, args []string, min, max int, what string) ([]string, error) {
	cmdlineOnlyRest(c.fs)
	pos, err := parseInterspersed(c.fs, env, args)
	if err != nil {
		return nil, err
	}
	if len(pos) < min || len(pos) > max {
		return nil, usagef("gpcm mesh "+c.name+" --help", "mesh %s: want %s, got %d argument(s)", c.name, what, len(pos))
	}
	return pos, nil
}

func (c *meshCmd) printJSON(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func meshHandshake(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "handshake", `Usage: gpcm mesh handshake [flags]

Validate the mailbox: connect with mutual TLS, authenticate, and announce
the client. MESH asks clients to do this at start-up and once a day.

Examples:
  gpcm mesh handshake
  gpcm mesh handshake --url https://localhost:8700 --insecure-skip-verify --mailbox X26ABC1`)
	if _, err := c.parse(env, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	if err := client.Handshake(ctx); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(env, map[string]any{"mailbox": client.Mailbox(), "ok": true})
	}
	fmt.Fprintf(env.Stdout, "mailbox %s: handshake ok\n", client.Mailbox())
	return nil
}

func meshSend(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "send", `Usage: gpcm mesh send --to MAILBOX --workflow ID [flags] FILE|-

Send FILE (or standard input for "-") to a mailbox and print the new message
ID. Messages larger than --chunk-size go in chunks; --compress gzips each
chunk. The first request is never blindly repeated: if its outcome is
unclear the message is looked up by --local-id, so give one.

Examples:
  gpcm mesh send --to X26ABC2 --workflow GPCONNECT_SEND_DOCUMENT --local-id ref-42 report.xml
  gpcm mesh send --to X26ABC2 --workflow TEST_WORKFLOW --compress --filename big.csv big.csv
  tar c docs | gpcm mesh send --to X26ABC2 --workflow TEST_WORKFLOW --filename docs.tar -`)
	var req mesh.SendRequest
	var chunk string
	c.fs.StringVar(&req.To, "to", "", "recipient mailbox `ID` (Mex-To), required")
	c.fs.StringVar(&req.WorkflowID, "workflow", "", "workflow `ID` (Mex-WorkflowID), required")
	c.fs.StringVar(&req.Subject, "subject", "", "subject (Mex-Subject)")
	c.fs.StringVar(&req.LocalID, "local-id", "", "your reference (Mex-LocalID); used to reconcile an unclear send")
	c.fs.StringVar(&req.Filename, "filename", "", "file name for the recipient (Mex-FileName); default FILE's base name")
	c.fs.StringVar(&req.ContentType, "content-type", "", "payload media `type` (Mex-Content-Type)")
	c.fs.StringVar(&req.Checksum, "checksum", "", "checksum passed through (Mex-Content-Checksum), e.g. sha256:HEX")
	c.fs.StringVar(&req.PartnerID, "partner-id", "", "partner ID (Mex-PartnerID)")
	c.fs.StringVar(&req.From, "from", "", "sender mailbox (Mex-From); must be your own")
	c.fs.BoolVar(&req.Compress, "compress", false, "gzip each chunk in transit (Content-Encoding: gzip)")
	c.fs.BoolVar(&req.Encrypted, "encrypted", false, "mark the payload as already encrypted (Mex-Content-Encrypted: Y)")
	c.fs.BoolVar(&req.PayloadCompressed, "payload-compressed", false, "mark the payload itself as compressed (Mex-Content-Compressed: Y)")
	c.fs.StringVar(&chunk, "chunk-size", "20MiB", "payload bytes per chunk (at most 100MB)")
	pos, err := c.parse(env, args, 1, 1, "one FILE or -")
	if err != nil {
		return err
	}
	if req.To == "" || req.WorkflowID == "" {
		return usagef("gpcm mesh send --help", "mesh send: --to and --workflow are required")
	}
	cs, err := parseSize(chunk)
	if err != nil || cs < 1 || cs > mesh.MaxRequestBytes {
		return usagef("gpcm mesh send --help", "mesh send: --chunk-size %q: want 1 byte to 100MB", chunk)
	}
	cfg, err := c.conn.config(env)
	if err != nil {
		return err
	}
	cfg.ChunkSize = cs
	client, err := mesh.NewClient(cfg)
	if err != nil {
		return err
	}
	if pos[0] == "-" {
		req.Body = env.Stdin
	} else {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("mesh send: %w", err)
		}
		defer f.Close()
		req.Body = f
		if req.Filename == "" {
			req.Filename = filepath.Base(pos[0])
		}
	}
	bar := newProgress(env, "sending")
	req.Progress = bar.update
	res, err := client.Send(ctx, req)
	bar.done()
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(env, map[string]any{"message_id": res.MessageID, "chunks": res.Chunks, "bytes": res.Bytes, "reconciled": res.Reconciled})
	}
	fmt.Fprintln(env.Stdout, res.MessageID)
	return nil
}

func meshInbox(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "inbox", `Usage: gpcm mesh inbox [--workflow FILTER] [--all] [flags]

List the IDs of messages waiting in the inbox, one per line, oldest first.
Without --all only the first page (--max, default 500) is listed; with --all
every page is followed to the end. --workflow takes a workflow ID or a MESH
filter: WF, !WF, WF*, !WF*, *WF*, !*WF*.

Examples:
  gpcm mesh inbox
  gpcm mesh inbox --all --workflow GPCONNECT_SEND_DOCUMENT
  gpcm mesh inbox --all --workflow '!*_ACK*' --json`)
	var opts mesh.InboxOptions
	var all bool
	c.fs.StringVar(&opts.WorkflowFilter, "workflow", "", "only messages of this workflow `filter`")
	c.fs.BoolVar(&all, "all", false, "follow every page (past 500 messages)")
	c.fs.IntVar(&opts.MaxResults, "max", 0, "page size, 10 to 5000 (default: the server's, 500)")
	if _, err := c.parse(env, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	if opts.WorkflowFilter != "" {
		if _, err := mesh.ParseWorkflowFilter(opts.WorkflowFilter); err != nil {
			return usagef("gpcm mesh inbox --help", "mesh inbox: --workflow: %v", err)
		}
	}
	if opts.MaxResults != 0 && (opts.MaxResults < mesh.MinInboxPage || opts.MaxResults > mesh.MaxInboxPage) {
		return usagef("gpcm mesh inbox --help", "mesh inbox: --max %d: want 10 to 5000", opts.MaxResults)
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	var ids []string
	more := false
	if all {
		ids, err = client.Inbox(ctx, opts)
	} else {
		var page mesh.InboxResponse
		page, err = client.InboxPage(ctx, opts, "")
		ids, more = page.Messages, page.Links.Next != ""
	}
	if err != nil {
		return err
	}
	if c.json {
		if ids == nil {
			ids = []string{}
		}
		return c.printJSON(env, map[string]any{"messages": ids, "more": more})
	}
	for _, id := range ids {
		fmt.Fprintln(env.Stdout, id)
	}
	if more {
		fmt.Fprintln(env.Stderr, "gpcm: more messages wait beyond this page; use --all to list them")
	}
	return nil
}

// messageJSON is the --json view of a downloaded message's metadata.
type messageJSON struct {
	MessageID    string      `json:"message_id"`
	MessageType  string      `json:"message_type"`
	From         string      `json:"from,omitempty"`
	To           string      `json:"to,omitempty"`
	WorkflowID   string      `json:"workflow_id,omitempty"`
	LocalID      string      `json:"local_id,omitempty"`
	Filename     string      `json:"filename,omitempty"`
	ContentType  string      `json:"content_type,omitempty"`
	Checksum     string      `json:"checksum,omitempty"`
	Chunks       int         `json:"chunks"`
	Bytes        int64       `json:"bytes"`
	File         string      `json:"file,omitempty"`
	Acknowledged bool        `json:"acknowledged"`
	Report       *reportJSON `json:"report,omitempty"`
}

type reportJSON struct {
	Kind              string `json:"kind"`
	LinkedMessageID   string `json:"linked_message_id"`
	StatusCode        string `json:"status_code"`
	StatusEvent       string `json:"status_event,omitempty"`
	StatusDescription string `json:"status_description,omitempty"`
}

func meshGet(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "get", `Usage: gpcm mesh get ID [-o FILE] [--ack] [flags]

Download a message: the body goes to standard output or FILE (written to a
temporary file, synced and renamed when complete). --ack acknowledges the
message only after a complete download. A REPORT (MESH telling you a message
you sent failed) is described on standard error.

Examples:
  gpcm mesh get 20240115103000123456_ABCDEF > report.xml
  gpcm mesh get 20240115103000123456_ABCDEF -o report.xml --ack
  gpcm mesh get 20240115103000123456_ABCDEF -o report.xml --json`)
	var out string
	var ack bool
	c.fs.StringVar(&out, "o", "", "write the body to `FILE` instead of standard output")
	c.fs.BoolVar(&ack, "ack", false, "acknowledge after a complete download")
	pos, err := c.parse(env, args, 1, 1, "one message ID")
	if err != nil {
		return err
	}
	if c.json && out == "" {
		return usagef("gpcm mesh get --help", "mesh get: --json prints metadata on standard output, so it needs -o FILE for the body")
	}
	if !mesh.ValidMessageID(pos[0]) {
		return usagef("gpcm mesh get --help", "mesh get: %q is not a message ID", pos[0])
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	d, err := client.Get(ctx, pos[0])
	if err != nil {
		return err
	}
	defer d.Close()
	bar := newProgress(env, "receiving")
	src := &countingReader{r: d, f: func(n int64) { bar.update(n, -1) }}
	if out == "" {
		_, err = io.Copy(env.Stdout, src)
	} else {
		err = writeFileAtomic(out, src)
	}
	bar.done()
	if err != nil {
		return fmt.Errorf("mesh get %s: %w", pos[0], err)
	}
	m := d.Message
	view := messageJSON{MessageID: m.ID, MessageType: m.Type, From: m.From, To: m.To, WorkflowID: m.WorkflowID, LocalID: m.LocalID,
		Filename: m.Filename, ContentType: m.ContentType, Checksum: m.Checksum, Chunks: d.Chunks(), Bytes: d.BytesRead(), File: out}
	if r, ok := m.Report(); ok {
		view.Report = &reportJSON{Kind: r.Kind.String(), LinkedMessageID: r.LinkedMessageID, StatusCode: r.StatusCode,
			StatusEvent: r.StatusEvent, StatusDescription: r.StatusDescription}
		if !c.json {
			fmt.Fprintf(env.Stderr, "gpcm: %s is a REPORT (%s) about message %s: code %s %s\n", m.ID, r.Kind, r.LinkedMessageID,
				r.StatusCode, r.StatusDescription)
		}
	}
	if ack {
		if err := client.Ack(ctx, pos[0]); err != nil {
			return fmt.Errorf("downloaded but not acknowledged: %w", err)
		}
		view.Acknowledged = true
	}
	if c.json {
		return c.printJSON(env, view)
	}
	return nil
}

// writeFileAtomic writes r to path via a temporary file in the same
// directory, synced before the rename, so a partial file never appears.
func writeFileAtomic(path string, r io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func meshAck(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "ack", `Usage: gpcm mesh ack ID [flags]

Acknowledge a message: MESH removes it from the inbox and tells the sender it
was collected. Do this only once you have stored the message safely.

Examples:
  gpcm mesh ack 20240115103000123456_ABCDEF`)
	pos, err := c.parse(env, args, 1, 1, "one message ID")
	if err != nil {
		return err
	}
	if !mesh.ValidMessageID(pos[0]) {
		return usagef("gpcm mesh ack --help", "mesh ack: %q is not a message ID", pos[0])
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	if err := client.Ack(ctx, pos[0]); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(env, map[string]any{"message_id": pos[0], "acknowledged": true})
	}
	return nil
}

func meshCount(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "count", `Usage: gpcm mesh count [flags]

Print the number of messages waiting in the inbox.

Examples:
  gpcm mesh count
  gpcm mesh count --json`)
	if _, err := c.parse(env, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	n, err := client.Count(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(env, map[string]any{"count": n})
	}
	fmt.Fprintln(env.Stdout, n)
	return nil
}

func meshTrack(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "track", `Usage: gpcm mesh track ID [flags]

Print the tracking record of a message you sent: its status (uploading,
accepted, acknowledged, undeliverable, error), recipient and times.

Examples:
  gpcm mesh track 20240115103000123456_ABCDEF
  gpcm mesh track 20240115103000123456_ABCDEF --json`)
	pos, err := c.parse(env, args, 1, 1, "one message ID")
	if err != nil {
		return err
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	t, err := client.Track(ctx, pos[0])
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(env, t)
	}
	for _, kv := range [][2]string{{"message_id", t.MessageID}, {"status", t.Status}, {"recipient", t.Recipient},
		{"workflow_id", t.WorkflowID}, {"local_id", t.LocalID}, {"upload_timestamp", t.UploadTimestamp},
		{"status_timestamp", t.StatusTimestamp}, {"status_code", t.StatusCode}, {"status_description", t.StatusDescription},
		{"expiry_time", t.ExpiryTime}} {
		if kv[1] != "" {
			fmt.Fprintf(env.Stdout, "%s: %s\n", kv[0], kv[1])
		}
	}
	return nil
}

func meshLookup(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "lookup", `Usage: gpcm mesh lookup ODS_CODE WORKFLOW [flags]

Find the mailboxes an organisation uses to receive a workflow. Prints
"MAILBOX<TAB>NAME" lines.

Examples:
  gpcm mesh lookup A12345 GPCONNECT_SEND_DOCUMENT
  gpcm mesh lookup X26 TEST_WORKFLOW --json`)
	pos, err := c.parse(env, args, 2, 2, "ODS_CODE and WORKFLOW")
	if err != nil {
		return err
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	res, err := client.Lookup(ctx, pos[0], pos[1])
	if err != nil {
		return err
	}
	return c.printResults(env, res)
}

func meshWorkflows(ctx context.Context, env *Env, args []string) error {
	c := newMeshCmd(env, "workflows", `Usage: gpcm mesh workflows WORKFLOW [flags]

List the mailboxes registered to receive a workflow. Prints
"MAILBOX<TAB>NAME" lines.

Examples:
  gpcm mesh workflows GPCONNECT_SEND_DOCUMENT
  gpcm mesh workflows TEST_WORKFLOW --json`)
	pos, err := c.parse(env, args, 1, 1, "one WORKFLOW")
	if err != nil {
		return err
	}
	client, err := c.conn.client(env)
	if err != nil {
		return err
	}
	res, err := client.WorkflowSearch(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.printResults(env, res)
}

func (c *meshCmd) printResults(env *Env, res []mesh.LookupResult) error {
	if c.json {
		if res == nil {
			res = []mesh.LookupResult{}
		}
		return c.printJSON(env, map[string]any{"results": res})
	}
	for _, r := range res {
		fmt.Fprintf(env.Stdout, "%s\t%s\n", r.MailboxID, r.MailboxName)
	}
	return nil
}

// progress draws a one-line transfer meter on a terminal's stderr once a
// transfer passes progressMin bytes; elsewhere it stays silent.
type progress struct {
	env   *Env
	verb  string
	start time.Time
	last  time.Time
	shown bool
}

const progressMin = 4 << 20

func newProgress(env *Env, verb string) *progress {
	return &progress{env: env, verb: verb, start: time.Now()}
}

func (p *progress) update(n, total int64) {
	if !p.env.StderrIsTerminal || n < progressMin {
		return
	}
	now := time.Now()
	if p.shown && now.Sub(p.last) < 200*time.Millisecond && (total < 0 || n < total) {
		return
	}
	p.last, p.shown = now, true
	rate := float64(n) / max(now.Sub(p.start).Seconds(), 0.001) / (1 << 20)
	if total > 0 {
		const width = 30
		fill := int(float64(width) * float64(n) / float64(total))
		fmt.Fprintf(p.env.Stderr, "\r%s [%s%s] %s / %s %5.1f MiB/s ", p.verb, strings.Repeat("#", fill), strings.Repeat(".", width-fill),
			humanBytes(n), humanBytes(total), rate)
	} else {
		fmt.Fprintf(p.env.Stderr, "\r%s %s %5.1f MiB/s ", p.verb, humanBytes(n), rate)
	}
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprintln(p.env.Stderr)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

type countingReader struct {
	r io.Reader
	n int64
	f func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 {
		c.f(c.n)
	}
	return n, err
}
