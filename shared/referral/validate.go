package referral

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/haven-hrd/haven/shared/problem"
)

// Limits from the contract.
const (
	maxNameRunes      = 100
	maxReferenceRunes = 64
	maxSummaryRunes   = 4000
	maxStreamBytes    = 40
	maxEmailBytes     = 254 // RFC 5321's limit on a forward path, less the angle brackets
	minPhoneDigits    = 7
	maxPhoneDigits    = 15 // E.164
)

// earliestDate is the oldest date of birth or consent Haven accepts; older ones
// are almost always a year typed wrong.
var earliestDate = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)

// The closed lists of the contract, in its order: an error names the list.
var (
	sexes         = choices{"F", "M", "X"}
	relationships = choices{"spouse", "partner", "child", "parent", "sibling", "other-dependant"}
	rightsAreas   = choices{"journalism", "lgbtqi", "women", "environment", "land", "indigenous",
		"labour", "anti-corruption", "democracy", "minority", "other"}
	channels  = choices{"email", "phone", "signal", "whatsapp", "other"}
	languages = choices{"en", "fr"}
	urgencies = choices{string(Normal), string(Urgent), string(Emergency)}
)

type choices []string

func (c choices) has(s string) bool {
	for _, v := range c {
		if v == s {
			return true
		}
	}
	return false
}

// Validate checks every rule the contract states for a referral and reports
// every failing field, one code per field, in the order of the body's fields.
// today is the caller's date (in the partner-facing time zone) for the
// not-in-the-future rules; passing it in keeps Validate deterministic.
func (in Input) Validate(today time.Time) error {
	v := validator{today: dateOf(today)}
	v.stream("stream", in.Stream)
	v.reference("partner_reference", in.PartnerReference)
	v.enum("urgency", string(in.Urgency), true, urgencies)
	v.person("principal", in.Principal, false)
	v.family(in.FamilyMembers)
	v.country("country_of_asylum", in.CountryOfAsylum, true)
	v.profile(in.DefenderProfile)
	v.contact(in.Contact)
	v.enum("preferred_language", in.PreferredLanguage, false, languages)
	if !in.Consent.Given {
		v.add("consent.given", problem.CodeMustBeTrue)
	}
	v.date("consent.date", in.Consent.Date)
	return v.err()
}

// ValidateFamily checks the family_members of PUT /referrals/{id}/family with
// the same rules and paths as Validate.
func ValidateFamily(members []Person, today time.Time) error {
	v := validator{today: dateOf(today)}
	v.family(members)
	return v.err()
}

type validator struct {
	today  time.Time
	fields []problem.FieldError
}

func (v *validator) add(path, code string) {
	v.fields = append(v.fields, problem.FieldError{Field: path, Code: code})
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return problem.Invalid(v.fields...)
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// stream only checks the slug shape: a value that cannot be a slug cannot be a
// stream, so it is unknown-stream, the same code the store check gives.
func (v *validator) stream(path, s string) {
	if s == "" {
		v.add(path, problem.CodeRequired)
		return
	}
	if len(s) > maxStreamBytes {
		v.add(path, problem.CodeUnknownStream)
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			v.add(path, problem.CodeUnknownStream)
			return
		}
	}
}

// reference allows any printable text, but no control, format (zero-width,
// bidi override) or line-separator characters: the reference is shown in lists
// and exports, where such characters hide or reorder what a person reads.
func (v *validator) reference(path, s string) {
	switch {
	case blank(s):
		v.add(path, problem.CodeRequired)
	case !utf8.ValidString(s):
		v.add(path, problem.CodeInvalidCharacters)
	case strings.IndexFunc(s, Hidden) >= 0:
		v.add(path, problem.CodeHiddenCharacters)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.add(path, problem.CodeInvalidCharacters)
	case utf8.RuneCountInString(s) > maxReferenceRunes:
		v.add(path, problem.CodeTooLong)
	}
}

// Hidden reports the characters no free-text field accepts: format
// characters (zero-width spaces and joiners, bidi overrides, embeddings and
// isolates, soft hyphen) and line or paragraph separators. They hide or
// reorder what a person reads (a summary shown backwards, a reference that
// looks like another), and no one types them on purpose. Any other
// free-text field (in any package) refuses them with this rule and
// problem.CodeHiddenCharacters.
func Hidden(r rune) bool { return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) }

func (v *validator) enum(path, s string, required bool, allowed choices) {
	switch {
	case s == "":
		if required {
			v.add(path, problem.CodeRequired)
		}
	case !allowed.has(s):
		v.fields = append(v.fields, problem.FieldError{Field: path, Code: problem.CodeNotAllowed, Allowed: allowed})
	}
}

func (v *validator) country(path, s string, required bool) {
	switch {
	case s == "":
		if required {
			v.add(path, problem.CodeRequired)
		}
	case !countries[s]:
		v.add(path, problem.CodeInvalidCountry)
	}
}

// name accepts any script but only what names are made of. Zero-width and
// other format characters are not letters or marks, so they are refused: they
// would make two names that look the same compare different and slip past the
// duplicate check.
func (v *validator) name(path, s string) {
	if blank(s) {
		v.add(path, problem.CodeRequired)
		return
	}
	if !utf8.ValidString(s) {
		v.add(path, problem.CodeInvalidCharacters)
		return
	}
	letters := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters = true
		case unicode.Is(unicode.M, r), r == ' ', r == '\'', r == '’', r == '-', r == '.':
		default:
			v.add(path, problem.CodeInvalidCharacters)
			return
		}
	}
	if !letters {
		v.add(path, problem.CodeInvalidCharacters)
		return
	}
	if utf8.RuneCountInString(s) > maxNameRunes {
		v.add(path, problem.CodeTooLong)
	}
}

// date checks a required YYYY-MM-DD date that must have happened already.
func (v *validator) date(path, s string) {
	if s == "" {
		v.add(path, problem.CodeRequired)
		return
	}
	d, ok := parseDate(s)
	switch {
	case !ok:
		v.add(path, problem.CodeInvalidDate)
	case d.After(v.today):
		v.add(path, problem.CodeFutureDate)
	case d.Before(earliestDate):
		v.add(path, problem.CodeTooOld)
	}
}

// parseDate accepts exactly YYYY-MM-DD with ASCII digits and a real day;
// time.Parse alone would also take other digit forms in some layouts.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 7 {
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func (v *validator) person(path string, p Person, member bool) {
	v.name(path+".given_name", p.GivenName)
	v.name(path+".family_name", p.FamilyName)
	v.date(path+".date_of_birth", p.DateOfBirth)
	v.enum(path+".sex", p.Sex, true, sexes)
	// A family member's nationality is optional: it is often the principal's
	// and partners may not know it for a child born in exile.
	v.country(path+".nationality", p.Nationality, !member)
	if member {
		v.enum(path+".relationship", p.Relationship, true, relationships)
	} else if p.Relationship != "" {
		v.add(path+".relationship", problem.CodeUnknownField)
	}
}

func (v *validator) family(members []Person) {
	if len(members) > MaxFamilyMembers {
		v.add("family_members", problem.CodeTooMany)
	}
	for i, p := range members {
		v.person("family_members."+strconv.Itoa(i), p, true)
	}
}

func (v *validator) profile(p Profile) {
	const path = "defender_profile"
	switch {
	case len(p.RightsAreas) == 0:
		v.add(path+".rights_areas", problem.CodeRequired)
	case len(p.RightsAreas) > MaxRightsAreas:
		v.add(path+".rights_areas", problem.CodeTooMany)
	}
	seen := make(map[string]bool, len(p.RightsAreas))
	for i, a := range p.RightsAreas {
		ap := path + ".rights_areas." + strconv.Itoa(i)
		switch {
		case a == "":
			v.add(ap, problem.CodeRequired)
		case !rightsAreas.has(a):
			v.fields = append(v.fields, problem.FieldError{Field: ap, Code: problem.CodeNotAllowed, Allowed: rightsAreas})
		case seen[a]:
			v.add(ap, problem.CodeDuplicate)
		}
		seen[a] = true
	}
	// The summary is free text, so newlines and tabs are fine, but other
	// control characters only ever come from a broken client or an attack on
	// whatever later renders the text; hidden ones are refused as everywhere.
	switch {
	case !utf8.ValidString(p.Summary):
		v.add(path+".summary", problem.CodeInvalidCharacters)
	case strings.IndexFunc(p.Summary, Hidden) >= 0:
		v.add(path+".summary", problem.CodeHiddenCharacters)
	case strings.IndexFunc(p.Summary, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) >= 0:
		v.add(path+".summary", problem.CodeInvalidCharacters)
	case utf8.RuneCountInString(p.Summary) > maxSummaryRunes:
		v.add(path+".summary", problem.CodeTooLong)
	}
}

func (v *validator) contact(c Contact) {
	if c.Email == "" && c.Phone == "" {
		v.add("contact", problem.CodeRequired)
	}
	if c.Email != "" {
		switch {
		case len(c.Email) > maxEmailBytes:
			v.add("contact.email", problem.CodeTooLong)
		case !validEmail(c.Email):
			v.add("contact.email", problem.CodeInvalidEmail)
		}
	}
	if c.Phone != "" && !validPhone(c.Phone) {
		v.add("contact.phone", problem.CodeInvalidPhone)
	}
	v.enum("contact.preferred_channel", c.PreferredChannel, false, channels)
}

// validEmail accepts a bare address that net/mail parses back to itself: that
// refuses display names, comments, angle brackets and surrounding spaces
// without Haven growing its own address grammar.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && strings.Contains(s, "@")
}

// validPhone accepts E.164 as people write it: +, then 7 to 15 digits, with
// single spaces or hyphens allowed between digits.
func validPhone(s string) bool {
	if len(s) < 2 || s[0] != '+' {
		return false
	}
	digits := 0
	prevDigit := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
			prevDigit = true
		case (c == ' ' || c == '-') && prevDigit:
			prevDigit = false
		default:
			return false
		}
	}
	return prevDigit && digits >= minPhoneDigits && digits <= maxPhoneDigits
}
