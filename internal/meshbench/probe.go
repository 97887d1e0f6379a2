package meshbench

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// DiskProbe measures how long the disk takes to make a small write
// durable while a benchmark runs: every interval it overwrites 4 KiB of a
// file of its own and syncs it, as a database commit does. A run whose
// latency tail coincides with slow flushes was held back by the disk
// (another tenant's writes, a database checkpoint), not by the server's
// CPU; on a shared machine this tells the two apart.
type DiskProbe struct {
	f     *os.File
	every time.Duration
	stop  chan struct{}
	done  chan struct{}

	mu   sync.Mutex
	lat  Latencies
	errs int
}

// probeBlocks is how many 4 KiB blocks the probe's file cycles through.
const probeBlocks = 64

// StartDiskProbe starts probing in dir (put it on the disk the server or
// its database writes to) every interval until Stop.
func StartDiskProbe(dir string, every time.Duration) (*DiskProbe, error) {
	if every <= 0 {
		return nil, fmt.Errorf("meshbench: disk probe interval %v: want a positive duration", every)
	}
	f, err := os.CreateTemp(dir, "gpcm-disk-probe-*")
	if err != nil {
		return nil, fmt.Errorf("meshbench: disk probe: %w", err)
	}
	block := make([]byte, 4096)
	for i := range probeBlocks {
		if _, err := f.WriteAt(block, int64(i)*4096); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("meshbench: disk probe: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("meshbench: disk probe: %w", err)
	}
	p := &DiskProbe{f: f, every: every, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop(block)
	return p, nil
}

func (p *DiskProbe) loop(block []byte) {
	defer close(p.done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		block[0] = byte(i)
		t0 := time.Now()
		_, err := p.f.WriteAt(block, int64(i%probeBlocks)*4096)
		if err == nil {
			err = p.f.Sync()
		}
		d := time.Since(t0)
		p.mu.Lock()
		if err != nil {
			p.errs++
		} else {
			p.lat.Record(d)
		}
		p.mu.Unlock()
	}
}

// Take returns the flush latencies since the previous Take (or the start)
// and how many probes failed, and starts a new window.
func (p *DiskProbe) Take() (Summary, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, errs := p.lat.Summary(), p.errs
	p.lat, p.errs = Latencies{}, 0
	return s, errs
}

// Stop ends the probe and removes its file.
func (p *DiskProbe) Stop() error {
	close(p.stop)
	<-p.done
	err := p.f.Close()
	if rerr := os.Remove(p.f.Name()); err == nil {
		err = rerr
	}
	return err
}
