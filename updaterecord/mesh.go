package updaterecord

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/gpcm/gpcm/senddoc"
)

// Subject returns the Mex-Subject (and .ctl Subject) of the update. The
// guide's two templates disagree (digest §5.4); this is the digest's
// recommended form: "<title> for <patient>, NHS Number: <nhs>, seen at
// <pharmacy>, ODS code: <ods>, version <n>". It carries patient data:
// never log it.
func (in Input) Subject() string {
	name := strings.Join(append(append([]string(nil), in.Patient.Given...), in.Patient.Family), " ")
	return fmt.Sprintf("%s for %s, NHS Number: %s, seen at %s, ODS code: %s, version %d",
		in.Title(), name, in.Patient.NHSNumber, in.Pharmacy.Name, in.Pharmacy.ODSCode, in.Version)
}

// Envelope returns the MESH values for the input: workflow
// GPCONNECT_UPDATE_RECORD, the patient's GPPROVIDER_ address (MESH routes
// it to the registered practice, UR-B01), the subject and the pharmacy's
// ODS code as local ID.
func (in Input) Envelope() (senddoc.Envelope, error) {
	to, err := senddoc.GPProviderAddress(in.Patient.NHSNumber, in.Patient.BirthDate, in.Patient.Family)
	if err != nil {
		return senddoc.Envelope{}, fmt.Errorf("updaterecord: %w", err)
	}
	return senddoc.Envelope{
		WorkflowID: Workflow, AckWorkflowID: WorkflowAck,
		From: in.SenderMailbox, To: to, Subject: in.Subject(), LocalID: in.Pharmacy.ODSCode,
	}, nil
}

// ControlFile returns the MESH client .ctl for the message. Its Version is
// the update's version, 1 then +1 per replacement (UR-B08), not the
// control-file version Send Document writes.
func (b *Built) ControlFile() ([]byte, error) {
	e := b.Envelope
	c := senddoc.ControlFile{Version: strconv.Itoa(b.Version), AddressType: "DTS", MessageType: "Data", WorkflowID: e.WorkflowID,
		From: e.From, To: e.To, Subject: e.Subject, LocalID: e.LocalID, Compress: "Y", Encrypted: "N"}
	out, err := xml.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}
