package referral

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/haven-hrd/haven/shared/problem"
)

func TestExampleDecodesAndIsValid(t *testing.T) {
	got := example(t)
	want := Input{
		Stream:           "hrd",
		PartnerReference: "FLD-2026-0042",
		Urgency:          Normal,
		Principal: Person{GivenName: "Nguyễn Thị", FamilyName: "Minh Khai",
			DateOfBirth: "1985-03-14", Sex: "F", Nationality: "VNM"},
		FamilyMembers: []Person{{GivenName: "An", FamilyName: "Minh", DateOfBirth: "2015-06-01",
			Sex: "M", Relationship: "child"}},
		CountryOfAsylum:   "THA",
		DefenderProfile:   Profile{RightsAreas: []string{"journalism", "land"}, Summary: "free text"},
		Contact:           Contact{Email: "a@example.org", Phone: "+66 2 123 4567", PreferredChannel: "signal"},
		PreferredLanguage: "en",
		Consent:           Consent{Given: true, Date: "2026-11-01"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("DecodeJSON(example) mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(today); err != nil {
		t.Fatalf("Validate(example) = %v, want nil", err)
	}
	if got.Persons() != 2 {
		t.Errorf("Persons() = %d, want 2", got.Persons())
	}
}

func TestPersons(t *testing.T) {
	for n := 0; n <= MaxFamilyMembers; n += 10 {
		in := Input{FamilyMembers: make([]Person, n)}
		if got := in.Persons(); got != n+1 {
			t.Errorf("Persons() with %d family members = %d, want %d", n, got, n+1)
		}
	}
}

func validMember() Person {
	return Person{GivenName: "An", FamilyName: "Minh", DateOfBirth: "2015-06-01", Sex: "M", Relationship: "child"}
}

func TestValidate(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	tests := []struct {
		name   string
		change func(in *Input)
		want   []problem.FieldError
	}{
		// stream
		{"stream missing", func(in *Input) { in.Stream = "" }, []problem.FieldError{fe("stream", problem.CodeRequired)}},
		{"stream upper case", func(in *Input) { in.Stream = "HRD" }, []problem.FieldError{fe("stream", problem.CodeUnknownStream)}},
		{"stream underscore", func(in *Input) { in.Stream = "hrd_temp" }, []problem.FieldError{fe("stream", problem.CodeUnknownStream)}},
		{"stream 41 chars", func(in *Input) { in.Stream = long("a", 41) }, []problem.FieldError{fe("stream", problem.CodeUnknownStream)}},
		{"stream 40 chars", func(in *Input) { in.Stream = long("a", 40) }, nil},
		{"stream with hyphen and digits", func(in *Input) { in.Stream = "hrd-temporary-2" }, nil},

		// partner_reference
		{"reference missing", func(in *Input) { in.PartnerReference = "" }, []problem.FieldError{fe("partner_reference", problem.CodeRequired)}},
		{"reference blank", func(in *Input) { in.PartnerReference = "  " }, []problem.FieldError{fe("partner_reference", problem.CodeRequired)}},
		{"reference 65 runes", func(in *Input) { in.PartnerReference = long("é", 65) }, []problem.FieldError{fe("partner_reference", problem.CodeTooLong)}},
		{"reference 64 runes", func(in *Input) { in.PartnerReference = long("é", 64) }, nil},
		{"reference 1 char", func(in *Input) { in.PartnerReference = "1" }, nil},
		{"reference NUL", func(in *Input) { in.PartnerReference = "FLD\x00" }, []problem.FieldError{fe("partner_reference", problem.CodeInvalidCharacters)}},
		{"reference newline", func(in *Input) { in.PartnerReference = "FLD\n1" }, []problem.FieldError{fe("partner_reference", problem.CodeInvalidCharacters)}},
		{"reference zero-width", func(in *Input) { in.PartnerReference = "FLD\u200b1" }, []problem.FieldError{fe("partner_reference", problem.CodeHiddenCharacters)}},
		{"reference bidi override", func(in *Input) { in.PartnerReference = "FLD\u202e1" }, []problem.FieldError{fe("partner_reference", problem.CodeHiddenCharacters)}},
		{"reference invalid UTF-8", func(in *Input) { in.PartnerReference = "FLD\xff" }, []problem.FieldError{fe("partner_reference", problem.CodeInvalidCharacters)}},

		// urgency
		{"urgency missing", func(in *Input) { in.Urgency = "" }, []problem.FieldError{fe("urgency", problem.CodeRequired)}},
		{"urgency unknown", func(in *Input) { in.Urgency = "high" }, []problem.FieldError{fe("urgency", problem.CodeNotAllowed)}},
		{"urgency wrong case", func(in *Input) { in.Urgency = "Urgent" }, []problem.FieldError{fe("urgency", problem.CodeNotAllowed)}},
		{"urgency urgent", func(in *Input) { in.Urgency = Urgent }, nil},
		{"urgency emergency", func(in *Input) { in.Urgency = Emergency }, nil},

		// names
		{"given name missing", func(in *Input) { in.Principal.GivenName = "" }, []problem.FieldError{fe("principal.given_name", problem.CodeRequired)}},
		{"given name spaces only", func(in *Input) { in.Principal.GivenName = "   " }, []problem.FieldError{fe("principal.given_name", problem.CodeRequired)}},
		{"given name tab only", func(in *Input) { in.Principal.GivenName = "\t" }, []problem.FieldError{fe("principal.given_name", problem.CodeRequired)}},
		{"given name 101 runes", func(in *Input) { in.Principal.GivenName = long("ễ", 101) }, []problem.FieldError{fe("principal.given_name", problem.CodeTooLong)}},
		{"given name 100 runes", func(in *Input) { in.Principal.GivenName = long("ễ", 100) }, nil},
		{"given name one letter", func(in *Input) { in.Principal.GivenName = "A" }, nil},
		{"given name digit", func(in *Input) { in.Principal.GivenName = "Anna2" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name punctuation only", func(in *Input) { in.Principal.GivenName = "-." }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name comma", func(in *Input) { in.Principal.GivenName = "Minh, An" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name tab inside", func(in *Input) { in.Principal.GivenName = "An\tMinh" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name control", func(in *Input) { in.Principal.GivenName = "An\x07" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name no-break space", func(in *Input) { in.Principal.GivenName = "An\u00a0Minh" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name U+200B", func(in *Input) { in.Principal.GivenName = "An\u200bMinh" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name U+200C", func(in *Input) { in.Principal.GivenName = "An\u200cMinh" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name U+200D", func(in *Input) { in.Principal.GivenName = "An\u200dMinh" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name U+2060", func(in *Input) { in.Principal.GivenName = "An\u2060Minh" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name U+FEFF", func(in *Input) { in.Principal.GivenName = "\ufeffAn" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name invalid UTF-8", func(in *Input) { in.Principal.GivenName = "An\xc3" }, []problem.FieldError{fe("principal.given_name", problem.CodeInvalidCharacters)}},
		{"given name allowed punctuation", func(in *Input) { in.Principal.GivenName = "Jean-Luc O'Brien N’Dour St." }, nil},
		{"family name missing", func(in *Input) { in.Principal.FamilyName = "" }, []problem.FieldError{fe("principal.family_name", problem.CodeRequired)}},
		{"family name digit", func(in *Input) { in.Principal.FamilyName = "Minh 3" }, []problem.FieldError{fe("principal.family_name", problem.CodeInvalidCharacters)}},

		// dates of birth
		{"birth date missing", func(in *Input) { in.Principal.DateOfBirth = "" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeRequired)}},
		{"birth date unpadded", func(in *Input) { in.Principal.DateOfBirth = "1985-3-14" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeInvalidDate)}},
		{"birth date not a day", func(in *Input) { in.Principal.DateOfBirth = "1985-02-29" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeInvalidDate)}},
		{"birth date leap day", func(in *Input) { in.Principal.DateOfBirth = "1984-02-29" }, nil},
		{"birth date month 13", func(in *Input) { in.Principal.DateOfBirth = "1985-13-01" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeInvalidDate)}},
		{"birth date other format", func(in *Input) { in.Principal.DateOfBirth = "14/03/1985" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeInvalidDate)}},
		{"birth date with time", func(in *Input) { in.Principal.DateOfBirth = "1985-03-14T00:00:00Z" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeInvalidDate)}},
		{"birth date full-width digits", func(in *Input) { in.Principal.DateOfBirth = "１９８５-03-14" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeInvalidDate)}},
		{"birth date tomorrow", func(in *Input) { in.Principal.DateOfBirth = "2026-11-16" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeFutureDate)}},
		{"birth date today", func(in *Input) { in.Principal.DateOfBirth = "2026-11-15" }, nil},
		{"birth date 1899", func(in *Input) { in.Principal.DateOfBirth = "1899-12-31" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeTooOld)}},
		{"birth date year 0", func(in *Input) { in.Principal.DateOfBirth = "0000-01-01" }, []problem.FieldError{fe("principal.date_of_birth", problem.CodeTooOld)}},
		{"birth date 1900-01-01", func(in *Input) { in.Principal.DateOfBirth = "1900-01-01" }, nil},

		// sex
		{"sex missing", func(in *Input) { in.Principal.Sex = "" }, []problem.FieldError{fe("principal.sex", problem.CodeRequired)}},
		{"sex lower case", func(in *Input) { in.Principal.Sex = "f" }, []problem.FieldError{fe("principal.sex", problem.CodeNotAllowed)}},
		{"sex word", func(in *Input) { in.Principal.Sex = "Female" }, []problem.FieldError{fe("principal.sex", problem.CodeNotAllowed)}},
		{"sex X", func(in *Input) { in.Principal.Sex = "X" }, nil},

		// nationality and country
		{"nationality missing", func(in *Input) { in.Principal.Nationality = "" }, []problem.FieldError{fe("principal.nationality", problem.CodeRequired)}},
		{"nationality lower case", func(in *Input) { in.Principal.Nationality = "vnm" }, []problem.FieldError{fe("principal.nationality", problem.CodeInvalidCountry)}},
		{"nationality alpha-2", func(in *Input) { in.Principal.Nationality = "VN" }, []problem.FieldError{fe("principal.nationality", problem.CodeInvalidCountry)}},
		{"nationality user-assigned", func(in *Input) { in.Principal.Nationality = "XKX" }, []problem.FieldError{fe("principal.nationality", problem.CodeInvalidCountry)}},
		{"nationality PSE", func(in *Input) { in.Principal.Nationality = "PSE" }, nil},
		{"principal relationship", func(in *Input) { in.Principal.Relationship = "self" }, []problem.FieldError{fe("principal.relationship", problem.CodeUnknownField)}},
		{"country missing", func(in *Input) { in.CountryOfAsylum = "" }, []problem.FieldError{fe("country_of_asylum", problem.CodeRequired)}},
		{"country lower case", func(in *Input) { in.CountryOfAsylum = "tha" }, []problem.FieldError{fe("country_of_asylum", problem.CodeInvalidCountry)}},
		{"country ZZZ", func(in *Input) { in.CountryOfAsylum = "ZZZ" }, []problem.FieldError{fe("country_of_asylum", problem.CodeInvalidCountry)}},

		// family members
		{"no family", func(in *Input) { in.FamilyMembers = nil }, nil},
		{"member relationship missing", func(in *Input) { in.FamilyMembers[0].Relationship = "" }, []problem.FieldError{fe("family_members.0.relationship", problem.CodeRequired)}},
		{"member relationship unknown", func(in *Input) { in.FamilyMembers[0].Relationship = "cousin" }, []problem.FieldError{fe("family_members.0.relationship", problem.CodeNotAllowed)}},
		{"member nationality invalid", func(in *Input) { in.FamilyMembers[0].Nationality = "ZZZ" }, []problem.FieldError{fe("family_members.0.nationality", problem.CodeInvalidCountry)}},
		{"member nationality given", func(in *Input) { in.FamilyMembers[0].Nationality = "THA" }, nil},
		{"second member born tomorrow", func(in *Input) {
			m := validMember()
			m.DateOfBirth = "2026-11-16"
			in.FamilyMembers = append(in.FamilyMembers, m)
		}, []problem.FieldError{fe("family_members.1.date_of_birth", problem.CodeFutureDate)}},
		{"every relationship", func(in *Input) {
			in.FamilyMembers = nil
			for _, r := range []string{"spouse", "partner", "child", "parent", "sibling", "other-dependant"} {
				m := validMember()
				m.Relationship = r
				in.FamilyMembers = append(in.FamilyMembers, m)
			}
		}, nil},
		{"30 members", func(in *Input) {
			in.FamilyMembers = nil
			for range MaxFamilyMembers {
				in.FamilyMembers = append(in.FamilyMembers, validMember())
			}
		}, nil},
		{"31 members", func(in *Input) {
			in.FamilyMembers = nil
			for range MaxFamilyMembers + 1 {
				in.FamilyMembers = append(in.FamilyMembers, validMember())
			}
		}, []problem.FieldError{fe("family_members", problem.CodeTooMany)}},

		// defender profile
		{"rights areas nil", func(in *Input) { in.DefenderProfile.RightsAreas = nil }, []problem.FieldError{fe("defender_profile.rights_areas", problem.CodeRequired)}},
		{"rights areas empty", func(in *Input) { in.DefenderProfile.RightsAreas = []string{} }, []problem.FieldError{fe("defender_profile.rights_areas", problem.CodeRequired)}},
		{"rights area unknown", func(in *Input) { in.DefenderProfile.RightsAreas = []string{"land", "sport"} }, []problem.FieldError{fe("defender_profile.rights_areas.1", problem.CodeNotAllowed)}},
		{"rights area empty string", func(in *Input) { in.DefenderProfile.RightsAreas = []string{""} }, []problem.FieldError{fe("defender_profile.rights_areas.0", problem.CodeRequired)}},
		{"rights area repeated", func(in *Input) { in.DefenderProfile.RightsAreas = []string{"land", "women", "land"} }, []problem.FieldError{fe("defender_profile.rights_areas.2", problem.CodeDuplicate)}},
		{"every rights area", func(in *Input) {
			in.DefenderProfile.RightsAreas = []string{"journalism", "lgbtqi", "women", "environment", "land",
				"indigenous", "labour", "anti-corruption", "democracy", "minority", "other"}
		}, nil},
		{"summary empty", func(in *Input) { in.DefenderProfile.Summary = "" }, nil},
		{"summary 4000 runes", func(in *Input) { in.DefenderProfile.Summary = long("ễ", 4000) }, nil},
		{"summary 4001 runes", func(in *Input) { in.DefenderProfile.Summary = long("ễ", 4001) }, []problem.FieldError{fe("defender_profile.summary", problem.CodeTooLong)}},
		{"summary lines and tabs", func(in *Input) { in.DefenderProfile.Summary = "one\r\ntwo\tthree" }, nil},
		{"summary NUL", func(in *Input) { in.DefenderProfile.Summary = "one\x00two" }, []problem.FieldError{fe("defender_profile.summary", problem.CodeInvalidCharacters)}},
		{"summary right-to-left override", func(in *Input) { in.DefenderProfile.Summary = "paid \u202egnp.exe" }, []problem.FieldError{fe("defender_profile.summary", problem.CodeHiddenCharacters)}},
		{"summary right-to-left isolate", func(in *Input) { in.DefenderProfile.Summary = "a \u2067b\u2069" }, []problem.FieldError{fe("defender_profile.summary", problem.CodeHiddenCharacters)}},
		{"summary zero-width space", func(in *Input) { in.DefenderProfile.Summary = "threat\u200bened" }, []problem.FieldError{fe("defender_profile.summary", problem.CodeHiddenCharacters)}},
		{"summary zero-width joiner", func(in *Input) { in.DefenderProfile.Summary = "a\u200db" }, []problem.FieldError{fe("defender_profile.summary", problem.CodeHiddenCharacters)}},
		{"summary line separator", func(in *Input) { in.DefenderProfile.Summary = "one\u2028two" }, []problem.FieldError{fe("defender_profile.summary", problem.CodeHiddenCharacters)}},
		{"summary Arabic and Hebrew text", func(in *Input) { in.DefenderProfile.Summary = "مدافعة عن حقوق الأرض — שלום" }, nil},

		// contact
		{"no email or phone", func(in *Input) { in.Contact.Email, in.Contact.Phone = "", "" }, []problem.FieldError{fe("contact", problem.CodeRequired)}},
		{"email only", func(in *Input) { in.Contact.Phone = "" }, nil},
		{"phone only", func(in *Input) { in.Contact.Email = "" }, nil},
		{"email without at", func(in *Input) { in.Contact.Email = "a.example.org" }, []problem.FieldError{fe("contact.email", problem.CodeInvalidEmail)}},
		{"email with name", func(in *Input) { in.Contact.Email = "An <a@example.org>" }, []problem.FieldError{fe("contact.email", problem.CodeInvalidEmail)}},
		{"email in brackets", func(in *Input) { in.Contact.Email = "<a@example.org>" }, []problem.FieldError{fe("contact.email", problem.CodeInvalidEmail)}},
		{"email with space", func(in *Input) { in.Contact.Email = " a@example.org" }, []problem.FieldError{fe("contact.email", problem.CodeInvalidEmail)}},
		{"email two addresses", func(in *Input) { in.Contact.Email = "a@example.org, b@example.org" }, []problem.FieldError{fe("contact.email", problem.CodeInvalidEmail)}},
		{"email 255 bytes", func(in *Input) { in.Contact.Email = long("a", 243) + "@example.org" }, []problem.FieldError{fe("contact.email", problem.CodeTooLong)}},
		{"email plus tag", func(in *Input) { in.Contact.Email = "an+haven@example.org" }, nil},
		{"phone without plus", func(in *Input) { in.Contact.Phone = "021234567" }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"phone 6 digits", func(in *Input) { in.Contact.Phone = "+123456" }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"phone 7 digits", func(in *Input) { in.Contact.Phone = "+1234567" }, nil},
		{"phone 15 digits", func(in *Input) { in.Contact.Phone = "+123456789012345" }, nil},
		{"phone 16 digits", func(in *Input) { in.Contact.Phone = "+1234567890123456" }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"phone hyphens", func(in *Input) { in.Contact.Phone = "+66-2-123-4567" }, nil},
		{"phone double space", func(in *Input) { in.Contact.Phone = "+66  2 123 4567" }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"phone space after plus", func(in *Input) { in.Contact.Phone = "+ 66 2 123 4567" }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"phone trailing space", func(in *Input) { in.Contact.Phone = "+66 2 123 4567 " }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"phone brackets", func(in *Input) { in.Contact.Phone = "+66 (2) 123 4567" }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"phone ellipsis", func(in *Input) { in.Contact.Phone = "+66…" }, []problem.FieldError{fe("contact.phone", problem.CodeInvalidPhone)}},
		{"channel unknown", func(in *Input) { in.Contact.PreferredChannel = "sms" }, []problem.FieldError{fe("contact.preferred_channel", problem.CodeNotAllowed)}},
		{"channel absent", func(in *Input) { in.Contact.PreferredChannel = "" }, nil},
		{"channel whatsapp", func(in *Input) { in.Contact.PreferredChannel = "whatsapp" }, nil},

		// language
		{"language absent", func(in *Input) { in.PreferredLanguage = "" }, nil},
		{"language fr", func(in *Input) { in.PreferredLanguage = "fr" }, nil},
		{"language de", func(in *Input) { in.PreferredLanguage = "de" }, []problem.FieldError{fe("preferred_language", problem.CodeNotAllowed)}},
		{"language upper case", func(in *Input) { in.PreferredLanguage = "EN" }, []problem.FieldError{fe("preferred_language", problem.CodeNotAllowed)}},

		// consent
		{"consent not given", func(in *Input) { in.Consent.Given = false }, []problem.FieldError{fe("consent.given", problem.CodeMustBeTrue)}},
		{"consent date missing", func(in *Input) { in.Consent.Date = "" }, []problem.FieldError{fe("consent.date", problem.CodeRequired)}},
		{"consent date invalid", func(in *Input) { in.Consent.Date = "2026-11-31" }, []problem.FieldError{fe("consent.date", problem.CodeInvalidDate)}},
		{"consent date tomorrow", func(in *Input) { in.Consent.Date = "2026-11-16" }, []problem.FieldError{fe("consent.date", problem.CodeFutureDate)}},
		{"consent date today", func(in *Input) { in.Consent.Date = "2026-11-15" }, nil},

		// several at once: every failing field, in body order
		{"several fields", func(in *Input) {
			in.Urgency = "soon"
			in.Principal.DateOfBirth = "1985-02-30"
			in.FamilyMembers = append(in.FamilyMembers, Person{GivenName: "Bé\u200b", Sex: "Q"})
			in.Contact.Email = "nope"
			in.Consent.Given = false
		}, []problem.FieldError{
			fe("urgency", problem.CodeNotAllowed),
			fe("principal.date_of_birth", problem.CodeInvalidDate),
			fe("family_members.1.given_name", problem.CodeInvalidCharacters),
			fe("family_members.1.family_name", problem.CodeRequired),
			fe("family_members.1.date_of_birth", problem.CodeRequired),
			fe("family_members.1.sex", problem.CodeNotAllowed),
			fe("family_members.1.relationship", problem.CodeRequired),
			fe("contact.email", problem.CodeInvalidEmail),
			fe("consent.given", problem.CodeMustBeTrue),
		}},
	}
	base := example(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.FamilyMembers = append([]Person(nil), base.FamilyMembers...)
			in.DefenderProfile.RightsAreas = append([]string(nil), base.DefenderProfile.RightsAreas...)
			tt.change(&in)
			got := fieldErrors(t, in.Validate(today))
			// The allowed lists are TestNotAllowedNamesTheChoices's.
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(problem.FieldError{}, "Allowed")); diff != "" {
				t.Errorf("Validate() field errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A value outside a closed list is refused with the list, so that the error
// tells the client what to send.
func TestNotAllowedNamesTheChoices(t *testing.T) {
	in := example(t)
	in.Urgency = "soon"
	in.Principal.Sex = "f"
	in.FamilyMembers[0].Relationship = "cousin"
	in.DefenderProfile.RightsAreas = []string{"land", "press"}
	in.Contact.PreferredChannel = "fax"
	in.PreferredLanguage = "de"
	want := []problem.FieldError{
		{Field: "urgency", Code: problem.CodeNotAllowed, Allowed: []string{"normal", "urgent", "emergency"}},
		{Field: "principal.sex", Code: problem.CodeNotAllowed, Allowed: []string{"F", "M", "X"}},
		{Field: "family_members.0.relationship", Code: problem.CodeNotAllowed, Allowed: []string{"spouse", "partner", "child", "parent", "sibling", "other-dependant"}},
		{Field: "defender_profile.rights_areas.1", Code: problem.CodeNotAllowed, Allowed: []string{"journalism", "lgbtqi", "women", "environment", "land", "indigenous",
			"labour", "anti-corruption", "democracy", "minority", "other"}},
		{Field: "contact.preferred_channel", Code: problem.CodeNotAllowed, Allowed: []string{"email", "phone", "signal", "whatsapp", "other"}},
		{Field: "preferred_language", Code: problem.CodeNotAllowed, Allowed: []string{"en", "fr"}},
	}
	if diff := cmp.Diff(want, fieldErrors(t, in.Validate(today))); diff != "" {
		t.Errorf("Validate() field errors mismatch (-want +got):\n%s", diff)
	}
	if len(rightsAreas) != MaxRightsAreas {
		t.Errorf("%d rights areas, MaxRightsAreas %d", len(rightsAreas), MaxRightsAreas)
	}
}

func TestValidateEmptyListsEveryRequiredField(t *testing.T) {
	got := fieldErrors(t, Input{}.Validate(today))
	want := []problem.FieldError{
		fe("stream", problem.CodeRequired),
		fe("partner_reference", problem.CodeRequired),
		fe("urgency", problem.CodeRequired),
		fe("principal.given_name", problem.CodeRequired),
		fe("principal.family_name", problem.CodeRequired),
		fe("principal.date_of_birth", problem.CodeRequired),
		fe("principal.sex", problem.CodeRequired),
		fe("principal.nationality", problem.CodeRequired),
		fe("country_of_asylum", problem.CodeRequired),
		fe("defender_profile.rights_areas", problem.CodeRequired),
		fe("contact", problem.CodeRequired),
		fe("consent.given", problem.CodeMustBeTrue),
		fe("consent.date", problem.CodeRequired),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Input{}.Validate() mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateUsesTodaysDateNotTime(t *testing.T) {
	in := example(t)
	in.Consent.Date = "2026-11-15"
	// Late in the day, or at midnight, the date is still the 15th.
	for _, now := range []string{"2026-11-15T00:00:00Z", "2026-11-15T23:59:59Z"} {
		ts, err := time.Parse(time.RFC3339, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Validate(ts); err != nil {
			t.Errorf("Validate(%s) = %v, want nil", now, err)
		}
	}
	if diff := cmp.Diff([]problem.FieldError{fe("consent.date", problem.CodeFutureDate)},
		fieldErrors(t, in.Validate(time.Date(2026, 11, 14, 23, 59, 0, 0, time.UTC)))); diff != "" {
		t.Errorf("Validate(the day before) mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateFamily(t *testing.T) {
	many := make([]Person, MaxFamilyMembers+1)
	for i := range many {
		many[i] = validMember()
	}
	bad := validMember()
	bad.GivenName = "An1"
	bad.Nationality = "tha"
	tests := []struct {
		name    string
		members []Person
		want    []problem.FieldError
	}{
		{"none", nil, nil},
		{"one valid", []Person{validMember()}, nil},
		{"thirty", many[:MaxFamilyMembers], nil},
		{"thirty-one", many, []problem.FieldError{fe("family_members", problem.CodeTooMany)}},
		{"second invalid", []Person{validMember(), bad}, []problem.FieldError{
			fe("family_members.1.given_name", problem.CodeInvalidCharacters),
			fe("family_members.1.nationality", problem.CodeInvalidCountry),
		}},
		{"empty member", []Person{{}}, []problem.FieldError{
			fe("family_members.0.given_name", problem.CodeRequired),
			fe("family_members.0.family_name", problem.CodeRequired),
			fe("family_members.0.date_of_birth", problem.CodeRequired),
			fe("family_members.0.sex", problem.CodeRequired),
			fe("family_members.0.relationship", problem.CodeRequired),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldErrors(t, ValidateFamily(tt.members, today))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidateFamily() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCountries(t *testing.T) {
	if len(countries) != 249 {
		t.Errorf("len(countries) = %d, want the 249 assigned ISO 3166-1 alpha-3 codes", len(countries))
	}
	for c := range countries {
		if len(c) != 3 || strings.ToUpper(c) != c {
			t.Errorf("country code %q is not three upper-case letters", c)
		}
	}
	for _, c := range []string{"THA", "VNM", "FRA", "CAN", "SSD", "TWN", "ALA", "BES"} {
		if !countries[c] {
			t.Errorf("countries[%q] = false, want true", c)
		}
	}
}
