package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gpcm/gpcm/internal/meshbench"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/pgstore"
)

const benchHelp = `
Usage: gpcm bench mesh [flags]
       gpcm bench receiver [flags]   (see gpcm bench receiver --help)

Measure a MESH server end to end: --senders concurrent senders post
--messages messages (in total) of --size bytes from the first mailbox of
--mailboxes to the second, while one receiver lists the inbox, downloads
each message (checked byte for byte) and acknowledges it. Reported:
messages/s, MB/s and latency percentiles of the send call and of send →
acknowledged. By default the senders send as fast as they can (the
latency is then mostly queueing at saturation); --rate R offers R msgs/s
open-loop instead, counting latencies from each message's due time, to
measure latency at a given load. With --runs N the load is repeated on the same server
(runN/run1 shows whether it slows as the store fills); with --vs URL2 the
same load alternates between both servers in this process and the ratio
ours/theirs is printed. --large SIZE instead sends one chunked message of
SIZE and downloads it, next to "dd if=/dev/zero bs=1M conv=fsync" of the
same size on the same disk, and reports the ratio.

--spawn starts "gpcm mesh-server" itself on 127.0.0.1:0 with a fresh data
directory (mailboxes from --mailboxes), so its peak memory (VmHWM) is
measured; or give --server-pid of a server you started. Only loopback
servers are accepted. Every run stops by itself: after its messages are
acknowledged, when nothing arrives for --idle, or after --max-duration.

--disk-probe DIR overwrites 4 KiB of a file in DIR and syncs it every 10 ms
while the runs go on, and prints how long those flushes took in each run:
put DIR on the disk the server (or its database) writes to. On a shared
machine it tells a latency tail caused by the disk (another tenant, a
database checkpoint) from one caused by the server.

` + meshConnHelp + `
  (--mailboxes A,B replaces --mailbox: A sends, B receives.)
  --vs-* flags set the second server's connection; unset ones are taken
  from the first.

Exit status: 0 when every run completed, 1 if a run failed (figures of the
runs before are still printed), 2 for a usage error.

Examples:
  gpcm bench mesh --spawn --senders 8 --messages 5000 --size 4KiB --runs 3
  gpcm bench mesh --url https://127.0.0.1:8700 --ca data/tls/ca.pem --password password --shared-key TestKey
  gpcm bench mesh --spawn --runs 3 --vs https://127.0.0.1:8710 --vs-insecure-skip-verify --json
  gpcm bench mesh --spawn --large 1GiB
  gpcm bench mesh --spawn --rate 800 --messages 8000 --runs 3
`

type benchFlags struct {
	cpuProfile         string
	warm               bool
	conn, vsConn       meshConn
	mailboxes          string
	vsURL, vsMailboxes string
	senders, messages  int
	workers, runs      int
	size, large        string
	workflow           string
	spawn, keep, json  bool
	serverBin, ddDir   string
	serverArgs         string
	serverPID          int
	idle, maxDuration  time.Duration
	seed               uint64
	rate               float64
	allowLost          bool
	diskProbe          string
}

func runBench(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench", benchHelp)
	if len(args) == 0 {
		return usagef("gpcm bench --help", "bench: name what to measure: gpcm bench mesh|receiver [flags]")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		return parseFlags(fs, env, []string{"--help"})
	case "mesh":
	case "receiver":
		return runBenchReceiver(ctx, env, args[1:])
	default:
		return usagef("gpcm bench --help", "bench: unknown benchmark %q (want: mesh or receiver)", args[0])
	}
	return runBenchMesh(ctx, env, args[1:])
}

func runBenchMesh(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench mesh", benchHelp)
	var f benchFlags
	c := &f.conn
	fs.StringVar(&c.configFile, "mesh-config", "", "`file` of MESH_* settings (KEY=VALUE lines)")
	fs.StringVar(&c.url, "url", "", "MESH base `URL` (loopback only)")
	fs.StringVar(&c.password, "password", "", "mailbox `password` (both mailboxes); with --spawn default \"password\"")
	fs.StringVar(&c.sharedKey, "shared-key", "", "environment shared `secret`; with --spawn default \"TestKey\"")
	fs.StringVar(&c.cert, "cert", "", "client certificate PEM `file`")
	fs.StringVar(&c.key, "key", "", "client key PEM `file`")
	fs.StringVar(&c.ca, "ca", "", "CA bundle PEM `file` for the server certificate")
	fs.BoolVar(&c.insecure, "insecure-skip-verify", false, "do not verify the server certificate (loopback only)")
	fs.IntVar(&c.retries, "retries", 4, "retries of idempotent requests after transient failures")
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "wait at most this long for each response to start")
	fs.StringVar(&f.mailboxes, "mailboxes", "X26ABC1,X26ABC2", "sending and receiving mailbox `IDs`, comma-separated")
	fs.StringVar(&f.vsURL, "vs", "", "second server's base `URL` to run the same load against, alternately")
	fs.StringVar(&f.vsMailboxes, "vs-mailboxes", "", "mailbox `IDs` on the second server (default --mailboxes)")
	fs.StringVar(&f.vsConn.password, "vs-password", "", "mailbox `password` on the second server")
	fs.StringVar(&f.vsConn.sharedKey, "vs-shared-key", "", "shared `secret` of the second server")
	fs.StringVar(&f.vsConn.ca, "vs-ca", "", "CA bundle PEM `file` for the second server")
	fs.BoolVar(&f.vsConn.insecure, "vs-insecure-skip-verify", false, "do not verify the second server's certificate")
	fs.IntVar(&f.senders, "senders", 8, "concurrent senders (each with its own connection)")
	fs.IntVar(&f.messages, "messages", 5000, "messages per run, in total over all senders")
	fs.StringVar(&f.size, "size", "4KiB", "payload `bytes` per message (KiB/MiB/KB/MB suffixes)")
	fs.IntVar(&f.workers, "download-workers", 0, "concurrent downloads of the receiver (default 2 × --senders: each message costs it two requests)")
	fs.Float64Var(&f.rate, "rate", 0, "offer the load open-loop at this many `msgs/s` in total, latencies counted from each message's due time (0: senders send as fast as they can)")
	fs.BoolVar(&f.warm, "warm", true, "open every client connection (a MESH handshake each) before a run's clock starts, so that TLS set-up is not counted as message latency; --warm=false counts it")
	fs.BoolVar(&f.allowLost, "allow-lost", false, "count messages that got 202 but never arrive within --idle as lost instead of failing the run (to compare with a server that loses messages)")
	fs.IntVar(&f.runs, "runs", 1, "consecutive runs on the same server(s)")
	fs.StringVar(&f.workflow, "workflow", "GPFED_CONSULT_REPORT", "workflow `ID` of the messages")
	fs.StringVar(&f.large, "large", "", "instead: send and download one message of this `size` (e.g. 1GiB) against a dd baseline")
	fs.StringVar(&f.ddDir, "dd-dir", "", "`directory` for the dd baseline (default the spawned server's data dir, else the temp dir)")
	fs.BoolVar(&f.spawn, "spawn", false, "start gpcm mesh-server on 127.0.0.1:0 with a temporary data directory and measure its memory")
	fs.StringVar(&f.serverBin, "server-bin", "", "gpcm `executable` for --spawn (default this program)")
	fs.StringVar(&f.serverArgs, "server-args", "", "extra `arguments` for the spawned mesh-server, space-separated (e.g. \"--postgres URL\")")
	fs.BoolVar(&f.keep, "keep", false, "keep the spawned server's data directory")
	fs.IntVar(&f.serverPID, "server-pid", 0, "`PID` of the server to report peak memory of (without --spawn)")
	fs.DurationVar(&f.idle, "idle", time.Minute, "fail a run when nothing is acknowledged for this long")
	fs.DurationVar(&f.maxDuration, "max-duration", 30*time.Minute, "stop everything after this long")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of payloads and local IDs (default from the clock)")
	fs.BoolVar(&f.json, "json", false, "print one JSON document instead of text")
	fs.StringVar(&f.diskProbe, "disk-probe", "", "`directory` on the server's disk: time a 4 KiB write + sync there every 10 ms and print the flush latencies of each run")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write this process's CPU profile (the load driver's side) to `file` for go tool pprof")
	// The connection takes MESH_* variables as gpcm mesh does; the load's
	// own flags are for this run only.
	nameMeshVars(fs)
	cmdlineOnlyRest(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(f.cpuProfile)
	if err != nil {
		return fmt.Errorf("bench mesh: %w", err)
	}
	defer stopProfile()
	hint := "gpcm bench mesh --help"
	if fs.NArg() > 0 {
		return usagef(hint, "bench mesh: unexpected argument %q", fs.Arg(0))
	}
	size, err := parseSize(f.size)
	if err != nil || size < 1 {
		return usagef(hint, "bench mesh: --size %q: want at least 1 byte, e.g. 4KiB", f.size)
	}
	var large int64
	if f.large != "" {
		if large, err = parseSize(f.large); err != nil || large < 1 {
			return usagef(hint, "bench mesh: --large %q: want a size such as 1GiB", f.large)
		}
	}
	from, to, err := splitMailboxes(f.mailboxes)
	if err != nil {
		return usagef(hint, "bench mesh: --mailboxes: %v", err)
	}
	vsFrom, vsTo := from, to
	if f.vsMailboxes != "" {
		if vsFrom, vsTo, err = splitMailboxes(f.vsMailboxes); err != nil {
			return usagef(hint, "bench mesh: --vs-mailboxes: %v", err)
		}
	}
	switch {
	case f.senders < 1 || f.senders > 256:
		return usagef(hint, "bench mesh: --senders %d: want 1 to 256", f.senders)
	case f.messages < 1 || f.messages > 10_000_000:
		return usagef(hint, "bench mesh: --messages %d: want 1 to 10000000", f.messages)
	case f.workers < 0 || f.workers > 512:
		return usagef(hint, "bench mesh: --download-workers %d: want 1 to 512 (0: twice --senders)", f.workers)
	case f.rate < 0 || f.rate > 1e6:
		return usagef(hint, "bench mesh: --rate %g: want 0 (as fast as possible) to 1000000 msgs/s", f.rate)
	case f.runs < 1 || f.runs > 100:
		return usagef(hint, "bench mesh: --runs %d: want 1 to 100", f.runs)
	case f.spawn && f.conn.url != "":
		return usagef(hint, "bench mesh: --spawn starts its own server: drop --url")
	case f.serverArgs != "" && !f.spawn:
		return usagef(hint, "bench mesh: --server-args needs --spawn")
	case f.spawn && f.serverPID != 0:
		return usagef(hint, "bench mesh: --spawn measures the server it starts: drop --server-pid")
	case large > 0 && f.vsURL != "":
		return usagef(hint, "bench mesh: --large measures one server: drop --vs")
	case f.idle <= 0 || f.maxDuration <= 0:
		return usagef(hint, "bench mesh: --idle and --max-duration must be positive")
	}
	if f.workers == 0 {
		f.workers = 2 * f.senders
	}
	if f.vsURL != "" {
		if err := meshbench.RequireLoopback(f.vsURL); err != nil {
			return usagef(hint, "bench mesh: --vs: %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, f.maxDuration)
	defer cancel()
	rep := &benchReport{
		Machine: benchMachine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()},
		Load: benchLoad{Senders: f.senders, Messages: f.messages, Size: size, DownloadWorkers: f.workers, Rate: f.rate,
			From: from, To: to, Workflow: f.workflow, Runs: f.runs, Large: large},
		Ratios: map[string]float64{},
	}

	// Ours: spawned, or --url.
	var proc *meshbench.ServerProcess
	ours := benchTarget{name: "ours", conn: f.conn, from: from, to: to}
	if f.spawn {
		bin, err := serverBinary(f.serverBin)
		if err != nil {
			return fmt.Errorf("bench mesh: --spawn: %w", err)
		}
		boxes := []string{from}
		if to != from {
			boxes = append(boxes, to)
		}
		sp, err := startMeshServer(ctx, env, bin, f.serverArgs, boxes,
			firstNonEmpty(f.conn.password, "password"), firstNonEmpty(f.conn.sharedKey, "TestKey"))
		if err != nil {
			return fmt.Errorf("bench mesh: --spawn: %w", err)
		}
		defer sp.stop(ctx, env, f.keep)
		p, dir := sp.proc, sp.dir
		proc = p
		ours.conn.url, ours.conn.ca = p.URL, p.CAFile
		ours.conn.password, ours.conn.sharedKey = firstNonEmpty(f.conn.password, "password"), firstNonEmpty(f.conn.sharedKey, "TestKey")
		ours.desc = "gpcm mesh-server started by bench (pid " + fmt.Sprint(p.PID) + ", data " + dir + ")"
		if f.serverArgs != "" {
			ours.desc += " with " + redactURLs(f.serverArgs)
		}
		if sp.schema != "" {
			ours.desc += ", PostgreSQL schema " + sp.schema + " (dropped afterwards unless --keep)"
		}
		if f.ddDir == "" {
			f.ddDir = dir
		}
	}
	oursCfg, err := ours.config(env)
	if err != nil {
		return usagef(hint, "bench mesh: %v", err)
	}
	if err := meshbench.RequireLoopback(oursCfg.URL); err != nil {
		return usagef(hint, "bench mesh: %v", err)
	}
	ours.url = oursCfg.URL
	rep.Targets = append(rep.Targets, benchTargetJSON{Name: ours.name, URL: ours.url, Note: ours.desc})
	targets := []*benchTarget{&ours}
	if f.vsURL != "" {
		theirs := benchTarget{name: "theirs", conn: f.conn, from: vsFrom, to: vsTo, url: f.vsURL}
		theirs.conn.url = f.vsURL
		theirs.conn.ca, theirs.conn.insecure = f.vsConn.ca, f.vsConn.insecure
		theirs.conn.password = firstNonEmpty(f.vsConn.password, ours.conn.password)
		theirs.conn.sharedKey = firstNonEmpty(f.vsConn.sharedKey, ours.conn.sharedKey)
		if _, err := theirs.config(env); err != nil {
			return usagef(hint, "bench mesh: --vs: %v", err)
		}
		rep.Targets = append(rep.Targets, benchTargetJSON{Name: theirs.name, URL: theirs.url})
		targets = append(targets, &theirs)
	}
	pid := f.serverPID
	if proc != nil {
		pid = proc.PID
	}

	if !f.json {
		fmt.Fprintf(env.Stdout, "gpcm bench mesh on %s/%s, %d CPUs, %s\n", rep.Machine.OS, rep.Machine.Arch, rep.Machine.CPUs, rep.Machine.Go)
		for _, t := range targets {
			fmt.Fprintf(env.Stdout, "%-6s  %s %s\n", t.name+":", t.url, t.desc)
		}
	}
	var runErr error
	if large > 0 {
		runErr = benchLarge(ctx, env, &f, &ours, large, rep)
	} else {
		runErr = benchLoads(ctx, env, &f, targets, size, rep, pid)
	}
	if pid != 0 {
		if m, err := meshbench.ProcessMemory(pid); err == nil {
			rep.ServerMemory = &benchMemory{PID: pid, PeakBytes: m.Peak, CurrentBytes: m.Current}
			if !f.json {
				fmt.Fprintf(env.Stdout, "server memory (pid %d): peak RSS (VmHWM) %.1f MiB, RSS now %.1f MiB\n", pid, mib(m.Peak), mib(m.Current))
			}
		} else if !f.json {
			fmt.Fprintf(env.Stdout, "server memory: %v\n", err)
		}
	}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	if f.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("bench mesh: %w", runErr)
	}
	return nil
}

// redactURLs hides passwords in URLs among space-separated arguments.
func redactURLs(args string) string {
	fields := strings.Fields(args)
	for i, a := range fields {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			fields[i] = u.Redacted()
		}
	}
	return strings.Join(fields, " ")
}

func splitMailboxes(s string) (string, string, error) {
	a, b, ok := strings.Cut(s, ",")
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if !ok || a == "" || b == "" || strings.Contains(b, ",") {
		return "", "", fmt.Errorf("%q: want two mailbox IDs, sender then receiver, e.g. X26ABC1,X26ABC2", s)
	}
	return strings.ToUpper(a), strings.ToUpper(b), nil
}

// spawned is a gpcm mesh-server started by a bench.
type spawned struct {
	proc *meshbench.ServerProcess
	dir  string
	// pgURL and schema: the PostgreSQL schema made for this server, when
	// its args name --postgres without --postgres-schema.
	pgURL, schema string
}

// serverBinary is the gpcm to start as the MESH server: bin, or else this
// program.
func serverBinary(bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find this program (give --server-bin): %w", err)
	}
	return exe, nil
}

// startMeshServer starts gpcm mesh-server (bin, with serverArgs) on a
// loopback port in a new temp dir, with the given mailboxes. On PostgreSQL
// without a --postgres-schema of the caller's, it gets a schema of its own,
// so that every bench starts from an empty store as it does on SQLite.
func startMeshServer(ctx context.Context, env *Env, bin, serverArgs string, boxes []string, password, sharedKey string) (*spawned, error) {
	dir, err := os.MkdirTemp("", "gpcm-bench-")
	if err != nil {
		return nil, err
	}
	sp := &spawned{dir: dir}
	args := strings.Fields(serverArgs)
	if u, ok := flagValue(args, "postgres"); ok && u != "" {
		if _, given := flagValue(args, "postgres-schema"); !given {
			var b [6]byte
			_, _ = rand.Read(b[:])
			sp.pgURL, sp.schema = u, "gpcm_bench_"+hex.EncodeToString(b[:])
			args = append(args, "--postgres-schema", sp.schema)
		}
	}
	sp.proc, err = meshbench.StartServer(ctx, meshbench.ServerOptions{
		Command: bin, DataDir: dir, Mailboxes: boxes, Password: password, SharedKey: sharedKey, Args: args, Log: env.Stderr,
	})
	if err != nil {
		sp.remove(ctx, env)
		return nil, err
	}
	return sp, nil
}

// stop stops the server and removes its data directory and schema, or
// with keep says where they are.
func (sp *spawned) stop(ctx context.Context, env *Env, keep bool) {
	_ = sp.proc.Stop(30 * time.Second)
	if !keep {
		sp.remove(ctx, env)
		return
	}
	fmt.Fprintf(env.Stderr, "gpcm bench: server data kept in %s\n", sp.dir)
	if sp.schema != "" {
		fmt.Fprintf(env.Stderr, "gpcm bench: PostgreSQL schema %s kept\n", sp.schema)
	}
}

func (sp *spawned) remove(ctx context.Context, env *Env) {
	os.RemoveAll(sp.dir)
	if sp.schema == "" {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := pgstore.DropSchema(dctx, sp.pgURL, sp.schema); err != nil {
		fmt.Fprintf(env.Stderr, "gpcm bench: %v\n", err)
	}
}

// flagValue finds flag name ("--name V", "--name=V", or with one dash) in
// args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

type benchTarget struct {
	name, url, desc string
	from, to        string
	conn            meshConn
}

func (t *benchTarget) config(env *Env) (mesh.Config, error) {
	c := t.conn
	c.mailbox = t.from
	return c.config(env)
}

// clients returns n sender clients and one receiver client.
func (t *benchTarget) clients(env *Env, n int) ([]meshbench.Sender, meshbench.Receiver, error) {
	var senders []meshbench.Sender
	quiet := &Env{Getenv: env.Getenv, Stderr: io.Discard}
	for range n {
		c := t.conn
		c.mailbox = t.from
		cl, err := c.client(quiet)
		if err != nil {
			return nil, nil, err
		}
		senders = append(senders, cl)
	}
	c := t.conn
	c.mailbox = t.to
	recv, err := c.client(quiet)
	if err != nil {
		return nil, nil, err
	}
	return senders, recv, nil
}

// benchLoads runs the load against each target f.runs times. With pid (of
// our server) not 0 it also reports our server's CPU time per message.
func benchLoads(ctx context.Context, env *Env, f *benchFlags, targets []*benchTarget, size int64, rep *benchReport, pid int) error {
	const rowFmt = "%3s  %-6s  %8s  %8s  %9s  %7s  %9s  %9s  %9s  %9s  %9s  %6s\n"
	if !f.json {
		offered := "as fast as they can"
		if f.rate > 0 {
			offered = fmt.Sprintf("open-loop at %g msgs/s", f.rate)
		}
		fmt.Fprintf(env.Stdout, "load: %d messages of %d B per run, %d senders %s, receiver with %d download workers, %s -> %s, workflow %s\n",
			f.messages, size, f.senders, offered, f.workers, targets[0].from, targets[0].to, f.workflow)
		fmt.Fprintf(env.Stdout, rowFmt, "run", "target", "messages", "seconds", "msgs/s", "MB/s", "send p50", "send p99", "e2e p50", "e2e p99", "e2e max", "errors")
	}
	seed := f.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	var probe *meshbench.DiskProbe
	if f.diskProbe != "" {
		var err error
		if probe, err = meshbench.StartDiskProbe(f.diskProbe, 10*time.Millisecond); err != nil {
			return fmt.Errorf("--disk-probe: %w", err)
		}
		defer probe.Stop()
	}
	byTarget := map[string][]meshbench.Result{}
	for run := 1; run <= f.runs; run++ {
		for _, t := range targets {
			senders, recv, err := t.clients(env, f.senders)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			seed++
			var cpu0 time.Duration
			cpuKnown := false
			if pid != 0 && t.name == "ours" {
				cpu0, err = meshbench.ProcessCPU(pid)
				cpuKnown = err == nil
			}
			if probe != nil {
				probe.Take() // start the run's window
			}
			res, err := meshbench.Run(ctx, meshbench.Load{
				Senders: senders, Receiver: recv, Workers: f.workers, To: t.to, WorkflowID: f.workflow,
				Messages: f.messages, Size: size, Seed: seed, Idle: f.idle, Rate: f.rate, AllowLost: f.allowLost, Warm: f.warm,
			})
			row := benchRunJSON{Run: run, Target: t.name, Messages: res.Messages, Seconds: res.Elapsed.Seconds(),
				MsgsPerSec: round(res.Rate(), 1), MBps: round(res.MBps(), 2),
				SendP50ms: ms(res.Send.P50), SendP99ms: ms(res.Send.P99),
				E2EP50ms: ms(res.EndToEnd.P50), E2EP90ms: ms(res.EndToEnd.P90), E2EP99ms: ms(res.EndToEnd.P99), E2EMaxms: ms(res.EndToEnd.Max),
				InboxP50ms: ms(res.Inbox.P50), InboxP99ms: ms(res.Inbox.P99), DownloadP50ms: ms(res.Download.P50), DownloadP99ms: ms(res.Download.P99),
				AckP50ms: ms(res.Ack.P50), AckP99ms: ms(res.Ack.P99),
				SendErrors: res.SendErrors, Lost: res.Lost, Foreign: res.Foreign, Retried: res.Retried, RetryErrs: res.RetryErrors}
			if err != nil {
				row.Error = err.Error()
			}
			var cpu time.Duration
			if cpu1, cerr := meshbench.ProcessCPU(pid); cpuKnown && cerr == nil && res.Messages > 0 {
				cpu = cpu1 - cpu0
				row.ServerCPUSeconds = round(cpu.Seconds(), 2)
				row.ServerCPUPerMsgMs = round(ms(cpu)/float64(res.Messages), 3)
			}
			var flush meshbench.Summary
			var flushFailed int
			if probe != nil {
				flush, flushFailed = probe.Take()
				row.DiskFlush = &benchDiskFlush{Count: flush.Count, Failed: flushFailed, P50ms: ms(flush.P50), P99ms: ms(flush.P99), Maxms: ms(flush.Max)}
			}
			rep.Runs = append(rep.Runs, row)
			if !f.json {
				fmt.Fprintf(env.Stdout, rowFmt, fmt.Sprint(run), t.name, fmt.Sprint(res.Messages), fmt.Sprintf("%.2f", res.Elapsed.Seconds()),
					fmt.Sprintf("%.1f", res.Rate()), fmt.Sprintf("%.2f", res.MBps()), fmtDur(res.Send.P50), fmtDur(res.Send.P99),
					fmtDur(res.EndToEnd.P50), fmtDur(res.EndToEnd.P99), fmtDur(res.EndToEnd.Max), fmt.Sprint(res.SendErrors))
				if res.Download.Count > 0 {
					fmt.Fprintf(env.Stdout, "     %s: receiving side p50/p99: in inbox %s/%s, download %s/%s, ack %s/%s\n", t.name,
						fmtDur(res.Inbox.P50), fmtDur(res.Inbox.P99), fmtDur(res.Download.P50), fmtDur(res.Download.P99), fmtDur(res.Ack.P50), fmtDur(res.Ack.P99))
				}
				if row.ServerCPUSeconds > 0 {
					fmt.Fprintf(env.Stdout, "     %s: server CPU %.2f s, %.3f ms per message\n", t.name, row.ServerCPUSeconds, row.ServerCPUPerMsgMs)
				}
				if probe != nil {
					fmt.Fprintf(env.Stdout, "     disk flush (4 KiB + sync every 10ms in %s): p50 %s, p99 %s, max %s over %d probes, %d failed\n",
						f.diskProbe, fmtDur(flush.P50), fmtDur(flush.P99), fmtDur(flush.Max), flush.Count, flushFailed)
				}
				if res.Lost > 0 {
					fmt.Fprintf(env.Stdout, "     %s: LOST %d messages: accepted with 202, never in the inbox within %v\n", t.name, res.Lost, f.idle)
				}
				if res.Retried > 0 || res.Foreign > 0 {
					fmt.Fprintf(env.Stdout, "     %s: %d operations retried, %d other messages left in the inbox; errors: %s\n",
						t.name, res.Retried, res.Foreign, strings.Join(res.RetryErrors, "; "))
				}
			}
			if err != nil {
				return fmt.Errorf("run %d against %s (%s): %w", run, t.name, t.url, err)
			}
			byTarget[t.name] = append(byTarget[t.name], res)
		}
	}
	var lines []string
	for _, t := range targets {
		rs := byTarget[t.name]
		if len(rs) >= 2 && rs[0].Rate() > 0 {
			k := fmt.Sprintf("%s run%d/run1", t.name, len(rs))
			rep.Ratios[k] = round(rs[len(rs)-1].Rate()/rs[0].Rate(), 3)
			lines = append(lines, fmt.Sprintf("%s msgs/s: %.3f", k, rep.Ratios[k]))
		}
	}
	if len(targets) == 2 {
		a, b := total(byTarget["ours"]), total(byTarget["theirs"])
		if b.Rate() > 0 {
			rep.Ratios["ours/theirs msgs/s"] = round(a.Rate()/b.Rate(), 2)
			lines = append(lines, fmt.Sprintf("ours/theirs msgs/s over all runs: %.2f (%.1f / %.1f)", rep.Ratios["ours/theirs msgs/s"], a.Rate(), b.Rate()))
		}
		if a.EndToEnd.P99 > 0 {
			rep.Ratios["theirs/ours e2e p99"] = round(float64(b.EndToEnd.P99)/float64(a.EndToEnd.P99), 2)
			lines = append(lines, fmt.Sprintf("theirs/ours e2e p99 latency (worst run): %.2f", rep.Ratios["theirs/ours e2e p99"]))
		}
	}
	if !f.json {
		for _, l := range lines {
			fmt.Fprintln(env.Stdout, l)
		}
	}
	return nil
}

// total sums runs: messages over summed elapsed; latencies are the worst run's.
func total(rs []meshbench.Result) meshbench.Result {
	var t meshbench.Result
	for _, r := range rs {
		t.Messages += r.Messages
		t.Bytes += r.Bytes
		t.Elapsed += r.Elapsed
		t.EndToEnd.P99 = max(t.EndToEnd.P99, r.EndToEnd.P99)
	}
	return t
}

func benchLarge(ctx context.Context, env *Env, f *benchFlags, t *benchTarget, size int64, rep *benchReport) error {
	dir := f.ddDir
	if dir == "" {
		dir = os.TempDir()
	}
	disk, err := meshbench.DiskBaseline(ctx, dir, size)
	if err != nil {
		return err
	}
	senders, recv, err := t.clients(env, 1)
	if err != nil {
		return err
	}
	res, err := meshbench.RunLarge(ctx, meshbench.Large{Sender: senders[0], Receiver: recv, To: t.to, WorkflowID: f.workflow,
		Size: size, Seed: f.seed, Wait: f.idle})
	lj := &benchLargeJSON{Bytes: size, Chunks: res.Chunks, SendSeconds: res.Send.Seconds(), SendMBps: round(res.SendMBps(), 1),
		DownloadSeconds: res.Download.Seconds(), DownloadMBps: round(res.DownloadMBps(), 1),
		DiskCommand: disk.Command, DiskSeconds: disk.Elapsed.Seconds(), DiskMBps: round(disk.MBps(), 1)}
	rep.Large = lj
	if err != nil {
		return err
	}
	if disk.MBps() > 0 {
		lj.SendVsDisk = round(res.SendMBps()/disk.MBps(), 3)
		rep.Ratios["large send/dd"] = lj.SendVsDisk
	}
	if !f.json {
		fmt.Fprintf(env.Stdout, "disk baseline: %s: %.2f s, %.1f MB/s\n", disk.Command, disk.Elapsed.Seconds(), disk.MBps())
		fmt.Fprintf(env.Stdout, "large message: %d B in %d chunks: send %.2f s (%.1f MB/s); list+download+check+ack %.2f s (%.1f MB/s)\n",
			size, res.Chunks, res.Send.Seconds(), res.SendMBps(), res.Download.Seconds(), res.DownloadMBps())
		fmt.Fprintf(env.Stdout, "large send/dd: %.3f\n", lj.SendVsDisk)
	}
	return nil
}

type benchReport struct {
	Machine      benchMachine       `json:"machine"`
	Load         benchLoad          `json:"load"`
	Targets      []benchTargetJSON  `json:"targets"`
	Runs         []benchRunJSON     `json:"runs,omitempty"`
	Large        *benchLargeJSON    `json:"large,omitempty"`
	Ratios       map[string]float64 `json:"ratios"`
	ServerMemory *benchMemory       `json:"server_memory,omitempty"`
	Error        string             `json:"error,omitempty"`
}

type benchMachine struct {
	OS   string `json:"os"`
	Arch string `json:"arch"`
	CPUs int    `json:"cpus"`
	Go   string `json:"go"`
}

type benchLoad struct {
	Senders         int     `json:"senders"`
	Messages        int     `json:"messages"`
	Size            int64   `json:"size_bytes"`
	DownloadWorkers int     `json:"download_workers"`
	From            string  `json:"from"`
	To              string  `json:"to"`
	Workflow        string  `json:"workflow"`
	Runs            int     `json:"runs"`
	Large           int64   `json:"large_bytes,omitempty"`
	Rate            float64 `json:"rate_msgs_per_s,omitempty"`
}

type benchTargetJSON struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Note string `json:"note,omitempty"`
}

type benchRunJSON struct {
	Run        int     `json:"run"`
	Target     string  `json:"target"`
	Messages   int     `json:"messages"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBps       float64 `json:"mb_per_sec"`
	SendP50ms  float64 `json:"send_p50_ms"`
	SendP99ms  float64 `json:"send_p99_ms"`
	E2EP50ms   float64 `json:"e2e_p50_ms"`
	E2EP90ms   float64 `json:"e2e_p90_ms"`
	E2EP99ms   float64 `json:"e2e_p99_ms"`
	E2EMaxms   float64 `json:"e2e_max_ms"`
	// The receiving side: from the 202 until a download starts, the
	// download, the acknowledgement.
	InboxP50ms    float64 `json:"inbox_p50_ms"`
	InboxP99ms    float64 `json:"inbox_p99_ms"`
	DownloadP50ms float64 `json:"download_p50_ms"`
	DownloadP99ms float64 `json:"download_p99_ms"`
	AckP50ms      float64 `json:"ack_p50_ms"`
	AckP99ms      float64 `json:"ack_p99_ms"`
	// ServerCPUSeconds is the user+system CPU time our server process
	// spent during the run (when its PID is known), per message in ms.
	ServerCPUSeconds  float64  `json:"server_cpu_s,omitempty"`
	ServerCPUPerMsgMs float64  `json:"server_cpu_ms_per_msg,omitempty"`
	SendErrors        int      `json:"send_errors"`
	Lost              int      `json:"lost"`
	Foreign           int      `json:"foreign"`
	Retried           int      `json:"retried"`
	RetryErrs         []string `json:"retry_errors,omitempty"`
	Error             string   `json:"error,omitempty"`
	// DiskFlush is what --disk-probe measured during the run.
	DiskFlush *benchDiskFlush `json:"disk_flush,omitempty"`
}

type benchDiskFlush struct {
	Count  int     `json:"count"`
	Failed int     `json:"failed"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	Maxms  float64 `json:"max_ms"`
}

type benchLargeJSON struct {
	Bytes           int64   `json:"bytes"`
	Chunks          int     `json:"chunks"`
	SendSeconds     float64 `json:"send_seconds"`
	SendMBps        float64 `json:"send_mb_per_sec"`
	DownloadSeconds float64 `json:"download_seconds"`
	DownloadMBps    float64 `json:"download_mb_per_sec"`
	DiskCommand     string  `json:"disk_command"`
	DiskSeconds     float64 `json:"disk_seconds"`
	DiskMBps        float64 `json:"disk_mb_per_sec"`
	SendVsDisk      float64 `json:"send_vs_disk"`
}

type benchMemory struct {
	PID          int   `json:"pid"`
	PeakBytes    int64 `json:"peak_rss_bytes"`
	CurrentBytes int64 `json:"rss_bytes"`
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
}
