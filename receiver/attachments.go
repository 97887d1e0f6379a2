package receiver

import (
	"bytes"
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/gpcm/gpcm/itk3"
)

// DefaultAttachmentTypes returns the attachment media types a practice
// accepts unless configured otherwise (Config.AttachmentTypes): PDF and
// the image and text formats GP systems file. Executables, scripts and
// HTML are never among them.
func DefaultAttachmentTypes() []string {
	return []string{
		"application/pdf",
		"image/jpeg", "image/png", "image/gif", "image/tiff", "image/bmp",
		"text/plain", "text/rtf", "application/rtf",
	}
}

// dangerousTypes are media types that run code or render active content:
// an attachment of one of these is answered 20004 (non-approved) unless
// the allow-list names it exactly; any other type off the list is 20005
// (unsupported).
var dangerousTypes = []string{
	"application/x-msdownload", "application/x-msdos-program", "application/x-dosexec", "application/vnd.microsoft.portable-executable",
	"application/x-msi", "application/x-ms-installer", "application/x-ms-shortcut", "application/hta", "application/x-executable",
	"application/x-elf", "application/x-mach-binary", "application/x-sharedlib", "application/vnd.android.package-archive",
	"application/x-apple-diskimage", "application/java-archive", "application/x-java-archive", "application/x-sh",
	"application/x-shellscript", "text/x-shellscript", "application/x-csh", "application/x-bat", "application/x-powershell",
	"application/javascript", "application/x-javascript", "application/ecmascript", "text/javascript", "text/ecmascript",
	"text/vbscript", "application/x-python", "text/x-python", "application/x-perl", "text/x-perl", "application/x-php",
	"application/x-httpd-php", "text/x-php", "text/html", "application/xhtml+xml", "image/svg+xml",
}

// CheckAttachmentTypes reports whether types is a valid
// Config.AttachmentTypes (not empty; each type/subtype or type/*).
func CheckAttachmentTypes(types []string) error {
	_, err := newAttachmentPolicy(types)
	return err
}

// attachmentPolicy decides which attachment types a practice accepts.
type attachmentPolicy struct {
	exact map[string]bool // type/subtype
	major map[string]bool // "image" for an "image/*" entry
	order []string        // as configured, for messages
	risky map[string]bool // dangerousTypes
}

// newAttachmentPolicy checks the configured media types: each is
// type/subtype or type/* (parameters are ignored).
func newAttachmentPolicy(types []string) (*attachmentPolicy, error) {
	p := &attachmentPolicy{exact: map[string]bool{}, major: map[string]bool{}, risky: map[string]bool{}}
	for _, t := range dangerousTypes {
		p.risky[t] = true
	}
	for _, raw := range types {
		t, _, err := mime.ParseMediaType(strings.TrimSpace(raw))
		if err != nil || !strings.Contains(t, "/") {
			return nil, fmt.Errorf("receiver: config: AttachmentTypes: %q is not a media type (want type/subtype or type/*)", raw)
		}
		if major, ok := strings.CutSuffix(t, "/*"); ok {
			p.major[major] = true
		} else {
			p.exact[t] = true
		}
		p.order = append(p.order, t)
	}
	if len(p.order) == 0 {
		return nil, fmt.Errorf("receiver: config: AttachmentTypes is empty; a practice must accept at least one type")
	}
	return p, nil
}

// check returns 0 when the attachment may be filed, else the ITK3 code
// and why: 20004 for a type that runs code or renders active content (by
// its declared type, or by its first bytes whatever it declares) and is
// not named on the allow-list, 20005 for any other type not on it.
func (p *attachmentPolicy) check(declared string, data []byte) (itk3.ResponseCode, string) {
	t, _, err := mime.ParseMediaType(strings.TrimSpace(declared))
	if err != nil {
		t = strings.ToLower(strings.TrimSpace(declared))
	}
	if kind := activeContent(data); kind != "" && !(p.exact[t] && p.risky[t]) {
		// Whatever it declares, its bytes run code or render markup; only
		// a type the practice named exactly and that is such content may.
		return itk3.CodeNonApprovedAttachment, fmt.Sprintf("an attachment declared %q is %s", clip(declared, 80), kind)
	}
	major, _, _ := strings.Cut(t, "/")
	switch {
	case p.exact[t]:
		return 0, ""
	case p.risky[t]:
		return itk3.CodeNonApprovedAttachment, fmt.Sprintf("attachment type %q is not approved: it can run code or active content", clip(t, 80))
	case p.major[major]:
		return 0, ""
	}
	return itk3.CodeUnsupportedAttachment, fmt.Sprintf("attachment type %q is not one this practice accepts (%s)", clip(t, 80), strings.Join(p.order, ", "))
}

// activeContent names what an attachment's first bytes are when they are
// an executable, a script or HTML ("" otherwise).
func activeContent(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("MZ")):
		return "a Windows executable"
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "an ELF executable"
	case slices.ContainsFunc([][]byte{{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xcf, 0xfa, 0xed, 0xfe}, {0xce, 0xfa, 0xed, 0xfe}},
		func(m []byte) bool { return bytes.HasPrefix(b, m) }):
		return "a Mach-O executable"
	case bytes.HasPrefix(b, []byte("#!")):
		return "a script"
	}
	head := bytes.ToLower(bytes.TrimLeft(b[:min(len(b), 512)], " \t\r\n\ufeff"))
	for _, tag := range []string{"<!doctype html", "<html", "<script", "<svg"} {
		if bytes.HasPrefix(head, []byte(tag)) {
			return "HTML or script markup"
		}
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// checkAttachments returns the code for the first attachment the practice
// does not accept (20004 before 20005) and the diagnostics naming it by
// position, never by content.
func (r *Receiver) checkAttachments(atts []binaryPart) (itk3.ResponseCode, string) {
	best, diag := itk3.ResponseCode(0), ""
	for i, a := range atts {
		code, why := r.attachments.check(a.ContentType, a.Data)
		if code != 0 && (best == 0 || code < best) {
			best, diag = code, fmt.Sprintf("attachment %d (Binary.contentType): %s", i+1, why)
		}
	}
	return best, diag
}
