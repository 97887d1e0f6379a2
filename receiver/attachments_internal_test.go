package receiver

import (
	"testing"

	"github.com/gpcm/gpcm/itk3"
)

// TestAttachmentPolicy: which attachment types the default allow-list and
// a configured one accept, and the code for the others (20004 for what
// runs code or renders markup, 20005 for anything else off the list).
func TestAttachmentPolicy(t *testing.T) {
	def, err := newAttachmentPolicy(DefaultAttachmentTypes())
	if err != nil {
		t.Fatal(err)
	}
	custom, err := newAttachmentPolicy([]string{"application/pdf", "image/*", "text/html"})
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.7\n")
	rows := []struct {
		name  string
		p     *attachmentPolicy
		ctype string
		data  []byte
		want  itk3.ResponseCode
	}{
		{"PDF accepted", def, "application/pdf", pdf, 0},
		{"parameters and case ignored", def, "Application/PDF; name=report.pdf", pdf, 0},
		{"JPEG accepted", def, "image/jpeg", []byte{0xff, 0xd8, 0xff}, 0},
		{"plain text accepted", def, "text/plain; charset=utf-8", []byte("Notes"), 0},
		{"20004 Windows executable by type", def, "application/x-msdownload", []byte("MZ\x90\x00"), itk3.CodeNonApprovedAttachment},
		{"20004 executable declared a PDF", def, "application/pdf", []byte("MZ\x90\x00"), itk3.CodeNonApprovedAttachment},
		{"20004 ELF declared octet-stream", def, "application/octet-stream", []byte("\x7fELF\x02"), itk3.CodeNonApprovedAttachment},
		{"20004 shell script", def, "application/x-sh", []byte("#!/bin/sh\n"), itk3.CodeNonApprovedAttachment},
		{"20004 script declared text", def, "text/plain", []byte("#!/usr/bin/env python\n"), itk3.CodeNonApprovedAttachment},
		{"20004 JavaScript", def, "text/javascript", []byte("alert(1)"), itk3.CodeNonApprovedAttachment},
		{"20004 HTML", def, "text/html", []byte("<p>hi</p>"), itk3.CodeNonApprovedAttachment},
		{"20004 HTML declared text", def, "text/plain", []byte("  <!DOCTYPE html><html>"), itk3.CodeNonApprovedAttachment},
		{"20004 SVG", def, "image/svg+xml", []byte("<svg/>"), itk3.CodeNonApprovedAttachment},
		{"20005 ZIP", def, "application/zip", []byte("PK\x03\x04"), itk3.CodeUnsupportedAttachment},
		{"20005 Word document", def, "application/msword", []byte{0xd0, 0xcf}, itk3.CodeUnsupportedAttachment},
		{"20005 video", def, "video/mp4", []byte{0, 0, 0, 0x18}, itk3.CodeUnsupportedAttachment},
		{"20005 no type", def, "", []byte("x"), itk3.CodeUnsupportedAttachment},
		{"wildcard family accepted", custom, "image/webp", []byte("RIFF"), 0},
		{"20004 SVG not taken by a wildcard", custom, "image/svg+xml", []byte("<svg/>"), itk3.CodeNonApprovedAttachment},
		{"HTML named exactly accepted", custom, "text/html", []byte("<html>"), 0},
		{"20005 text off a custom list", custom, "text/plain", []byte("x"), itk3.CodeUnsupportedAttachment},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got, why := r.p.check(r.ctype, r.data)
			if got != r.want || (got != 0 && why == "") {
				t.Fatalf("check(%q): got %d %q, want %d", r.ctype, got, why, r.want)
			}
		})
	}
	for _, bad := range [][]string{{"pdf"}, {"application/pdf; ="}, {}} {
		if _, err := newAttachmentPolicy(bad); err == nil {
			t.Errorf("newAttachmentPolicy(%q) accepted", bad)
		}
	}
}
