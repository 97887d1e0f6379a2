package meshbench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ServerOptions say how to start "gpcm mesh-server" as a child process.
type ServerOptions struct {
	// Command is the gpcm executable.
	Command string
	// Listen is the address, default "127.0.0.1:0"; it must be loopback.
	Listen string
	// DataDir holds the server's state; it is created if needed.
	DataDir string
	// Config is the --config file; if empty one is written into DataDir
	// declaring Mailboxes with Password and SharedKey.
	Config    string
	Mailboxes []string
	Password  string
	SharedKey string
	// Args are extra arguments for mesh-server.
	Args []string
	// Log receives the server's stderr; nil discards it. Its log level is
	// warn unless GPCM_LOG_LEVEL is set in Env.
	Log io.Writer
	// Env is added to the child's environment.
	Env []string
	// Ready bounds the wait for the ready line; default 1 minute.
	Ready time.Duration
}

// ServerProcess is a running "gpcm mesh-server".
type ServerProcess struct {
	URL    string // from the ready line
	CAFile string // DataDir/tls/ca.pem when the server generated its certificate
	PID    int

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// serverConfig is the start-contract JSON of gpcm mesh-server.
type serverConfig struct {
	SharedKey string          `json:"shared_key"`
	Mailboxes []serverMailbox `json:"mailboxes"`
}

type serverMailbox struct {
	ID       string `json:"id"`
	Password string `json:"password"`
}

// StartServer starts the server and waits for its ready line. The child is
// killed if this process dies (Linux) and by Kill or Stop.
func StartServer(ctx context.Context, o ServerOptions) (*ServerProcess, error) {
	if o.Command == "" || o.DataDir == "" {
		return nil, errors.New("meshbench: StartServer needs Command and DataDir")
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if err := RequireLoopback("https://" + o.Listen); err != nil {
		return nil, err
	}
	if o.Ready <= 0 {
		o.Ready = time.Minute
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("meshbench: server data directory: %w", err)
	}
	if o.Config == "" {
		c := serverConfig{SharedKey: o.SharedKey}
		for _, id := range o.Mailboxes {
			c.Mailboxes = append(c.Mailboxes, serverMailbox{ID: id, Password: o.Password})
		}
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		o.Config = filepath.Join(o.DataDir, "meshbench-config.json")
		if err := os.WriteFile(o.Config, b, 0o600); err != nil {
			return nil, fmt.Errorf("meshbench: server config: %w", err)
		}
	}
	args := append([]string{"mesh-server", "--listen", o.Listen, "--data", o.DataDir, "--config", o.Config}, o.Args...)
	cmd := exec.Command(o.Command, args...)
	cmd.Env = append(os.Environ(), "GPCM_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, o.Env...)
	cmd.SysProcAttr = childAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	cmd.Stderr = o.Log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("meshbench: start %s: %w", o.Command, err)
	}
	p := &ServerProcess{PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, br) // until the child exits
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t := time.NewTimer(o.Ready)
	defer t.Stop()
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, "http") {
			p.Kill()
			return nil, fmt.Errorf("meshbench: mesh-server did not start (stdout %q; exit %v)", line, p.waitErr)
		}
		p.URL = line
	case <-t.C:
		p.Kill()
		return nil, fmt.Errorf("meshbench: mesh-server printed no URL within %v", o.Ready)
	case <-ctx.Done():
		p.Kill()
		return nil, ctx.Err()
	}
	if ca := filepath.Join(o.DataDir, "tls", "ca.pem"); fileExists(ca) {
		p.CAFile = ca
	}
	return p, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Kill sends SIGKILL and waits for the process to end.
func (p *ServerProcess) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM, waits up to grace for a clean exit, then kills.
// It returns the exit error of a process that did not stop cleanly.
func (p *ServerProcess) Stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.waitErr
	case <-t.C:
		p.Kill()
		return fmt.Errorf("meshbench: mesh-server did not stop within %v; killed", grace)
	}
}

// Memory returns the process's peak and current resident memory.
func (p *ServerProcess) Memory() (Memory, error) { return ProcessMemory(p.PID) }

// Exited is closed when the process has ended.
func (p *ServerProcess) Exited() <-chan struct{} { return p.done }
