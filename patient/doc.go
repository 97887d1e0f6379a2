// Package patient holds the pure rules gpcm applies to patient identity:
// NHS number validation, dates of birth, name normalisation, the MESH
// GPPROVIDER_ address, and matching incoming demographics against a practice
// register entry.
//
// The package does no I/O, keeps no state and imports only the standard
// library, so the sender, the receiver and the MESH server apply exactly the
// same rules.
//
// # NHS numbers
//
// An NHS number is ten digits; the tenth is a modulus-11 check digit over the
// first nine (weights 10 down to 2). [ValidateNHSNumber] is strict (ten
// digits, nothing else); [ParseNHSNumber] also accepts the printed forms
// "943 476 5919" and "943-476-5919". Errors are *[NHSNumberError] values whose
// Kind says why; no error text ever contains the number itself, so errors may
// be logged.
//
// # Dates of birth
//
// [Date] is a civil date without time zone. [ParseDate] reads YYYY-MM-DD
// (FHIR, CSV), YYYYMMDD (MESH GPPROVIDER_ addresses, current guidance) and
// DDMMYYYY (older GP Connect Messaging pages) and reports which format it
// saw. An eight-digit string is never ambiguous because years before 1800 are
// rejected: read as DDMMYYYY, a valid YYYYMMDD date would have a year below
// 1232.
//
// # Name normalisation
//
// [NormalizeName] turns a name into the form used for comparison:
//
//  1. Latin letters with diacritics (Latin-1 Supplement and Latin
//     Extended-A) become their base letters (é→e, Ł→l), and ß→ss, æ→ae,
//     œ→oe, ø→o, þ→th, ð→d; combining marks are dropped; other scripts keep
//     precomposed accents (the package has no Unicode decomposition tables);
//  2. everything is lower case;
//  3. apostrophes (' ’ ‘ ʼ ` ´) and full stops are removed (O'Brien→obrien,
//     St. John→st john);
//  4. hyphens and dashes are word separators (Smith-Jones→smith jones);
//  5. any other punctuation is removed, runs of white space (including
//     no-break space) become one space, and the result is trimmed.
//
// Family names compare equal when their normalised forms are equal once the
// spaces are removed, so "Smith-Jones", "Smith Jones" and "SMITHJONES" are the
// same family name, as are "Mac Donald" and "MacDonald".
//
// # GPPROVIDER_ addresses
//
// [FormatGPProviderAddress] writes GPPROVIDER_{NHS number}_{YYYYMMDD}_{surname}
// with the surname folded to ASCII ([AddressSurname]: "Müller" travels as
// "Muller"), because Mex-To is an HTTP header. Whoever checks an address
// against a recorded surname compares folded with folded
// ([SameAddressSurname]), never the folded address with the unfolded name.
//
// # Matching
//
// [Match] decides what a receiving practice does with a document, in the
// terms of GP Connect Messaging Send Document §6.4 and the ITK3 business
// acknowledgement codes (see [State.BusinessAckCode]):
//
//   - no register entry (or one for another NHS number): [NotKnown], 30002;
//   - the patient left the practice, or died more than six months ago:
//     [Left], 30003;
//   - NHS number known but date of birth, family name or given name differ:
//     [Mismatch], held for a person; [Outcome.Confirmed] says which state to
//     use if the person confirms the match;
//   - NHS number, date of birth and names agree: [Matched], 30001, or
//     [RecentlyDeceased], 30004, when the patient died within six months.
//
// Match does not check the NHS number's check digit: the official examples
// carry numbers that fail it, and the validator decides whether that is an
// error. Match compares the digits only.
package patient
