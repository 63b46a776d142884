// Package identity builds the normalised identity string that
// seal.Sealer.Fingerprint hashes. It is apart from shared/seal so that a step
// can normalise without linking the sealer and its keys (the hashing itself is the sealer's).
package identity

import (
	"slices"
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Normalise builds the string seal.Sealer.Fingerprint hashes, from a person's
// given name, family name, date of birth and nationality:
//
//	"<name tokens, sorted, space-separated>|<dob>|<NATIONALITY>"
//
// Partners transliterate and order names differently, so the name part is
// made insensitive to what varies between two referrals of one person:
// compatibility forms (NFKC: full-width letters, ligatures, odd spaces), case
// (full Unicode case folding, so ß matches ss), diacritics (removed: ễ → e),
// a few letters with strokes that carry no decomposable mark (đ → d, ø → o,
// ł → l, æ → ae, …), invisible format characters, apostrophes, hyphens and
// dots (removed: O'Brien matches OBrien), letters of other scripts that look
// like Latin ones (the UTS #39 confusable skeleton: a Cyrillic М matches a
// Latin M), other punctuation and symbols (word
// breaks), runs of white space, and which name is given and which family
// (tokens are sorted). A "|" in a name becomes a word break, so the name part
// cannot reach into the date or nationality.
//
// It conflates on purpose: the fingerprint only flags a possible duplicate for
// a person to check. dob is trimmed and nationality trimmed and upper-cased;
// both are expected to be validated (YYYY-MM-DD, ISO 3166 alpha-3) already.
func Normalise(given, family, dob, nationality string) string {
	tokens := append(nameTokens(given), nameTokens(family)...)
	slices.Sort(tokens)
	return strings.Join(tokens, " ") + "|" + strings.TrimSpace(dob) + "|" + strings.ToUpper(strings.TrimSpace(nationality))
}

// nameTokens returns the normalised words of one name field.
func nameTokens(s string) []string {
	// A transform.Chain is stateful, so each call builds its own.
	t := transform.Chain(
		// Before NFKC too: NFKC turns some marks (´) into a space plus a
		// combining mark, which would split "O´Brien" in two.
		runes.Remove(runes.Predicate(isJoiner)),
		norm.NFKC,
		runes.Map(unicode.ToUpper),
	)
	upper, _, err := transform.String(t, s)
	if err != nil {
		upper = strings.ToUpper(s)
	}
	// The UTS #39 skeleton maps letters of other scripts that look like
	// Latin ones (Cyrillic М, Greek Α) to them. It is taken of the upper
	// case: UTS #39 is case-sensitive and its lower-case prototypes differ
	// by script (Latin m becomes rn, Cyrillic м becomes ʍ) while the capitals
	// meet (М and M). Its one cost on Latin names: I's skeleton is l, so i
	// and l conflate, which the fingerprint can afford (see Normalise). Only
	// letters are mapped: digits and punctuation (1 and | look like l) stay
	// what they are, word breaks included.
	var b strings.Builder
	for _, r := range upper {
		if unicode.IsLetter(r) {
			b.WriteString(confusables.Skeleton(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	s = b.String()
	t = transform.Chain(
		cases.Fold(),
		norm.NFD,
		runes.Remove(runes.In(unicode.Mn)),
		runes.Map(foldRune),
		norm.NFC,
	)
	out, _, err := transform.String(t, s)
	if err != nil {
		// The transformers above do not fail on any input; keep the result
		// deterministic anyway rather than silently returning nothing.
		out = strings.ToLower(s)
	}
	out = multiLetters.Replace(out)
	return strings.Fields(out)
}

// isJoiner reports the characters removed without leaving a word break:
// apostrophes, hyphens and dots as people type them, and invisible format
// characters (soft hyphen, zero-width space and joiners, BOM).
func isJoiner(r rune) bool {
	switch r {
	case '\'', '`', '\u00b4', '\u02bb', '\u02bc', '\u2018', '\u2019', '\u2032', '\uff07', // apostrophes
		'-', '\u058a', '\u05be', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\ufe63', '\uff0d', // hyphens
		'.', '\u00b7', '\u0387', '\u2024', '\uff0e': // dots
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// strokeLetters are lower-case letters whose diacritic is part of the letter
// in Unicode, so NFD cannot strip it, mapped to the base letter that
// transliterations use (Đặng is written Dang).
var strokeLetters = map[rune]rune{
	'đ': 'd', 'ð': 'd', 'ø': 'o', 'ł': 'l', 'ħ': 'h', 'ı': 'i', 'ŧ': 't', 'ƀ': 'b', 'ɨ': 'i', 'ʉ': 'u', 'ƶ': 'z',
}

// multiLetters are letters transliterated as two.
var multiLetters = strings.NewReplacer("æ", "ae", "œ", "oe", "þ", "th")

func foldRune(r rune) rune {
	switch {
	case isJoiner(r):
		return -1
	case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r), unicode.IsControl(r):
		return ' '
	}
	if m, ok := strokeLetters[r]; ok {
		return m
	}
	return r
}
