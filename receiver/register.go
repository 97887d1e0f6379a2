package receiver

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gpcm/gpcm/fhir"
	"github.com/gpcm/gpcm/patient"
)

// RegisterHeader is the required header of a register CSV file; optional
// columns status (registered, left, deceased), death_date and left_date may
// follow.
const RegisterHeader = "nhs_number,birth_date,family,given"

// RowProblem is one bad row of a register file. It names the line and the
// field, never the value (it may be patient data).
type RowProblem struct {
	Line   int    `json:"line"` // 1-based; the header is line 1. For FHIR: entry number.
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// RegisterError lists every bad row of a register file; nothing was
// imported.
type RegisterError struct {
	Problems []RowProblem
}

func (e *RegisterError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "register file has %d problem(s), nothing imported:", len(e.Problems))
	for i, p := range e.Problems {
		if i == 20 {
			fmt.Fprintf(&b, " … and %d more", len(e.Problems)-20)
			break
		}
		fmt.Fprintf(&b, " line %d %s: %s;", p.Line, p.Field, p.Reason)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *RegisterError) Is(target error) bool { return target == ErrInvalid }

// RegisterOptions tunes register parsing.
type RegisterOptions struct {
	// AllowTestNHSNumbers accepts NHS numbers failing the check digit.
	AllowTestNHSNumbers bool
}

// ParseRegisterCSV reads a register CSV (header RegisterHeader, birth_date
// YYYY-MM-DD). Every row is checked; on any problem it returns a
// *RegisterError listing all of them and no patients.
func ParseRegisterCSV(rd io.Reader, opts RegisterOptions) ([]Patient, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, &RegisterError{Problems: []RowProblem{{Line: 1, Field: "header", Reason: "the file is empty; the first line must be " + RegisterHeader}}}
	}
	if err != nil {
		return nil, &RegisterError{Problems: []RowProblem{{Line: 1, Field: "header", Reason: csvReason(err)}}}
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	cols := map[string]int{}
	for i, h := range head {
		cols[strings.ToLower(strings.TrimSpace(h))] = i
	}
	want := strings.Split(RegisterHeader, ",")
	for i, w := range want {
		if i >= len(head) || strings.ToLower(strings.TrimSpace(head[i])) != w {
			return nil, &RegisterError{Problems: []RowProblem{{Line: 1, Field: "header", Reason: "the first line must be " + RegisterHeader + " (optional columns status, death_date, left_date may follow)"}}}
		}
	}
	for _, h := range head[len(want):] {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "status", "death_date", "left_date":
		default:
			return nil, &RegisterError{Problems: []RowProblem{{Line: 1, Field: "header", Reason: fmt.Sprintf("unknown column %q (allowed after the four required: status, death_date, left_date)", h)}}}
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := cols[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []Patient
	var probs []RowProblem
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			probs = append(probs, RowProblem{Line: line, Field: "row", Reason: csvReason(err)})
			if pe == nil {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(head) {
			probs = append(probs, RowProblem{Line: line, Field: "row", Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(head))})
			continue
		}
		p := Patient{NHSNumber: get(rec, "nhs_number"), BirthDate: get(rec, "birth_date"), Family: get(rec, "family"),
			Given: get(rec, "given"), Status: RegisterStatus(strings.ToLower(get(rec, "status"))),
			DeathDate: get(rec, "death_date"), LeftDate: get(rec, "left_date")}
		n := len(probs)
		probs = checkPatient(&p, line, opts, probs)
		if len(probs) == n {
			if prev, dup := seen[p.NHSNumber]; dup {
				probs = append(probs, RowProblem{Line: line, Field: "nhs_number", Reason: fmt.Sprintf("the same NHS number is on line %d", prev)})
				continue
			}
			seen[p.NHSNumber] = line
			out = append(out, p)
		}
	}
	if len(probs) > 0 {
		return nil, &RegisterError{Problems: probs}
	}
	return out, nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "not valid CSV: " + pe.Err.Error()
	}
	return "not valid CSV"
}

// checkPatient validates and normalises one entry.
func checkPatient(p *Patient, line int, opts RegisterOptions, probs []RowProblem) []RowProblem {
	bad := func(field, reason string) {
		probs = append(probs, RowProblem{Line: line, Field: field, Reason: reason})
	}
	if n, err := patient.ParseNHSNumber(p.NHSNumber, !opts.AllowTestNHSNumbers); err != nil {
		bad("nhs_number", err.Error())
	} else {
		p.NHSNumber = n
	}
	if _, err := patient.ParseDateFormat(p.BirthDate, patient.DateISO); err != nil {
		bad("birth_date", "want a date YYYY-MM-DD: "+err.Error())
	}
	if p.Family == "" {
		bad("family", "is empty")
	}
	if p.Status == "" {
		p.Status = StatusRegistered
	}
	switch p.Status {
	case StatusRegistered:
	case StatusLeft:
		if p.LeftDate != "" {
			if _, err := patient.ParseDateFormat(p.LeftDate, patient.DateISO); err != nil {
				bad("left_date", "want a date YYYY-MM-DD: "+err.Error())
			}
		}
	case StatusDeceased:
		if p.DeathDate != "" {
			if _, err := patient.ParseDateFormat(p.DeathDate, patient.DateISO); err != nil {
				bad("death_date", "want a date YYYY-MM-DD: "+err.Error())
			}
		}
	default:
		bad("status", "want registered, left or deceased")
	}
	if p.Status != StatusDeceased && p.DeathDate != "" {
		bad("death_date", "is set but status is not deceased")
	}
	return probs
}

// ParseRegisterFHIR reads a FHIR Patient, or a Bundle of Patients, in XML
// or JSON. A Patient with deceasedDateTime/deceasedBoolean is deceased; one
// with active=false has left. All entries are checked as for CSV; "line" in
// problems is the entry number (1-based).
func ParseRegisterFHIR(rd io.Reader, opts RegisterOptions) ([]Patient, error) {
	b, err := io.ReadAll(io.LimitReader(rd, 256<<20))
	if err != nil {
		return nil, err
	}
	var res fhir.Resource
	if t := bytes.TrimLeft(b, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		res, _, err = fhir.DecodeJSON(bytes.NewReader(b), &fhir.DecodeOptions{MaxBytes: 256 << 20, MaxElements: 5_000_000})
	} else {
		res, _, err = fhir.DecodeXML(bytes.NewReader(b), &fhir.DecodeOptions{MaxBytes: 256 << 20, MaxElements: 5_000_000})
	}
	if err != nil {
		return nil, &RegisterError{Problems: []RowProblem{{Line: 0, Field: "file", Reason: "not a FHIR resource: " + err.Error()}}}
	}
	var pts []*fhir.Patient
	switch r := res.(type) {
	case *fhir.Patient:
		pts = append(pts, r)
	case *fhir.Bundle:
		for _, e := range r.Entry {
			if e == nil {
				continue
			}
			if p, ok := e.Resource.(*fhir.Patient); ok {
				pts = append(pts, p)
			}
		}
	default:
		return nil, &RegisterError{Problems: []RowProblem{{Field: "file", Reason: "want a Patient or a Bundle of Patients, got " + res.ResourceType()}}}
	}
	var out []Patient
	var probs []RowProblem
	for i, fp := range pts {
		d := patientOf(fp)
		p := Patient{NHSNumber: d.NHSNumber, BirthDate: d.BirthDate, Family: d.Family, Given: d.Given, Status: StatusRegistered}
		switch v := fp.Deceased.(type) {
		case *fhir.DateTime:
			p.Status = StatusDeceased
			if s := v.String(); len(s) >= 10 {
				p.DeathDate = s[:10]
			}
		case *fhir.Boolean:
			if v.String() == "true" {
				p.Status = StatusDeceased
			}
		}
		if p.Status == StatusRegistered && fp.Active != nil && fp.Active.String() == "false" {
			p.Status = StatusLeft
		}
		n := len(probs)
		probs = checkPatient(&p, i+1, opts, probs)
		if len(probs) == n {
			out = append(out, p)
		}
	}
	if len(probs) > 0 {
		return nil, &RegisterError{Problems: probs}
	}
	return out, nil
}

// ImportRegister parses a register (CSV when format is "csv", else FHIR)
// and upserts every entry in one transaction.
func (r *Receiver) ImportRegister(ctx context.Context, rd io.Reader, format string) (UpsertResult, error) {
	return ImportRegister(ctx, r.cfg.Store, rd, format, RegisterOptions{AllowTestNHSNumbers: r.cfg.AllowTestNHSNumbers}, r.cfg.Now())
}

// ImportRegister parses and upserts a register into s without a running
// Receiver (the CLI's "register import").
func ImportRegister(ctx context.Context, s RegisterStore, rd io.Reader, format string, opts RegisterOptions, now time.Time) (UpsertResult, error) {
	var ps []Patient
	var err error
	if format == "csv" {
		ps, err = ParseRegisterCSV(rd, opts)
	} else {
		ps, err = ParseRegisterFHIR(rd, opts)
	}
	if err != nil {
		return UpsertResult{}, err
	}
	return s.UpsertPatients(ctx, ps, now)
}
