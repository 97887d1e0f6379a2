package sender

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gpcm/gpcm/mesh"
	"github.com/gpcm/gpcm/senddoc"
)

// FileDrop is a folder of MESH client (Java) files for legacy integrations:
// a report is a NAME.dat payload (the ITK3 message) with a NAME.ctl control
// file (senddoc.ControlFile). Write the .dat first, then the .ctl.
type FileDrop struct {
	// Out is the folder scanned for .ctl/.dat pairs.
	Out string
	// Sent receives, per pair, the .dat and a status .ctl: the control file
	// with a StatusRecord (SUCCESS once MESH accepted it, with DTSId = the
	// MESH message ID; ERROR with a code and description otherwise).
	// Default: a SENT folder beside Out.
	Sent string
}

func (d FileDrop) sentDir() string {
	if d.Sent != "" {
		return d.Sent
	}
	return filepath.Join(filepath.Dir(filepath.Clean(d.Out)), "SENT")
}

// statusControl is a .ctl written back with its StatusRecord.
type statusControl struct {
	XMLName     xml.Name     `xml:"DTSControl"`
	Version     string       `xml:"Version"`
	AddressType string       `xml:"AddressType"`
	MessageType string       `xml:"MessageType"`
	From        string       `xml:"From_DTS"`
	To          string       `xml:"To_DTS"`
	Subject     string       `xml:"Subject"`
	LocalID     string       `xml:"LocalId"`
	DTSID       string       `xml:"DTSId"`
	PartnerID   string       `xml:"PartnerId"`
	Compress    string       `xml:"Compress"`
	Encrypted   string       `xml:"Encrypted"`
	WorkflowID  string       `xml:"WorkflowId"`
	ProcessID   string       `xml:"ProcessId"`
	Checksum    string       `xml:"DataChecksum"`
	IsCompress  string       `xml:"IsCompressed"`
	Status      statusRecord `xml:"StatusRecord"`
}

type statusRecord struct {
	DateTime    string `xml:"DateTime"`
	Event       string `xml:"Event"`
	Status      string `xml:"Status"`
	StatusCode  string `xml:"StatusCode"`
	Description string `xml:"Description"`
}

// ScanDrop handles every complete pair in d.Out once: a new pair is
// validated and queued (idempotently: the key is a hash of both files, so a
// rescan never queues it twice); a pair whose transmission MESH accepted or
// refused is moved to d.Sent with its status .ctl. A malformed .ctl, or a
// report the validator refuses, gets an ERROR status at once and nothing is
// sent. It returns how many pairs were finished.
func (s *Service) ScanDrop(ctx context.Context, d FileDrop) (int, error) {
	if d.Out == "" {
		return 0, errors.New("sender: file drop needs an OUT folder")
	}
	ctls, err := filepath.Glob(filepath.Join(d.Out, "*.ctl"))
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(d.sentDir(), 0o750); err != nil {
		return 0, fmt.Errorf("sender: file drop: %w", err)
	}
	n := 0
	var errs []error
	for _, ctlPath := range ctls {
		if ctx.Err() != nil {
			break
		}
		done, err := s.dropOne(ctx, d, ctlPath)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(ctlPath), err))
		}
		if done {
			n++
		}
	}
	return n, errors.Join(errs...)
}

func (s *Service) dropOne(ctx context.Context, d FileDrop, ctlPath string) (bool, error) {
	base := strings.TrimSuffix(filepath.Base(ctlPath), ".ctl")
	datPath := filepath.Join(d.Out, base+".dat")
	sentCtl := filepath.Join(d.sentDir(), base+".ctl")
	if _, err := os.Stat(sentCtl); err == nil {
		// Finished before a crash; only the cleanup is left.
		return true, s.dropFinish(d, base, nil)
	}
	ctlBytes, err := os.ReadFile(ctlPath)
	if err != nil {
		return false, err
	}
	dat, err := os.ReadFile(datPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // the .dat is not there (yet)
	}
	if err != nil {
		return false, err
	}
	now := s.cfg.Now()
	ctl, cerr := senddoc.ReadControlFile(bytes.NewReader(ctlBytes))
	out := statusControl{Version: "1.0", AddressType: "DTS", MessageType: "Data", From: ctl.From, To: ctl.To, Subject: ctl.Subject,
		LocalID: ctl.LocalID, WorkflowID: ctl.WorkflowID, Compress: ctl.Compress, Encrypted: ctl.Encrypted,
		Status: statusRecord{DateTime: now.UTC().Format(mesh.StatusTimestampLayout), Event: mesh.EventSend, Status: "ERROR", StatusCode: mesh.CodeMalformedHeaders}}
	if problem := checkControl(ctl, cerr, s.mailbox()); problem != "" {
		out.Status.Description = "Malformed control file: " + problem
		s.log.Warn("file drop: malformed control file; nothing sent", "file", filepath.Base(ctlPath), "problem", problem)
		return true, s.dropFinish(d, base, &out)
	}
	sub := Submission{Message: dat, Key: "drop:" + hashHex(append(append([]byte{}, ctlBytes...), dat...)),
		Envelope: &senddoc.Envelope{WorkflowID: ctl.WorkflowID, From: ctl.From, To: ctl.To, Subject: ctl.Subject, LocalID: ctl.LocalID}}
	t, _, err := s.Submit(ctx, sub)
	var ie *InvalidError
	switch {
	case errors.As(err, &ie):
		out.Status.StatusCode = mesh.CodeMissingData
		if len(ie.Findings) > 0 {
			out.Status.Description = fmt.Sprintf("Report refused by validation: %s %s", ie.Findings[0].Cite(), ie.Findings[0].Path)
		} else {
			out.Status.Description = "Report refused: " + strings.Join(ie.Messages(), "; ")
		}
		return true, s.dropFinish(d, base, &out)
	case err != nil:
		return false, err
	}
	switch {
	case t.MeshMessageID != "" && t.State != StateQueued && t.State != StateSendUnknown && !(t.State == StateFailed && t.SentAt.IsZero()):
		out.DTSID = t.MeshMessageID
		out.Status.DateTime = t.SentAt.UTC().Format(mesh.StatusTimestampLayout)
		out.Status.Event, out.Status.Status, out.Status.StatusCode = mesh.EventTransfer, "SUCCESS", mesh.CodeSuccess
		out.Status.Description = "Transferred to recipient mailbox"
	case t.State == StateFailed:
		out.Status.StatusCode = mesh.CodeSendFailed
		out.Status.Description = "Send failed: " + t.LastError
	default:
		return false, nil // queued: wait for the send worker
	}
	return true, s.dropFinish(d, base, &out)
}

func checkControl(c senddoc.ControlFile, err error, mailbox string) string {
	switch {
	case err != nil:
		return "not a DTSControl XML document"
	case !strings.EqualFold(c.MessageType, "Data"):
		return "MessageType must be Data"
	case c.To == "":
		return "To_DTS is empty"
	case c.From == "":
		return "From_DTS is empty"
	case mailbox != "" && !strings.EqualFold(c.From, mailbox):
		return "From_DTS is not this sender's mailbox"
	case c.WorkflowID == "":
		return "WorkflowId is empty"
	}
	return ""
}

func (s *Service) mailbox() string {
	if s.cfg.Mesh == nil {
		return ""
	}
	return s.cfg.Mesh.Mailbox()
}

// dropFinish writes the status .ctl (if given) atomically, moves the .dat
// beside it and removes the pair from OUT.
func (s *Service) dropFinish(d FileDrop, base string, status *statusControl) error {
	sent := d.sentDir()
	if status != nil {
		b, err := xml.MarshalIndent(status, "", "  ")
		if err != nil {
			return err
		}
		b = append(append([]byte(xml.Header), b...), '\n')
		tmp := filepath.Join(sent, "."+base+".ctl.tmp")
		if err := os.WriteFile(tmp, b, 0o640); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(sent, base+".ctl")); err != nil {
			return err
		}
	}
	if err := os.Rename(filepath.Join(d.Out, base+".dat"), filepath.Join(sent, base+".dat")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Remove(filepath.Join(d.Out, base+".ctl")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
