package patient

import (
	"fmt"
	"strings"
	"time"
)

// Status is a register entry's registration status. The zero value is
// Registered, so a register loaded from a file without a status column
// holds registered patients.
type Status int

const (
	// Registered: the patient is registered at the practice.
	Registered Status = iota
	// LeftPractice: the patient was registered and has left (deducted).
	LeftPractice
	// Deceased: the patient has died; DeathDate says when, if known.
	Deceased
)

// String returns the status name.
func (s Status) String() string {
	switch s {
	case Registered:
		return "registered"
	case LeftPractice:
		return "left"
	case Deceased:
		return "deceased"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// RegisterEntry is one patient in a practice register.
type RegisterEntry struct {
	NHSNumber string // ten digits
	BirthDate Date
	Family    string
	// PreviousFamily holds earlier family names (maiden name, before a
	// change) that incoming documents may still use.
	PreviousFamily []string
	Given          string // all forenames, separated by spaces
	Status         Status
	// DeathDate is when the patient died (Status Deceased). The zero date
	// means unknown.
	DeathDate Date
	// LeftDate is when the patient left (Status LeftPractice), for the
	// record; matching does not use it.
	LeftDate Date
}

// Demographics are the patient details an incoming document carries.
type Demographics struct {
	NHSNumber string // ten digits, or a printed form ParseNHSNumber accepts
	BirthDate Date
	Family    string
	Given     string // all forenames, separated by spaces
}

// State is the outcome of matching a document to the register.
type State int

const (
	// Matched: registered here and the demographics agree (30001).
	Matched State = iota + 1
	// NotKnown: the NHS number is not on the register (30002).
	NotKnown
	// Left: the patient left the practice, or died more than
	// RecentDeathMonths ago (30003).
	Left
	// Mismatch: the NHS number is known but other details differ; a person
	// decides (confirmed → Outcome.Confirmed, rejected → NotKnown).
	Mismatch
	// RecentlyDeceased: registered here, demographics agree, died within
	// RecentDeathMonths (30004).
	RecentlyDeceased
)

// String returns the state as the receiver's filing states name it.
func (s State) String() string {
	switch s {
	case Matched:
		return "matched"
	case NotKnown:
		return "not known"
	case Left:
		return "left the practice"
	case Mismatch:
		return "demographics mismatch"
	case RecentlyDeceased:
		return "recently deceased"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// BusinessAckCode returns the ITK3 business acknowledgement code for a final
// state (30001 Matched, 30002 NotKnown, 30003 Left, 30004
// RecentlyDeceased), or "" for Mismatch, which is not final.
func (s State) BusinessAckCode() string {
	switch s {
	case Matched:
		return "30001"
	case NotKnown:
		return "30002"
	case Left:
		return "30003"
	case RecentlyDeceased:
		return "30004"
	}
	return ""
}

// Field names a demographic detail that took part in matching.
type Field string

// The fields Match compares.
const (
	FieldNHSNumber Field = "NHS number"
	FieldBirthDate Field = "date of birth"
	FieldFamily    Field = "family name"
	FieldGiven     Field = "given name"
)

// Outcome is the result of Match.
type Outcome struct {
	State State
	// Confirmed is the state to use if a person confirms a Mismatch
	// (Matched or RecentlyDeceased); for other states it equals State.
	Confirmed State
	// Differ lists the fields that did not agree (Mismatch only).
	Differ []Field
	// Reason explains the outcome in plain English without patient data,
	// so it may be logged and shown to staff.
	Reason string
}

// RecentDeathMonths is how long after death a document still gets 30004
// "recently deceased" rather than 30003 (ITK3: six months).
const RecentDeathMonths = 6

// Match decides what to do with a document about in, given the register
// entry found for its NHS number (nil if none) and the date the document is
// processed (for the recently-deceased window). The rules are in the package
// documentation.
func Match(entry *RegisterEntry, in Demographics, at time.Time) Outcome {
	inNHS, err := ParseNHSNumber(in.NHSNumber, false)
	if err != nil {
		return final(NotKnown, "the document's NHS number is unreadable: "+err.Error())
	}
	if entry == nil {
		return final(NotKnown, "the NHS number is not on the practice register")
	}
	regNHS, err := ParseNHSNumber(entry.NHSNumber, false)
	if err != nil || regNHS != inNHS {
		return final(NotKnown, "the register entry given is for a different NHS number")
	}

	positive := Matched
	switch entry.Status {
	case Registered:
	case LeftPractice:
		return final(Left, "the patient has left the practice")
	case Deceased:
		switch {
		case entry.DeathDate.IsZero():
			positive = RecentlyDeceased
		case entry.DeathDate.AddMonths(RecentDeathMonths).Compare(DateOf(at)) >= 0:
			positive = RecentlyDeceased
		default:
			return final(Left, fmt.Sprintf("the patient died more than %d months ago", RecentDeathMonths))
		}
	default:
		return final(NotKnown, "the register entry has an unknown status")
	}

	var differ []Field
	if in.BirthDate.IsZero() || entry.BirthDate.IsZero() || in.BirthDate != entry.BirthDate {
		differ = append(differ, FieldBirthDate)
	}
	if !sameFamily(entry, in.Family) {
		differ = append(differ, FieldFamily)
	}
	if !SameGivenName(entry.Given, in.Given) {
		differ = append(differ, FieldGiven)
	}
	if len(differ) > 0 {
		names := make([]string, len(differ))
		for i, f := range differ {
			names[i] = string(f)
		}
		verb := " differs"
		if len(differ) > 1 {
			verb = " differ"
		}
		return Outcome{
			State:     Mismatch,
			Confirmed: positive,
			Differ:    differ,
			Reason:    "the NHS number is registered here but the " + strings.Join(names, ", ") + verb + "; a person must confirm the match",
		}
	}
	switch positive {
	case RecentlyDeceased:
		if entry.DeathDate.IsZero() {
			return final(RecentlyDeceased, "the patient is recorded as deceased without a date of death")
		}
		return final(RecentlyDeceased, fmt.Sprintf("the patient died within the last %d months", RecentDeathMonths))
	}
	return final(Matched, "the NHS number, date of birth and names match a registered patient")
}

func final(s State, reason string) Outcome {
	return Outcome{State: s, Confirmed: s, Reason: reason}
}

func sameFamily(entry *RegisterEntry, family string) bool {
	if SameFamilyName(entry.Family, family) {
		return true
	}
	for _, prev := range entry.PreviousFamily {
		if SameFamilyName(prev, family) {
			return true
		}
	}
	return false
}
