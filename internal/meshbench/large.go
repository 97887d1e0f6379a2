package meshbench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// Large is one big message sent in chunks and downloaded back.
type Large struct {
	Sender         Sender
	Receiver       Receiver
	To, WorkflowID string
	Size           int64
	Seed           uint64
	// Wait bounds the wait for the message to be listed; default 1 minute.
	Wait time.Duration
}

// LargeResult is what a large run measured.
type LargeResult struct {
	Bytes    int64
	Chunks   int
	Send     time.Duration // Send call: every chunk accepted
	Download time.Duration // listing, download with check, acknowledgement
}

// SendMBps returns the upload rate in megabytes (10^6) per second.
func (r LargeResult) SendMBps() float64 { return mbps(r.Bytes, r.Send) }

// DownloadMBps returns the download rate in megabytes (10^6) per second.
func (r LargeResult) DownloadMBps() float64 { return mbps(r.Bytes, r.Download) }

func mbps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / 1e6 / d.Seconds()
}

// RunLarge sends one message of l.Size bytes, then lists, downloads, checks
// and acknowledges it, timing the two halves.
func RunLarge(ctx context.Context, l Large) (LargeResult, error) {
	if l.Sender == nil || l.Receiver == nil || l.To == "" || l.WorkflowID == "" || l.Size <= 0 {
		return LargeResult{}, errors.New("meshbench: large run needs a sender, a receiver, To, WorkflowID and a positive Size")
	}
	if l.Seed == 0 {
		l.Seed = uint64(time.Now().UnixNano())
	}
	if l.Wait <= 0 {
		l.Wait = time.Minute
	}
	pay := NewPayloads(l.Seed)
	lid := localID(l.Seed, 0)
	t0 := time.Now()
	sr, err := l.Sender.Send(ctx, mesh.SendRequest{To: l.To, WorkflowID: l.WorkflowID, LocalID: lid,
		Filename: "meshbench-large.bin", Body: pay.Reader(0, l.Size), Size: l.Size})
	if err != nil {
		return LargeResult{}, fmt.Errorf("meshbench: large send: %w", err)
	}
	res := LargeResult{Bytes: l.Size, Chunks: sr.Chunks, Send: time.Since(t0)}

	t1 := time.Now()
	deadline := t1.Add(l.Wait)
	for {
		page, err := l.Receiver.InboxPage(ctx, mesh.InboxOptions{MaxResults: mesh.MaxInboxPage}, "")
		if err != nil {
			return res, fmt.Errorf("meshbench: large: inbox: %w", err)
		}
		found := false
		for _, id := range page.Messages {
			if id == sr.MessageID {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("meshbench: large: message %s not listed after %v", sr.MessageID, l.Wait)
		}
		sleep(ctx, 10*time.Millisecond)
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	d, err := l.Receiver.Get(ctx, sr.MessageID)
	if err != nil {
		return res, fmt.Errorf("meshbench: large: download: %w", err)
	}
	err = pay.Check(d, 0, l.Size)
	d.Close()
	if err != nil {
		return res, fmt.Errorf("meshbench: large: message %s: %w", sr.MessageID, err)
	}
	if err := l.Receiver.Ack(ctx, sr.MessageID); err != nil {
		return res, fmt.Errorf("meshbench: large: acknowledge: %w", err)
	}
	res.Download = time.Since(t1)
	return res, nil
}

// DiskResult is the disk baseline: size bytes written and fsynced.
type DiskResult struct {
	Bytes   int64
	Elapsed time.Duration
	Command string // the command run, or "go" for the built-in equivalent
}

// MBps returns the write rate in megabytes (10^6) per second.
func (r DiskResult) MBps() float64 { return mbps(r.Bytes, r.Elapsed) }

// DiskBaseline runs "dd if=/dev/zero of=DIR/dd.bin bs=1M count=N
// conv=fsync" (N = size in MiB, rounded up), timing it, and removes the file.
// Without a dd program it writes the same blocks from Go and fsyncs.
func DiskBaseline(ctx context.Context, dir string, size int64) (DiskResult, error) {
	count := (size + (1<<20 - 1)) >> 20
	path := filepath.Join(dir, "dd.bin")
	defer os.Remove(path)
	res := DiskResult{Bytes: count << 20}
	if dd, err := exec.LookPath("dd"); err == nil {
		args := []string{"if=/dev/zero", "of=" + path, "bs=1M", "count=" + strconv.FormatInt(count, 10), "conv=fsync"}
		res.Command = "dd " + strings.Join(args, " ")
		cmd := exec.CommandContext(ctx, dd, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return res, fmt.Errorf("meshbench: %s: %w: %s", res.Command, err, strings.TrimSpace(stderr.String()))
		}
		res.Elapsed = time.Since(t0)
		return res, nil
	}
	res.Command = "go"
	t0 := time.Now()
	f, err := os.Create(path)
	if err != nil {
		return res, fmt.Errorf("meshbench: disk baseline: %w", err)
	}
	block := make([]byte, 1<<20)
	for range count {
		if err := ctx.Err(); err != nil {
			f.Close()
			return res, err
		}
		if _, err := f.Write(block); err != nil {
			f.Close()
			return res, fmt.Errorf("meshbench: disk baseline: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return res, fmt.Errorf("meshbench: disk baseline: %w", err)
	}
	if err := f.Close(); err != nil {
		return res, fmt.Errorf("meshbench: disk baseline: %w", err)
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// Memory is a process's resident memory from /proc/PID/status.
type Memory struct {
	Peak    int64 // VmHWM, bytes
	Current int64 // VmRSS, bytes
}

// ProcessMemory reads VmHWM and VmRSS of process pid (Linux only).
func ProcessMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("meshbench: memory of process %d: %w", pid, err)
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmHWM" && k != "VmRSS") {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmHWM" {
			m.Peak = n << 10
		} else {
			m.Current = n << 10
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("meshbench: memory of process %d: %w", pid, err)
	}
	if m.Peak == 0 {
		return m, fmt.Errorf("meshbench: memory of process %d: no VmHWM in /proc/%d/status", pid, pid)
	}
	return m, nil
}

// ProcessCPU reads the user plus system CPU time process pid has used so
// far from /proc/PID/stat (Linux only; in USER_HZ ticks, 100 per second).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("meshbench: CPU time of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields after its closing parenthesis.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("meshbench: CPU time of process %d: unexpected /proc/%d/stat", pid, pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("meshbench: CPU time of process %d: short /proc/%d/stat", pid, pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("meshbench: CPU time of process %d: unexpected /proc/%d/stat", pid, pid)
	}
	return time.Duration(ut+st) * (time.Second / 100), nil
}

// RequireLoopback accepts only URLs whose host is a loopback IP address or
// "localhost": load is never driven at a shared or live service.
func RequireLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("meshbench: %q is not a URL such as https://127.0.0.1:8700", raw)
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("meshbench: %s is not a loopback address: benchmarks run only against servers on this machine (127.0.0.1, ::1 or localhost)", u.Host)
}
