package meshserver

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gpcm/gpcm/mesh"
)

// meshTime is a v1 tracking timestamp, yyyyMMddHHmmss (UTC); "" when unknown.
func meshTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(mesh.StatusTimestampLayout)
}

// isoTime is a v2 tracking timestamp: the schema's format date-time (RFC
// 3339, so with a zone: "2020-06-01T12:21:52Z"), as the NHS sandbox returns.
// The specification's own tracking example mixes it with yyyyMMddHHmmss;
// the schema wins. Unknown times are left out (nil), since "" is no
// date-time.
func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func titleStatus(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func trackingBody(t Tracked, v int) map[string]any {
	m, rcpt, snd := t.Message, t.Recipient, t.Sender
	success := m.Status == StatusAccepted || m.Status == StatusAcknowledged || m.Status == StatusUploading
	code, event, desc := m.StatusCode, m.StatusEvent, m.StatusDescription
	if code == "" && success {
		code, event, desc = "00", "TRANSFER", "Transferred to recipient mailbox"
	}
	if v >= 2 {
		body := map[string]any{
			"message_id": m.ID, "local_id": m.LocalID, "workflow_id": m.WorkflowID, "filename": m.FileName,
			"recipient": m.Recipient, "recipient_name": rcpt.Name, "recipient_ods_code": rcpt.ODSCode,
			"recipient_org_code": rcpt.ODSCode, "recipient_org_name": "", "status_success": success,
			"status": m.Status, "status_event": event, "status_description": desc, "status_code": code,
		}
		for k, t := range map[string]time.Time{"expiry_time": m.ExpiresAt, "upload_timestamp": m.CreatedAt, "status_timestamp": m.StatusAt} {
			if ts := isoTime(t); ts != nil {
				body[k] = ts
			}
		}
		return body
	}
	failure := ""
	if !success {
		failure = meshTime(m.StatusAt)
	}
	statusSuccess := "SUCCESS"
	if !success {
		statusSuccess = "ERROR"
	}
	return map[string]any{
		"addressType": "ALL", "checksum": m.Checksum, "chunkCount": m.TotalChunks, "compressFlag": m.Compressed,
		"contentEncoding": m.ContentEncoding, "downloadTimestamp": meshTime(m.AckedAt), "dtsId": m.ID,
		"encryptedFlag": m.Encrypted, "expiryTime": meshTime(m.ExpiresAt), "failureDate": failure,
		"failureDiagnostic": func() string {
			if success {
				return ""
			}
			return desc
		}(),
		"fileName": m.FileName, "fileSize": m.Size, "isCompressed": m.Compressed, "linkedMsgId": m.LinkedMsgID,
		"localId": m.LocalID, "meshRecipientOdsCode": rcpt.ODSCode, "messageId": m.ID, "messageType": m.MessageType,
		"partnerId": m.PartnerID, "recipient": m.Recipient, "recipientName": rcpt.Name,
		"recipientOrgCode": rcpt.ODSCode, "recipientOrgName": "", "recipientSmtp": "", "sender": m.Sender,
		"senderName": snd.Name, "senderOdsCode": snd.ODSCode, "senderOrgCode": snd.ODSCode, "senderOrgName": "",
		"senderSmtp": "", "status": titleStatus(m.Status), "statusCode": code, "statusDescription": desc,
		"statusEvent": event, "statusSuccess": statusSuccess, "statusTimestamp": meshTime(m.StatusAt),
		"subject": m.Subject, "uploadTimestamp": meshTime(m.CreatedAt), "version": "1.0", "workflowId": m.WorkflowID,
	}
}

var errTrackNotFound = errf(http.StatusNotFound, "TRACK", "20", "Message does not exist")

// trackByID reports a sent message's status to its sender only (E9); any
// other caller gets 404, as live.
func (s *Server) trackByID(w http.ResponseWriter, r *http.Request, c *call) error {
	id := strings.ToUpper(r.URL.Query().Get("messageID"))
	if id == "" {
		id = strings.ToUpper(r.URL.Query().Get("message_id"))
	}
	if id == "" {
		return missingFields(errf(http.StatusBadRequest, "", "", "messageID query parameter is required"), field{"query", "messageID"})
	}
	found, err := s.track(r, c, TrackParams{Sender: c.mailbox.ID, ID: id})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return withID(errTrackNotFound, id)
	}
	writeJSON(w, c.version, http.StatusOK, trackingBody(found[0], c.version))
	return nil
}

// track runs Store.Track with c's token.
func (s *Server) track(r *http.Request, c *call, p TrackParams) ([]Tracked, error) {
	return withToken(s, r, c, func(tok *Token) ([]Tracked, error) {
		p.Token = tok
		return s.store.Track(r.Context(), p)
	})
}

// trackByLocalID is the deprecated local-id tracking (D2): v1 body, 300
// when the local id is not unique.
func (s *Server) trackByLocalID(w http.ResponseWriter, r *http.Request, c *call) error {
	msgs, err := s.track(r, c, TrackParams{Sender: c.mailbox.ID, LocalID: r.PathValue("localid")})
	if err != nil {
		return err
	}
	switch len(msgs) {
	case 0:
		return errTrackNotFound
	case 1:
		writeJSON(w, 1, http.StatusOK, trackingBody(msgs[0], 1))
		return nil
	}
	return errf(http.StatusMultipleChoices, "TRACK", "", "local id is not unique")
}

func receivers(mbs []Mailbox, wf string) []Mailbox {
	var out []Mailbox
	for _, mb := range mbs {
		if mb.Active && allowsWorkflow(mb, wf) {
			out = append(out, mb)
		}
	}
	return out
}

// endpointLookup finds the mailboxes of an ODS code receiving a workflow (E10).
func (s *Server) endpointLookup(w http.ResponseWriter, r *http.Request, c *call) error {
	ods, wf := strings.TrimSpace(r.PathValue("ods")), strings.TrimSpace(r.PathValue("workflow"))
	if ods == "" || wf == "" {
		return missingFields(errf(http.StatusBadRequest, "", "", "ODS code and workflow id are required"), field{"path", "ods_code"}, field{"path", "workflow_id"})
	}
	mbs, err := s.store.ListMailboxes(r.Context(), ods)
	if err != nil {
		return err
	}
	found := receivers(mbs, wf)
	if c.version >= 2 {
		res := make([]map[string]string, 0, len(found))
		for _, mb := range found {
			res = append(res, map[string]string{"mailbox_id": mb.ID, "mailbox_name": mb.Name})
		}
		writeJSON(w, c.version, http.StatusOK, map[string]any{"results": res})
		return nil
	}
	res := make([]map[string]string, 0, len(found))
	for _, mb := range found {
		res = append(res, map[string]string{"address": mb.ID, "description": mb.Name, "endpoint_type": "MESH"})
	}
	writeJSON(w, c.version, http.StatusOK, map[string]any{"query_id": s.newMessageID(), "results": res})
	return nil
}

// workflowSearch lists mailboxes that receive a workflow (E11); same shape
// for v1 and v2. Mailboxes accepting any workflow are not listed: they are
// not registered for a particular one.
func (s *Server) workflowSearch(w http.ResponseWriter, r *http.Request, c *call) error {
	wf := strings.TrimSpace(r.PathValue("workflow"))
	if wf == "" {
		return missingFields(errf(http.StatusBadRequest, "", "", "workflow id is required"), field{"path", "workflow_id"})
	}
	mbs, err := s.store.ListMailboxes(r.Context(), "")
	if err != nil {
		return err
	}
	res := []map[string]string{}
	for _, mb := range mbs {
		if mb.Active && slices.Contains(mb.Workflows, wf) {
			res = append(res, map[string]string{"mailbox_id": mb.ID, "mailbox_name": mb.Name})
		}
	}
	writeJSON(w, max(c.version, 2), http.StatusOK, map[string]any{"results": res})
	return nil
}
