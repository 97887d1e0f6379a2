package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/gpcm/gpcm/patient"
)

// Layout constants, in points (1/72 inch).
const (
	fontFamily = "go"

	marginX = 36 // page edge to frame, left and right
	marginY = 30 // page edge to frame, top and bottom

	bannerH   = 40
	infoBarH  = 18
	notesBarH = 16

	sizeBody  = 8.5
	sizeName  = 13
	sizeSmall = 7.5
	lineH     = 11.0 // body line height
	fieldH    = 12.0 // height of one label/value row in the header blocks
	nameH     = 15.0

	labelRight = 92  // right edge of the left labels, from the frame's left
	valueLeft  = 97  // left edge of the left values
	rightLabel = 98  // right edge of the right-hand labels, from the frame's right
	titleLeft  = 8   // notes title column
	titleW     = 134 // notes title column width
	notesLeft  = 150 // notes column, from the frame's left
	innerPad   = 8   // right padding inside the frame
	sectionGap = 11.0
	footerH    = 26
)

var (
	nhsBlue      = [3]int{0x00, 0x5E, 0xB8}
	nhsLightBlue = [3]int{0x41, 0xB6, 0xE6}
	black        = [3]int{0x21, 0x2B, 0x32} // NHS black
	grey         = [3]int{0x42, 0x54, 0x62} // NHS dark grey
	white        = [3]int{0xFF, 0xFF, 0xFF}
)

// defaultCreated is the creation date used when the input has no date at all.
var defaultCreated = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

type document struct {
	f      *fpdf.Fpdf
	c      *Consultation
	draw   bool    // false while measuring
	x0, x1 float64 // frame
	y0, y1 float64
	page   int
	pages  int
}

func newDocument(size PageSize, c *Consultation) (*document, error) {
	sizeStr := "A4"
	if size == Letter {
		sizeStr = "Letter"
	}
	f := fpdf.New("P", "pt", sizeStr, "")
	f.AddUTF8FontFromBytes(fontFamily, "", goregular.TTF)
	f.AddUTF8FontFromBytes(fontFamily, "B", gobold.TTF)
	f.AddUTF8FontFromBytes(fontFamily, "I", goitalic.TTF)
	f.AddUTF8FontFromBytes(fontFamily, "BI", gobolditalic.TTF)
	f.SetCellMargin(0)
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(0, 0, 0)
	f.SetCompression(true)
	f.SetCatalogSort(true)
	created := c.Created
	if created.IsZero() {
		created = c.ConsultationDate
	}
	if created.IsZero() {
		created = defaultCreated
	}
	created = created.UTC()
	f.SetCreationDate(created)
	f.SetModificationDate(created)
	f.SetTitle("Consultation report", true)
	f.SetSubject("GP Connect Messaging consultation report", true)
	f.SetCreator("gpcm", true)
	f.SetProducer("gpcm report", true)
	f.SetLang("en-GB")
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("consultation report: loading fonts: %w", err)
	}
	w, h := f.GetPageSize()
	return &document{f: f, c: c, x0: marginX, x1: w - marginX, y0: marginY, y1: h - marginY}, nil
}

// --- text helpers -----------------------------------------------------------

func (d *document) font(style string, size float64) { d.f.SetFont(fontFamily, style, size) }

func (d *document) color(c [3]int) { d.f.SetTextColor(c[0], c[1], c[2]) }

func (d *document) text(x, baseline float64, s string) {
	if d.draw && s != "" {
		d.f.Text(x, baseline, s)
	}
}

func (d *document) textRight(right, baseline float64, s string) {
	d.text(right-d.f.GetStringWidth(s), baseline, s)
}

func (d *document) textCenter(center, baseline float64, s string) {
	d.text(center-d.f.GetStringWidth(s)/2, baseline, s)
}

func (d *document) fill(c [3]int, x, y, w, h float64) {
	if d.draw {
		d.f.SetFillColor(c[0], c[1], c[2])
		d.f.Rect(x, y, w, h, "F")
	}
}

func (d *document) hline(y float64) {
	if d.draw {
		d.f.SetDrawColor(0, 0, 0)
		d.f.SetLineWidth(0.6)
		d.f.Line(d.x0, y, d.x1, y)
	}
}

// wrap splits s into lines no wider than w in the current font, keeping the
// line breaks of s.
func (d *document) wrap(s string, w float64) []string {
	var out []string
	for _, para := range strings.Split(cleanText(s), "\n") {
		para = strings.TrimRight(para, " ")
		if para == "" {
			out = append(out, "")
			continue
		}
		out = append(out, d.f.SplitText(para, w)...)
	}
	return out
}

// baseline returns the text baseline of a row starting at top with height h
// for a font of the given size.
func baseline(top, h, size float64) float64 { return top + (h+size*0.7)/2 }

// --- fixed blocks -------------------------------------------------------------

func (d *document) banner(y float64) float64 {
	w := d.x1 - d.x0
	d.fill(nhsBlue, d.x0, y, w, bannerH)
	d.color(white)
	d.font("BI", 24)
	d.text(d.x0+14, y+29, "NHS")
	d.font("B", 12.5)
	d.textCenter(d.x0+w/2, y+18, "CONSULTATION REPORT")
	d.font("B", 7.5)
	d.textCenter(d.x0+w/2, y+30, "- Confidential: personal data -")
	d.font("BI", 12)
	d.textRight(d.x1-14, y+24, "GP Connect")
	return y + bannerH
}

func (d *document) infoBar(y float64) float64 {
	w := d.x1 - d.x0
	d.fill(nhsLightBlue, d.x0, y, w, infoBarH)
	d.color(white)
	d.font("", sizeSmall)
	b := baseline(y, infoBarH, sizeSmall)
	d.text(d.x0+20, b, fmt.Sprintf("Version %d", d.c.Version))
	d.textCenter(d.x0+w/2, b, fmt.Sprintf("Number of related documents: %d", d.c.RelatedDocuments))
	d.textRight(d.x1-14, b, d.pageLabel())
	return y + infoBarH
}

func (d *document) pageLabel() string { return fmt.Sprintf("Page %d of %d", d.page, d.pages) }

// field is a label and its value for the header blocks.
type field struct{ label, value string }

// fieldColumn draws label/value rows with the labels right-aligned at
// labelEdge and the values wrapped between labelEdge+5 and valueEdge. A label
// may hold "\n" to break it over two lines. It returns the height used.
func (d *document) fieldColumn(top, labelEdge, valueEdge float64, fields []field) float64 {
	y := top
	for _, fl := range fields {
		d.font("B", sizeBody)
		values := d.wrap(fl.value, valueEdge-labelEdge-5)
		labels := strings.Split(fl.label, "\n")
		n := max(len(values), len(labels))
		d.color(black)
		d.font("I", sizeBody)
		for i, l := range labels {
			d.textRight(labelEdge, baseline(y+float64(i)*fieldH, fieldH, sizeBody), l)
		}
		d.font("B", sizeBody)
		for i, v := range values {
			d.text(labelEdge+5, baseline(y+float64(i)*fieldH, fieldH, sizeBody), v)
		}
		y += float64(n) * fieldH
	}
	return y - top
}

func (d *document) patientBlock(y float64, continuation bool) float64 {
	p := d.c.Patient
	top := y + 8
	lx, vx := d.x0+labelRight, d.x0+valueLeft
	rx := d.x1 - rightLabel

	// Row 1: name (larger, if it fits), date of birth, NHS number. The NHS
	// number hangs from the right-hand label edge; the date of birth sits
	// just left of it; the name has what is left.
	nhs := patient.FormatNHSNumber(clean(p.NHSNumber))
	dob := displayDate(p.BirthDate)
	d.font("I", sizeBody)
	nhsLabelW := d.f.GetStringWidth("NHS No:")
	dobLabelW := d.f.GetStringWidth("DOB:")
	d.font("B", sizeBody)
	dobX := rx - nhsLabelW - 12 - d.f.GetStringWidth("00-Mmm-0000")
	nameW := dobX - 5 - dobLabelW - 10 - vx
	name := displayName(p)
	size := float64(sizeName)
	for _, s := range []float64{sizeName, 11.5, 10} {
		size = s
		d.font("B", s)
		if d.f.GetStringWidth(name) <= nameW {
			break
		}
	}
	lh := size + 2
	names := d.wrap(name, nameW)
	b := baseline(top, lh, size)
	d.color(black)
	d.font("I", sizeBody)
	d.textRight(lx, b, "Patient Name:")
	d.textRight(dobX-5, b, "DOB:")
	d.textRight(rx, b, "NHS No:")
	d.font("B", size)
	for i, n := range names {
		d.text(vx, baseline(top+float64(i)*lh, lh, size), n)
	}
	d.font("B", sizeBody)
	d.text(dobX, b, dob)
	d.text(rx+5, b, nhs)
	y = top + max(float64(len(names))*lh, nameH) + 8

	// Row 2: home address on the left; gender and telephones on the right.
	addrEdge := rx - 72
	left := []field{{"Home/Registered\nAddress:", joinNonEmpty(", ", p.Address...)}}
	var right []field
	if g := displayGender(p.Gender); g != "" {
		right = append(right, field{"Gender:", g})
	}
	if p.Phone != "" {
		right = append(right, field{"Tel No:", displayPhone(p.Phone)})
	}
	if p.Mobile != "" {
		label := "Mobile No:"
		if continuation {
			label = "Mobile:" // as the continuation page of the layout prints it
		}
		right = append(right, field{label, displayPhone(p.Mobile)})
	}
	hl := d.fieldColumn(y, lx, addrEdge, left)
	hr := d.fieldColumn(y, rx, d.x1-innerPad, right)
	y += max(hl, hr) + 2

	// Row 3: current (temporary) address and telephone, only when known.
	cur := joinNonEmpty(", ", p.CurrentAddress...)
	if cur != "" || clean(p.CurrentPhone) != "" {
		var l, r []field
		if cur != "" {
			l = append(l, field{"Current Address:", cur})
		}
		if clean(p.CurrentPhone) != "" {
			r = append(r, field{"Current Tel No:", displayPhone(p.CurrentPhone)})
		}
		hl := d.fieldColumn(y, lx, addrEdge, l)
		hr := d.fieldColumn(y, rx, d.x1-innerPad, r)
		y += max(hl, hr)
	}
	y += 8
	d.hline(y)
	return y
}

func (d *document) organisationBlock(y float64) float64 {
	c := d.c
	lx := d.x0 + labelRight
	ox := d.x0 + 340 // right-hand labels of this block
	d.color(black)
	d.font("B", sizeBody)
	d.text(d.x0+titleLeft, baseline(y+6, fieldH, sizeBody), "Consulting Organisation")
	y += 6 + fieldH

	if !c.Confidential {
		left := []field{{"Clinician:", joinNonEmpty(", ", c.Clinician.Name, c.Clinician.Role)}}
		var right []field
		if c.Organisation.Phone != "" {
			right = append(right, field{"Tel No:", displayPhone(c.Organisation.Phone)})
		}
		if c.Organisation.Email != "" {
			right = append(right, field{"Email:", clean(c.Organisation.Email)})
		}
		hl := d.fieldColumn(y, lx, ox-45, left)
		hr := d.fieldColumn(y, ox, d.x1-innerPad, right)
		y += max(hl, hr) + 4

		var rows []field
		if clean(c.BranchLocation) != "" {
			rows = append(rows, field{"Branch Location:", clean(c.BranchLocation)})
		}
		name := clean(c.Organisation.Name)
		if ods := clean(c.Organisation.ODSCode); ods != "" {
			name = joinNonEmpty(" ", name, "("+ods+")")
		}
		rows = append(rows, field{"Organisation:", joinNonEmpty(", ", append([]string{name}, c.Organisation.Address...)...)})
		y += d.fieldColumn(y, lx, d.x1-innerPad, rows)
	}
	y += 10
	hl := d.fieldColumn(y, lx, ox-60, []field{{"Consultation Date:", displayDateTime(c.ConsultationDate)}})
	hr := d.fieldColumn(y, ox, d.x1-innerPad, []field{{"Receiving GP Practice:", clean(c.ReceivingPractice)}})
	return y + max(hl, hr) + 4
}

func (d *document) notesBar(y float64, continued bool) float64 {
	d.fill(nhsBlue, d.x0, y, d.x1-d.x0, notesBarH)
	d.color(white)
	d.font("B", 10)
	label := "CLINICAL NOTES"
	if continued {
		label += " (continued)"
	}
	d.text(d.x0+titleLeft, baseline(y, notesBarH, 10), label)
	return y + notesBarH + 6
}

func (d *document) footer() {
	d.color(grey)
	d.font("", sizeSmall)
	b := d.y1 - 10
	d.text(d.x0+20, b, "Confidential: personal data")
	d.textRight(d.x1-14, b, d.pageLabel())
}

// header draws (or measures) the top of a page and returns where the notes
// start.
func (d *document) header(first bool) float64 {
	y := d.y0
	if first {
		y = d.banner(y)
	}
	y = d.infoBar(y)
	y = d.patientBlock(y, !first)
	if first {
		y = d.organisationBlock(y)
	}
	return d.notesBar(y, !first)
}

// --- clinical notes -------------------------------------------------------------

// noteLine is one printed line in the notes column.
type noteLine struct {
	text   string
	indent float64 // from the notes column
	bullet bool
}

// noteRow is one notes item: a title and its lines.
type noteRow struct {
	title     []string // wrapped title lines (bold)
	contTitle []string // wrapped "title (continued)" for later pages
	lines     []noteLine
	wide      bool // no title: the lines start at the title column
}

// piece is the part of a row printed on one page.
type piece struct {
	row   *noteRow
	title []string
	lines []noteLine
	top   float64 // offset from the top of the notes area
}

func (d *document) notesLeftX(wide bool) float64 {
	if wide {
		return d.x0 + titleLeft
	}
	return d.x0 + notesLeft
}

func (d *document) makeRow(title, text string, items []Item, wide bool) *noteRow {
	r := &noteRow{wide: wide}
	if t := clean(title); t != "" {
		if !strings.HasSuffix(t, ":") {
			t += ":"
		}
		d.font("B", sizeBody)
		r.title = d.wrap(t, titleW)
		r.contTitle = d.wrap(strings.TrimSuffix(t, ":")+" (continued):", titleW)
	}
	width := d.x1 - innerPad - d.notesLeftX(wide)
	d.font("", sizeBody)
	if strings.TrimSpace(text) != "" {
		for _, l := range d.wrap(strings.Trim(cleanText(text), "\n"), width) {
			r.lines = append(r.lines, noteLine{text: l})
		}
	}
	const bulletIndent = 10
	for _, it := range items {
		t := clean(it.Text)
		if it.Confidential {
			t = ConfidentialItem
		}
		for i, l := range d.wrap(t, width-bulletIndent) {
			r.lines = append(r.lines, noteLine{text: l, indent: bulletIndent, bullet: i == 0})
		}
	}
	if len(r.lines) == 0 {
		r.lines = []noteLine{{}}
	}
	return r
}

func (d *document) rows() []*noteRow {
	c := d.c
	if c.Confidential {
		return []*noteRow{d.makeRow("", ConfidentialNotes, nil, true)}
	}
	rows := []*noteRow{d.makeRow("Summary Reason", SummaryReason, nil, false)}
	for _, s := range c.Sections {
		rows = append(rows, d.makeRow(s.Title, s.Text, s.Items, false))
	}
	if strings.TrimSpace(c.FollowUpActions) != "" {
		rows = append(rows, d.makeRow("Follow-up Actions", c.FollowUpActions, nil, false))
	}
	return rows
}

// paginate places the rows on pages. firstH and contH are the heights of
// the notes area on the first and on later pages.
func paginate(rows []*noteRow, firstH, contH float64) ([][]piece, error) {
	pages := [][]piece{nil}
	avail := firstH
	y := 0.0
	newPage := func() error {
		if len(pages) >= MaxPages {
			return ErrTooLong
		}
		pages = append(pages, nil)
		avail, y = contH, 0
		return nil
	}
	for _, r := range rows {
		start := 0
		for start < len(r.lines) {
			title := r.title
			if start > 0 {
				title = r.contTitle
			}
			fit := int(math.Floor((avail - y + 0.01) / lineH))
			remaining := len(r.lines) - start
			// Start a new page when the title would not fit, or when only
			// one line of a longer row would be left at the bottom.
			if fit < max(len(title), 1) || (fit < remaining && fit < 2 && y > 0) {
				if y == 0 {
					return nil, fmt.Errorf("consultation report: a notes title is too long for a page")
				}
				if err := newPage(); err != nil {
					return nil, err
				}
				continue
			}
			take := min(fit, remaining)
			if take < remaining && remaining-take == 1 && take >= 3 {
				take-- // carry two lines over rather than one
			}
			p := piece{row: r, title: title, lines: r.lines[start : start+take], top: y}
			pages[len(pages)-1] = append(pages[len(pages)-1], p)
			y += float64(max(len(title), take)) * lineH
			start += take
			if start < len(r.lines) {
				if err := newPage(); err != nil {
					return nil, err
				}
			}
		}
		y += sectionGap
	}
	return pages, nil
}

func (d *document) drawPiece(top float64, p piece) {
	d.color(black)
	d.font("B", sizeBody)
	for i, t := range p.title {
		d.text(d.x0+titleLeft, baseline(top+p.top+float64(i)*lineH, lineH, sizeBody), t)
	}
	d.font("", sizeBody)
	x := d.notesLeftX(p.row.wide)
	for i, l := range p.lines {
		b := baseline(top+p.top+float64(i)*lineH, lineH, sizeBody)
		if l.bullet {
			d.text(x+2, b, "•")
		}
		d.text(x+l.indent, b, l.text)
	}
}

// render lays the report out, then draws every page.
func (d *document) render(w io.Writer) error {
	d.draw = false
	firstTop := d.header(true)
	contTop := d.header(false)
	bottom := d.y1 - footerH
	pages, err := paginate(d.rows(), bottom-firstTop, bottom-contTop)
	if err != nil {
		return err
	}
	d.pages = len(pages)
	d.draw = true
	for i, pieces := range pages {
		d.page = i + 1
		d.f.AddPage()
		if d.draw {
			d.f.SetDrawColor(0, 0, 0)
			d.f.SetLineWidth(0.8)
			d.f.Rect(d.x0, d.y0, d.x1-d.x0, d.y1-d.y0, "D")
		}
		top := d.header(i == 0)
		for _, p := range pieces {
			d.drawPiece(top, p)
		}
		d.footer()
	}
	if err := d.f.Error(); err != nil {
		return fmt.Errorf("consultation report: %w", err)
	}
	if err := d.f.Output(w); err != nil {
		return fmt.Errorf("consultation report: writing PDF: %w", err)
	}
	return nil
}
