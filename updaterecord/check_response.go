package updaterecord

import (
	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/itk3"
)

// checkResponse checks an ITK3 response (ITK008M) to an Update Record
// (digest §6): flags false, SenderReference echoed, response pointing at
// the original MessageHeader, a code in the ranges the guide expects and a
// diagnostics text on a negative one.
func (c *checker) checkResponse() {
	mh, p := c.mh, c.header.path
	if ev := mh.Event; ev.System.String() != itk3.MessageEventSystem {
		c.fail("UR-C04", p+".event", "a response's MessageHeader.event must be %s from %s", itk3.EventResponse, itk3.MessageEventSystem)
	}
	c.checkSender()
	c.checkHandling(itk3.HandlingRules{})
	h, _ := itk3.ReadHandling(mh)
	if o := c.opts.Original; o != nil && o.SenderReference != "" && h.SenderReference != o.SenderReference {
		c.fail("UR-C15", p+".extension(MessageHandling).SenderReference", "the response's SenderReference differs from the original message's")
	}
	if m := c.opts.Mesh; m != nil && m.WorkflowID != WorkflowAck {
		c.fail("UR-B03", "MESH.WorkflowID", "the MESH workflow ID of a response is %q; it must be %s", m.WorkflowID, WorkflowAck)
	}
	r := mh.Response
	if r == nil {
		c.fail(RuleITK3Response, p+".response", "an ITK008M response needs MessageHeader.response")
		return
	}
	switch id := r.Identifier.String(); {
	case id == "":
		c.fail(RuleITK3Response, p+".response.identifier", "response.identifier must hold the original MessageHeader.id (or %s)", itk3.UnreadableIdentifier)
	case c.opts.Original != nil && c.opts.Original.MessageHeaderID != "" && id != c.opts.Original.MessageHeaderID:
		c.fail(RuleITK3Response, p+".response.identifier", "response.identifier is not the original MessageHeader.id")
	}
	oo, code := c.outcome(r)
	switch {
	case oo == nil && r.Code.String() != "ok":
		c.fail(RuleITK3Response, p+".response.details", "a negative response must carry an ITK-Response-OperationOutcome-1 with the ITK3 response code")
		return
	case oo == nil:
		return
	case !hasProfile(oo.res, itk3.ResponseOutcomeProfile):
		c.fail(RuleITK3Response, oo.path+".meta.profile", "the OperationOutcome must declare %s", itk3.ResponseOutcomeProfile)
	}
	if code == 0 {
		c.fail(RuleITK3Response, oo.path+".issue", "the OperationOutcome carries no code from %s", itk3.ResponseCodeSystem)
		return
	}
	if rt := r.Code.String(); rt != code.ResponseType() {
		c.fail(RuleITK3Response, p+".response.code", "response.code is %q but %s is %s", rt, code, code.ResponseType())
	}
	if code.Class() == itk3.ClassBusAck && code > itk3.CodePatientRecentlyDeceased {
		c.warn(RuleITK3Response, oo.path+".issue", "%s is outside the business codes an Update Record expects (30001–30003, and 30004)", code)
	}
	if !code.Positive() {
		diag := ""
		for _, is := range oo.res.(*fhir.OperationOutcome).Issue {
			if is != nil && diag == "" {
				diag = is.Diagnostics.String()
			}
		}
		if diag == "" {
			c.fail("UR-F03", oo.path+".issue.diagnostics", "a negative response must explain the error in OperationOutcome.issue.diagnostics")
		}
	}
}

// outcome finds the response's OperationOutcome and its first ITK3 code.
func (c *checker) outcome(r *fhir.MessageHeaderResponse) (*entry, itk3.ResponseCode) {
	oo := c.resolve(r.Details)
	if oo == nil || oo.typ != "OperationOutcome" {
		oo = nil
		for _, e := range c.outer {
			if e.typ == "OperationOutcome" {
				oo = e
				break
			}
		}
	}
	if oo == nil {
		return nil, 0
	}
	for _, is := range oo.res.(*fhir.OperationOutcome).Issue {
		if is == nil {
			continue
		}
		for _, cd := range codings(is.Details) {
			if cd.System.String() == itk3.ResponseCodeSystem {
				if code, err := itk3.ParseResponseCode(cd.Code.String()); err == nil {
					return oo, code
				}
			}
		}
	}
	return oo, 0
}
