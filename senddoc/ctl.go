package senddoc

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// ControlFile is a MESH client control file (.ctl), the companion of a .dat
// payload.
type ControlFile struct {
	XMLName     xml.Name `xml:"DTSControl"`
	Version     string   `xml:"Version"`
	AddressType string   `xml:"AddressType"`
	MessageType string   `xml:"MessageType"`
	WorkflowID  string   `xml:"WorkflowId"`
	From        string   `xml:"From_DTS"`
	To          string   `xml:"To_DTS"`
	Subject     string   `xml:"Subject"`
	LocalID     string   `xml:"LocalId"`
	DTSID       string   `xml:"DTSId"`
	Compress    string   `xml:"Compress"`
	Encrypted   string   `xml:"Encrypted"`
	StatusCode  string   `xml:"StatusRecord>StatusCode"`
}

// ReadControlFile parses a .ctl file (at most 1 MiB).
func ReadControlFile(r io.Reader) (ControlFile, error) {
	var c ControlFile
	dec := xml.NewDecoder(io.LimitReader(r, 1<<20))
	dec.Strict = true
	if err := dec.Decode(&c); err != nil {
		return ControlFile{}, fmt.Errorf("senddoc: not a MESH control file (DTSControl): %w", err)
	}
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, p := range []*string{&c.WorkflowID, &c.From, &c.To, &c.Subject, &c.LocalID, &c.MessageType} {
		trim(p)
	}
	return c, nil
}

// Metadata returns the control file's MESH metadata for Options.Mesh.
func (c ControlFile) Metadata() *MeshMetadata {
	return &MeshMetadata{Transport: "ctl", WorkflowID: c.WorkflowID, From: c.From, To: c.To, Subject: c.Subject, LocalID: c.LocalID}
}

// ControlFile returns the .ctl content for a message to be sent with the
// MESH client.
func (e Envelope) ControlFile() ([]byte, error) {
	c := ControlFile{Version: "1.0", AddressType: "DTS", MessageType: "Data", WorkflowID: e.WorkflowID,
		From: e.From, To: e.To, Subject: e.Subject, LocalID: e.LocalID, Compress: "Y", Encrypted: "N"}
	out, err := xml.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}
