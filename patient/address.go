package patient

import (
	"errors"
	"fmt"
	"strings"
)

// GPProviderPrefix starts every MESH patient-routing address.
const GPProviderPrefix = "GPPROVIDER_"

// MaxMeshAddress is the longest Mex-To value MESH accepts.
const MaxMeshAddress = 100

// GPProviderAddress is a MESH patient-routing address
// GPPROVIDER_{NHS number}_{date of birth}_{surname}: MESH traces the patient
// on PDS and delivers to the registered practice's mailbox.
type GPProviderAddress struct {
	NHSNumber string
	BirthDate Date
	Surname   string
	// DateFormat is the date form found by ParseGPProviderAddress:
	// DateCompact (current) or DateDayFirst (legacy). Format always writes
	// DateCompact.
	DateFormat DateFormat
}

// ErrInvalidGPProviderAddress is matched by every *AddressError.
var ErrInvalidGPProviderAddress = errors.New("invalid GPPROVIDER address")

// AddressError says which part of a GPPROVIDER_ address is wrong. It holds
// no patient data.
type AddressError struct {
	Part string // "prefix", "NHS number", "date of birth", "surname", "length", "shape"
	Err  error  // the underlying error, if any
	msg  string
}

func (e *AddressError) Error() string {
	s := "invalid GPPROVIDER address: " + e.Part
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *AddressError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalidGPProviderAddress) true.
func (e *AddressError) Is(target error) bool { return target == ErrInvalidGPProviderAddress }

// IsGPProviderAddress reports whether s looks like a patient-routing address
// (starts with GPPROVIDER_) rather than a mailbox ID. It does not validate.
func IsGPProviderAddress(s string) bool { return strings.HasPrefix(s, GPProviderPrefix) }

// ParseGPProviderAddress reads GPPROVIDER_{NHS number}_{DOB}_{surname}. The
// NHS number must be ten digits with a valid check digit (MESH answers
// EPL-152 otherwise); the date may be YYYYMMDD or DDMMYYYY and the result
// says which was used; the surname is everything after the third "_" and
// must not be empty.
func ParseGPProviderAddress(s string) (GPProviderAddress, error) {
	if len(s) > MaxMeshAddress {
		return GPProviderAddress{}, &AddressError{Part: "length", msg: fmt.Sprintf("%d bytes, MESH allows %d", len(s), MaxMeshAddress)}
	}
	if !strings.HasPrefix(s, GPProviderPrefix) {
		return GPProviderAddress{}, &AddressError{Part: "prefix", msg: "must start with " + GPProviderPrefix + " (upper case)"}
	}
	parts := strings.SplitN(s[len(GPProviderPrefix):], "_", 3)
	if len(parts) != 3 {
		return GPProviderAddress{}, &AddressError{Part: "shape", msg: "want GPPROVIDER_{NHS number}_{YYYYMMDD}_{surname}"}
	}
	if err := ValidateNHSNumber(parts[0]); err != nil {
		return GPProviderAddress{}, &AddressError{Part: "NHS number", Err: err}
	}
	if len(parts[1]) != 8 {
		return GPProviderAddress{}, &AddressError{Part: "date of birth", msg: "want 8 digits, YYYYMMDD"}
	}
	dob, f, err := ParseDate(parts[1])
	if err != nil {
		return GPProviderAddress{}, &AddressError{Part: "date of birth", Err: err}
	}
	surname := parts[2]
	if strings.TrimSpace(surname) == "" {
		return GPProviderAddress{}, &AddressError{Part: "surname", msg: "empty"}
	}
	for _, r := range surname {
		if r < 0x20 || r == 0x7f {
			return GPProviderAddress{}, &AddressError{Part: "surname", msg: "contains a control character"}
		}
	}
	return GPProviderAddress{NHSNumber: parts[0], BirthDate: dob, Surname: surname, DateFormat: f}, nil
}

// FormatGPProviderAddress builds the address with the date as YYYYMMDD. The
// surname is folded to ASCII (ASCIIName: diacritics removed, case kept) so
// that it can travel in the Mex-To header; it must not contain "_".
func FormatGPProviderAddress(nhsNumber string, birthDate Date, surname string) (string, error) {
	if err := ValidateNHSNumber(nhsNumber); err != nil {
		return "", &AddressError{Part: "NHS number", Err: err}
	}
	if err := birthDate.validate(); err != nil {
		return "", &AddressError{Part: "date of birth", Err: err}
	}
	name, ok := AddressSurname(surname)
	switch {
	case name == "":
		return "", &AddressError{Part: "surname", msg: "empty"}
	case !ok:
		return "", &AddressError{Part: "surname", msg: "has characters that cannot be written in ASCII"}
	case strings.Contains(name, "_"):
		return "", &AddressError{Part: "surname", msg: `contains "_", the address delimiter`}
	}
	s := GPProviderPrefix + nhsNumber + "_" + birthDate.Format(DateCompact) + "_" + name
	if len(s) > MaxMeshAddress {
		return "", &AddressError{Part: "length", msg: fmt.Sprintf("%d bytes, MESH allows %d", len(s), MaxMeshAddress)}
	}
	return s, nil
}

// AddressSurname returns a surname as a GPPROVIDER_ address carries it:
// folded to ASCII by ASCIIName (diacritics removed, case kept, white space
// collapsed). ok is false when something in it cannot be written in ASCII.
func AddressSurname(s string) (name string, ok bool) {
	return ASCIIName(s)
}

// SameAddressSurname reports whether a surname as recorded (a
// Patient.name.family, a register entry; it may carry diacritics, "Müller")
// is the surname a GPPROVIDER_ address carries ("Muller"). Both sides are
// folded as FormatGPProviderAddress folds them and compared ignoring case
// and white space, so the sender's address, the validator's check of it
// (GPCM-SD-CS-042) and the MESH server's routing agree on every name the
// sender can write. Two empty surnames are not the same.
func SameAddressSurname(recorded, inAddress string) bool {
	a, _ := AddressSurname(recorded)
	b, _ := AddressSurname(inAddress)
	ka, kb := surnameKey(a), surnameKey(b)
	return ka != "" && ka == kb
}

func surnameKey(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// String returns the address in the current form (date as YYYYMMDD),
// without validating it.
func (a GPProviderAddress) String() string {
	return GPProviderPrefix + a.NHSNumber + "_" + a.BirthDate.Format(DateCompact) + "_" + a.Surname
}
