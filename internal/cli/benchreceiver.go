package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/gpcm/gpcm/internal/meshbench"
	"github.com/gpcm/gpcm/internal/receiverbench"
	"github.com/gpcm/gpcm/pgstore"
)

const benchReceiverHelp = `
Usage: gpcm bench receiver [flags]

Measure the Generic FHIR Receiver end to end. The command starts
"gpcm mesh-server" as a child process (a fresh data directory, mailboxes
X26ABC1 sending and X26ABC2 the practice), builds --messages distinct
consultation reports with a PDF for patients on the practice register,
and times, in the same run:
  - decode+validate: senddoc validation of every message, one after the
    other in one goroutine (the upper limit);
  - end to end: after every message was sent (untimed), the receiver on
    storage as gpcm receiver opens it (SQLite + files in a fresh directory
    by default) from its first poll until every message is stored,
    acknowledged on MESH, validated, matched, filed and answered with an
    InfAck and a BusAck.
It prints both rates and their ratio, the CPU time per message of this
process (the receiver) and of the MESH server, and checks the worklist and
the sender's inbox (one InfAck and one BusAck per message).

The MESH server shares this machine's CPUs with the receiver here; in
production MESH runs elsewhere. The line "receiver CPU bound" divides the
CPUs by the receiver's own CPU time per message: the rate the receiver
could reach were its CPU time the only limit (a projection, not a
measurement).

Flags:
  --messages N       reports per run (default 2000)
  --runs N           consecutive runs, each on fresh storage and server (default 1)
  --workers N        receiver workers (default: gpcm receiver's)
  --batch N          receiver claim batch (default: gpcm receiver's)
  --postgres URL, --postgres-schema S, --s3 URL
                     the receiver's storage instead of SQLite + files
  --server-bin FILE  gpcm executable for the MESH server (default this program)
  --server-args ARGS extra mesh-server arguments, space-separated
  --json             print one JSON document
  --cpuprofile FILE  write this process's CPU profile (the receiver's side
                     and the decode+validate loop) to FILE for go tool pprof

Exit status: 0 when every run completed and checked, 1 otherwise, 2 for a
usage error.

Examples:
  gpcm bench receiver
  gpcm bench receiver --messages 5000 --runs 3
  gpcm bench receiver --json
`

type benchReceiverRun struct {
	Run                 int     `json:"run"`
	Messages            int     `json:"messages"`
	MessageBytes        int     `json:"message_bytes"`
	DecodeValidatePerS  float64 `json:"decode_validate_msgs_per_sec"`
	DecodeValidateCPUms float64 `json:"decode_validate_cpu_ms_per_msg"`
	EndToEndPerS        float64 `json:"end_to_end_msgs_per_sec"`
	Ratio               float64 `json:"ratio"`
	ReceiverCPUms       float64 `json:"receiver_cpu_ms_per_msg"`
	MeshServerCPUms     float64 `json:"mesh_server_cpu_ms_per_msg"`
	CPUBoundPerS        float64 `json:"receiver_cpu_bound_msgs_per_sec"`
	CPUBoundRatio       float64 `json:"receiver_cpu_bound_ratio"`
	Filed               int     `json:"filed"`
	Acks                int     `json:"acks"`
	Error               string  `json:"error,omitempty"`
}

func runBenchReceiver(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench receiver", benchReceiverHelp)
	const hint = "gpcm bench receiver --help"
	messages := fs.Int("messages", 2000, "")
	runs := fs.Int("runs", 1, "")
	workers := fs.Int("workers", 0, "")
	batch := fs.Int("batch", 0, "")
	serverBin := fs.String("server-bin", "", "")
	serverArgs := fs.String("server-args", "", "")
	asJSON := fs.Bool("json", false, "")
	cpuProfile := fs.String("cpuprofile", "", "")
	var st storageFlags
	st.register(fs, true)
	// A benchmark's storage is named on its command line, never taken from
	// a service's GPCM_POSTGRES.
	cmdlineOnlyRest(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef(hint, "bench receiver: unexpected argument %q", fs.Arg(0))
	case *messages < 1 || *messages > 1_000_000:
		return usagef(hint, "bench receiver: --messages %d: want 1 to 1000000", *messages)
	case *runs < 1 || *runs > 100:
		return usagef(hint, "bench receiver: --runs %d: want 1 to 100", *runs)
	case *workers < 0 || *batch < 0:
		return usagef(hint, "bench receiver: --workers and --batch must not be negative")
	}
	if err := st.check("bench receiver", hint); err != nil {
		return err
	}
	bin, err := serverBinary(*serverBin)
	if err != nil {
		return fmt.Errorf("bench receiver: %w", err)
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return fmt.Errorf("bench receiver: %w", err)
	}
	defer stop()
	if !*asJSON {
		fmt.Fprintf(env.Stdout, "gpcm bench receiver on %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	}
	var rows []benchReceiverRun
	var failed error
	for run := 1; run <= *runs && failed == nil; run++ {
		row, err := benchReceiverOnce(ctx, env, &st, bin, *serverArgs, *messages, *workers, *batch)
		row.Run = run
		if err != nil {
			row.Error = err.Error()
			failed = fmt.Errorf("bench receiver: run %d: %w", run, err)
		}
		rows = append(rows, row)
		if !*asJSON && row.Messages > 0 {
			printReceiverRun(env.Stdout, row)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"cpus": runtime.NumCPU(), "go": runtime.Version(), "runs": rows}); err != nil {
			return err
		}
	}
	if failed != nil {
		return failed
	}
	return nil
}

func benchReceiverOnce(ctx context.Context, env *Env, st *storageFlags, bin, serverArgs string, messages, workers, batch int) (benchReceiverRun, error) {
	var row benchReceiverRun
	const from, to = "X26ABC1", "X26ABC2"
	sp, err := startMeshServer(ctx, env, bin, serverArgs, []string{from, to}, "password", "TestKey")
	if err != nil {
		return row, fmt.Errorf("start the MESH server: %w", err)
	}
	defer sp.stop(ctx, env, false)
	p := sp.proc
	quiet := &Env{Getenv: env.Getenv, Stderr: io.Discard}
	conn := meshConn{url: p.URL, ca: p.CAFile, password: "password", sharedKey: "TestKey", mailbox: from}
	sender, err := conn.client(quiet)
	if err != nil {
		return row, err
	}
	conn.mailbox = to
	practice, err := conn.client(quiet)
	if err != nil {
		return row, err
	}
	dataDir, err := os.MkdirTemp("", "gpcm-bench-receiver-")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dataDir)
	db, err := st.openDB(ctx, dataDir, "receiver.db", pgstore.Options{MinConns: 4})
	if err != nil {
		return row, err
	}
	defer db.Close()
	blobs, err := st.openBlobs(ctx, dataDir, db)
	if err != nil {
		return row, err
	}
	res, err := receiverbench.Run(ctx, receiverbench.Options{Messages: messages, Sender: sender, Practice: practice,
		Store: db.Receiver(), Blobs: blobs, Workers: workers, Batch: batch, Logger: env.loggerAt(slog.LevelWarn),
		MeshCPU: func() (time.Duration, error) { return meshbench.ProcessCPU(p.PID) }})
	row.Messages, row.MessageBytes, row.Filed, row.Acks = res.Messages, res.MessageBytes, res.Filed, res.Acks
	row.DecodeValidatePerS = round(res.Rate(res.DecodeValidate), 1)
	row.DecodeValidateCPUms = ms(res.PerMessage(res.DecodeValidate.CPU))
	row.EndToEndPerS = round(res.Rate(res.EndToEnd), 1)
	row.Ratio = round(res.Ratio(), 3)
	row.ReceiverCPUms = ms(res.PerMessage(res.EndToEnd.CPU))
	row.MeshServerCPUms = ms(res.PerMessage(res.MeshCPU))
	if cpu := res.PerMessage(res.EndToEnd.CPU); cpu > 0 && row.DecodeValidatePerS > 0 {
		row.CPUBoundPerS = round(float64(runtime.GOMAXPROCS(0))*float64(time.Second)/float64(cpu), 1)
		row.CPUBoundRatio = round(row.CPUBoundPerS/row.DecodeValidatePerS, 3)
	}
	return row, err
}

func printReceiverRun(w io.Writer, r benchReceiverRun) {
	fmt.Fprintf(w, "run %d: %d consultation reports of %d bytes (PDF attached), patients on the register\n", r.Run, r.Messages, r.MessageBytes)
	fmt.Fprintf(w, "  decode+validate (1 goroutine): %8.1f msgs/s   %.3f ms CPU per message\n", r.DecodeValidatePerS, r.DecodeValidateCPUms)
	fmt.Fprintf(w, "  receiver end to end:           %8.1f msgs/s   receiver %.3f ms CPU per message, MESH server %.3f ms\n",
		r.EndToEndPerS, r.ReceiverCPUms, r.MeshServerCPUms)
	fmt.Fprintf(w, "  ratio end to end / decode+validate: %.3f\n", r.Ratio)
	if r.CPUBoundPerS > 0 {
		fmt.Fprintf(w, "  receiver CPU bound (CPUs / receiver CPU per message, MESH elsewhere): %.1f msgs/s = %.3f of decode+validate (projection)\n",
			r.CPUBoundPerS, r.CPUBoundRatio)
	}
	if r.Filed > 0 || r.Acks > 0 {
		fmt.Fprintf(w, "  afterwards: %d documents awaiting filing, %d acknowledgements in the sender's inbox\n", r.Filed, r.Acks)
	}
}

// startCPUProfile writes this process's CPU profile to path until the
// returned stop is called; an empty path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
