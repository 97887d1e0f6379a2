package receiver_test

import (
	"bytes"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/testutil"
	"github.com/gpcm/gpcm/itk3"
	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/senddoc"
)

// dirSize sums the sizes of the files under dir (files removed while it
// walks are skipped).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// TestGzipBomb is issue 17 §4: a 200 MiB message that gzip makes about
// 200 kB on the wire, a real consultation report padded with whitespace,
// is never decompressed beyond the receiver's limit. The receiver's data
// directory (SQLite database and payload files), sampled throughout,
// stays under 110 % of the limit; no payload file of it remains; the
// sender gets 20015 naming the report's MessageHeader.id; a clean report
// sent behind it is filed as usual.
func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("gzips and unpacks 200 MiB")
	}
	const limit = 20 << 20
	const padding = 200 << 20
	dir := t.TempDir()
	e := mustEnvWith(t, envOptions{dataDir: dir}, func(c *receiver.Config) { c.MaxMessageBytes = limit })

	in := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	e.register(t, regOf(in))
	bomb := mustBuild(t, in)
	x := mustXML(t, bomb)
	end := bytes.LastIndex(x, []byte("</Bundle>"))
	body := io.MultiReader(bytes.NewReader(x[:end]), testutil.Filler(' ', padding), bytes.NewReader(x[end:]))
	size := int64(len(x)) + padding
	res, err := e.sender.Send(t.Context(), mesh.SendRequest{To: practiceMailbox, WorkflowID: bomb.Envelope.WorkflowID,
		Subject: bomb.Envelope.Subject, LocalID: "X26", Compress: true, Body: body, Size: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bomb: %d bytes in %d gzip chunks", size, res.Chunks)
	in2 := example(senddoc.UseCaseConsultation, senddoc.GenerationV1)
	in2.Patient.NHSNumber = "9434765870"
	e.register(t, regOf(in2))
	clean := mustBuild(t, in2)
	e.sendBuilt(t, clean)

	var (
		mu      sync.Mutex
		peak    int64
		samples int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			n := dirSize(dir)
			mu.Lock()
			peak, samples = max(peak, n), samples+1
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	e.run(t)
	close(stop)
	wg.Wait()
	t.Logf("data directory: peak %d bytes over %d samples (limit %d); %d bytes afterwards", peak, samples, limit, dirSize(dir))
	if peak >= limit*11/10 {
		t.Errorf("data directory peaked at %d bytes, want under 110 %% of the %d-byte limit", peak, limit)
	}
	var left []string
	_ = filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("payload files left: %v", left)
	}
	m, err := e.store.GetMessageByMeshID(t.Context(), res.MessageID)
	if err != nil || !m.TooLarge || m.State != receiver.MessageRejected {
		t.Errorf("bomb message: %+v, %v; want rejected as too large", m, err)
	}
	if p, err := e.store.MessagePayload(t.Context(), res.MessageID); err != nil || len(p) > 64<<10 {
		t.Errorf("kept head: %d bytes, %v; want at most 64 KiB", len(p), err)
	}
	e.readAcks(t)
	if got := e.codes(bomb.HeaderID); !slices.Equal(got, []itk3.ResponseCode{itk3.CodeMessageTooLarge}) {
		t.Errorf("acks for the bomb %s: got %v, want [20015]", bomb.HeaderID, got)
	}
	if got := e.codes(clean.HeaderID); !slices.Equal(got, []itk3.ResponseCode{itk3.CodeSuccess, itk3.CodePatientKnown}) {
		t.Errorf("acks for the report behind it: got %v, want [20013 30001]", got)
	}
}
