package patient

import (
	"strings"
	"unicode"
)

// foldTable maps Latin letters with diacritics (Latin-1 Supplement and Latin
// Extended-A) and a few ligatures to plain ASCII letters, keeping case.
var foldTable = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "A", 'Å': "A", 'Æ': "AE", 'Ç': "C",
	'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I",
	'Ð': "D", 'Ñ': "N", 'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "O", 'Ø': "O",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "U", 'Ý': "Y", 'Þ': "TH", 'ß': "ss",
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae", 'ç': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ð': "d", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'þ': "th", 'ÿ': "y",
	'Ā': "A", 'ā': "a", 'Ă': "A", 'ă': "a", 'Ą': "A", 'ą': "a", 'Ć': "C", 'ć': "c",
	'Ĉ': "C", 'ĉ': "c", 'Ċ': "C", 'ċ': "c", 'Č': "C", 'č': "c", 'Ď': "D", 'ď': "d",
	'Đ': "D", 'đ': "d", 'Ē': "E", 'ē': "e", 'Ĕ': "E", 'ĕ': "e", 'Ė': "E", 'ė': "e",
	'Ę': "E", 'ę': "e", 'Ě': "E", 'ě': "e", 'Ĝ': "G", 'ĝ': "g", 'Ğ': "G", 'ğ': "g",
	'Ġ': "G", 'ġ': "g", 'Ģ': "G", 'ģ': "g", 'Ĥ': "H", 'ĥ': "h", 'Ħ': "H", 'ħ': "h",
	'Ĩ': "I", 'ĩ': "i", 'Ī': "I", 'ī': "i", 'Ĭ': "I", 'ĭ': "i", 'Į': "I", 'į': "i",
	'İ': "I", 'ı': "i", 'Ĳ': "IJ", 'ĳ': "ij", 'Ĵ': "J", 'ĵ': "j", 'Ķ': "K", 'ķ': "k",
	'ĸ': "k", 'Ĺ': "L", 'ĺ': "l", 'Ļ': "L", 'ļ': "l", 'Ľ': "L", 'ľ': "l", 'Ŀ': "L",
	'ŀ': "l", 'Ł': "L", 'ł': "l", 'Ń': "N", 'ń': "n", 'Ņ': "N", 'ņ': "n", 'Ň': "N",
	'ň': "n", 'ŉ': "n", 'Ŋ': "N", 'ŋ': "n", 'Ō': "O", 'ō': "o", 'Ŏ': "O", 'ŏ': "o",
	'Ő': "O", 'ő': "o", 'Œ': "OE", 'œ': "oe", 'Ŕ': "R", 'ŕ': "r", 'Ŗ': "R", 'ŗ': "r",
	'Ř': "R", 'ř': "r", 'Ś': "S", 'ś': "s", 'Ŝ': "S", 'ŝ': "s", 'Ş': "S", 'ş': "s",
	'Š': "S", 'š': "s", 'Ţ': "T", 'ţ': "t", 'Ť': "T", 'ť': "t", 'Ŧ': "T", 'ŧ': "t",
	'Ũ': "U", 'ũ': "u", 'Ū': "U", 'ū': "u", 'Ŭ': "U", 'ŭ': "u", 'Ů': "U", 'ů': "u",
	'Ű': "U", 'ű': "u", 'Ų': "U", 'ų': "u", 'Ŵ': "W", 'ŵ': "w", 'Ŷ': "Y", 'ŷ': "y",
	'Ÿ': "Y", 'Ź': "Z", 'ź': "z", 'Ż': "Z", 'ż': "z", 'Ž': "Z", 'ž': "z", 'ſ': "s",
	'Ș': "S", 'ș': "s", 'Ț': "T", 'ț': "t", 'ẞ': "SS",
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', 'ʼ', '`', '´', '′':
		return true
	}
	return false
}

func isHyphen(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '―', '−', '﹣', '－':
		return true
	}
	return false
}

// NormalizeName returns the comparison form of a name, following the rules in
// the package documentation: diacritics folded, lower case, apostrophes and
// full stops removed, hyphens as word breaks, other punctuation removed,
// white space collapsed.
func NormalizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a separator is pending
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r), isApostrophe(r), r == '.':
			continue
		case unicode.IsSpace(r), isHyphen(r):
			space = b.Len() > 0
			continue
		}
		var folded string
		if f, ok := foldTable[r]; ok {
			folded = f
		} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
			folded = string(unicode.ToLower(r))
		} else {
			// Other punctuation and symbols carry no identity.
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(strings.ToLower(folded))
	}
	return b.String()
}

// NameKey is NormalizeName without spaces: the key two family names are
// compared on.
func NameKey(s string) string {
	return strings.ReplaceAll(NormalizeName(s), " ", "")
}

// SameFamilyName reports whether two family names are the same under the
// package's normalisation rules. Two empty names are not the same.
func SameFamilyName(a, b string) bool {
	ka, kb := NameKey(a), NameKey(b)
	return ka != "" && ka == kb
}

// SameGivenName reports whether two given-name strings (all forenames,
// separated by spaces) name the same person: the first forename of one must
// be among the forenames of the other, so "John Simon" matches "John" and
// "Simon", but "Jon" does not match "John". Two empty strings are not the
// same.
func SameGivenName(a, b string) bool {
	ta, tb := strings.Fields(NormalizeName(a)), strings.Fields(NormalizeName(b))
	if len(ta) == 0 || len(tb) == 0 {
		return false
	}
	return contains(tb, ta[0]) || contains(ta, tb[0])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ASCIIName returns s with diacritics folded to ASCII letters (case kept),
// typographic apostrophes and hyphens replaced by ASCII ones and runs of
// white space collapsed. ok is false if anything else outside printable ASCII
// remains. It is used where a name must travel in an HTTP header.
func ASCIIName(s string) (string, bool) {
	var b strings.Builder
	ok := true
	for _, r := range strings.Join(strings.Fields(s), " ") {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case isApostrophe(r):
			b.WriteByte('\'')
		case isHyphen(r):
			b.WriteByte('-')
		case unicode.Is(unicode.Mn, r):
		default:
			if f, found := foldTable[r]; found {
				b.WriteString(f)
			} else {
				ok = false
			}
		}
	}
	return b.String(), ok
}
