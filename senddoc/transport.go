package senddoc

import "strings"

// MESH transport metadata (Mex-Subject, Mex-LocalID, Mex-From, Mex-To, the
// workflow ID and their .ctl fields: digest area C) is the sender's
// obligation towards MESH, not part of the ITK3 header (MessageHeader and
// handling specification) nor of the payload. A receiver never rejects a
// message for it: the inventory classes these requirements as warnings
// without a response code, and a receiver records them as findings on the
// document. A sender must still get them right: a sender treats a transport
// finding as blocking (Finding.Transport).

// Transport reports whether r is a MESH transport metadata requirement.
func (r Requirement) Transport() bool { return strings.HasPrefix(r.Area, "C") }

// Transport reports whether the finding is about MESH transport metadata
// (see Requirement.Transport): a warning for a receiver, which never
// rejects for it, and an error for a sender, which must not send it.
func (f Finding) Transport() bool {
	r, ok := inventoryIndex[f.Requirement]
	return ok && r.Transport()
}
