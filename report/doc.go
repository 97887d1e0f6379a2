// Package report renders the GP Connect Messaging consultation report PDF,
// following the NHS layout for Consultation Summary documents, from a plain
// Go value into an io.Writer.
//
// # Layout
//
// Every page has a frame, an information bar (NHS Light Blue, "Version x",
// "Number of related documents: x", "Page x of y"), the patient block
// (name in a larger font as "SURNAME, Forename(s) (Title)", DOB as
// dd-Mmm-yyyy, NHS No as ### ### ####, home/registered address, telephone
// numbers, and a current address and telephone only when the patient is at a
// temporary location; the name is set at 13 pt, or at 11.5 or 10 pt when it
// would not fit on one line, GPCM-SD-CS-014), the CLINICAL NOTES bar (NHS Blue) and a footer
// ("Confidential: personal data", "Page x of y"). The first page adds the
// banner (NHS, CONSULTATION REPORT, - Confidential: personal data -, GP
// Connect) and the Consulting Organisation block (clinician, organisation
// telephone and email, branch location, organisation, consultation date,
// receiving GP practice). The notes are the fixed Summary Reason, then each
// Section (bold title in the title column, notes tab-aligned in the notes
// column, a blank line between items), then Follow-up Actions. Notes flow
// onto continuation pages, which repeat the information bar and the patient
// block (continuation pages print "Mobile:" as the layout does); a section
// split over a page break repeats its title with "(continued)".
//
// Deviations from the layout file, on purpose: the page is A4 by default
// (Renderer.PageSize selects US Letter, the size of the Excel export); the
// NHS logo is drawn as text; Gender, which the 2021 layout dropped but
// Send Document payloads carry, is shown above the telephone numbers when
// set; an empty telephone hides its label.
//
// A confidential consultation (Consultation.Confidential) withholds the
// fields the layout marks confidential and prints ConfidentialNotes instead
// of the notes; a confidential Item prints ConfidentialItem.
//
// # Errors
//
// Render refuses input it cannot print with a *FieldError (errors.Is
// ErrInvalid: version below 1, no patient name, no NHS number), a report
// longer than MaxPages with ErrTooLong, and turns a failure inside the PDF
// library into ErrRender instead of a panic. Error texts name fields, never
// their values.
//
// # Output
//
// Text is set in the Go fonts (golang.org/x/image/font/gofont, BSD licence),
// embedded as subsets with a Unicode map, so pdftotext and screen readers get
// the text back, including names with diacritics. Characters the Go fonts do
// not cover (for example CJK) print as empty boxes. The output is
// deterministic: creation and modification dates come from the input
// (Consultation.Created), resource catalogues are sorted and there is no
// random document ID, so rendering the same value twice gives the same bytes.
//
// # PDF library
//
// The PDF is written with codeberg.org/go-pdf/fpdf, chosen after comparing
// the candidates on the Go module proxy:
//
//   - codeberg.org/go-pdf/fpdf (v0.12.0, May 2026): the maintained home of
//     go-pdf/fpdf, itself the maintained fork of jung-kurt/gofpdf (archived
//     2019); the github.com/go-pdf/fpdf copy was archived in March 2025
//     (last release v0.9.0, 2023) when the project moved to Codeberg. The
//     root package imports only the standard library, embeds TrueType fonts
//     from memory with subsetting and Unicode text, and has explicit switches
//     for reproducible output (SetCreationDate, SetModificationDate,
//     SetCatalogSort). MIT licence.
//   - github.com/signintech/gopdf (v0.33.0, July 2025): maintained and able
//     to embed TrueType fonts, but has no text wrapping or page-flow
//     helpers and stamps the current time unless told otherwise; it would
//     need more of our own code for the same result.
//   - github.com/johnfercher/maroto/v2: a grid/report layer on top of an fpdf
//     fork; more than a fixed layout needs, with more dependencies.
//   - github.com/pdfcpu/pdfcpu: maintained, but aimed at processing existing
//     PDFs; creating laid-out documents goes through its JSON/form layer.
//
// The package does its own layout (line wrapping, pagination, continuation
// pages) before drawing, so the total page count is known when each page is
// drawn and "Page x of y" needs no placeholder substitution.
package report
