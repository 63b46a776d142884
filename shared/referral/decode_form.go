package referral

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
)

// Form keys that are not referral fields.
const (
	formIdempotencyKey = "idempotency_key"
	// formCSRFToken is sent by Haven's own web form and checked by the web
	// step before decoding; it must not count as an unknown field.
	formCSRFToken    = "csrf_token"
	formRightsAreas  = "defender_profile.rights_areas"
	formConsentGiven = "consent.given"
	formFamilyPrefix = "family_members."
)

var formScalars = map[string]func(*Input, string){
	"stream":                   func(in *Input, v string) { in.Stream = v },
	"partner_reference":        func(in *Input, v string) { in.PartnerReference = v },
	"urgency":                  func(in *Input, v string) { in.Urgency = Urgency(v) },
	"principal.given_name":     func(in *Input, v string) { in.Principal.GivenName = v },
	"principal.family_name":    func(in *Input, v string) { in.Principal.FamilyName = v },
	"principal.date_of_birth":  func(in *Input, v string) { in.Principal.DateOfBirth = v },
	"principal.sex":            func(in *Input, v string) { in.Principal.Sex = v },
	"principal.nationality":    func(in *Input, v string) { in.Principal.Nationality = v },
	"country_of_asylum":        func(in *Input, v string) { in.CountryOfAsylum = v },
	"defender_profile.summary": func(in *Input, v string) { in.DefenderProfile.Summary = v },
	"contact.email":            func(in *Input, v string) { in.Contact.Email = v },
	"contact.phone":            func(in *Input, v string) { in.Contact.Phone = v },
	"contact.preferred_channel": func(in *Input, v string) {
		in.Contact.PreferredChannel = v
	},
	"preferred_language": func(in *Input, v string) { in.PreferredLanguage = v },
	"consent.date":       func(in *Input, v string) { in.Consent.Date = v },
}

var formMemberFields = map[string]func(*Person, string){
	"given_name":    func(p *Person, v string) { p.GivenName = v },
	"family_name":   func(p *Person, v string) { p.FamilyName = v },
	"date_of_birth": func(p *Person, v string) { p.DateOfBirth = v },
	"sex":           func(p *Person, v string) { p.Sex = v },
	"nationality":   func(p *Person, v string) { p.Nationality = v },
	"relationship":  func(p *Person, v string) { p.Relationship = v },
}

// DecodeForm reads an application/x-www-form-urlencoded POST /referrals body
// whose keys are the JSON body's dotted paths, so that a form and a JSON body
// that say the same thing decode to the same Input and fail with the same
// field paths.
//
// A browser form is not a JSON document, so a few things differ from
// DecodeJSON, each so that what a person did in the form means what they
// meant:
//   - an empty value is the same as an absent field, and an empty
//     defender_profile.rights_areas value is ignored (but idempotency_key,
//     which is no referral field, is never empty: sent, it is 1–255 visible
//     ASCII characters, as the header is);
//   - family_members rows may be numbered sparsely (rows removed in the page):
//     they are kept in index order and renumbered from 0, and a row whose
//     values are all empty (a blank row left in the page) is dropped;
//   - consent.given is "true" or "false" (a checkbox sends nothing when
//     unticked);
//   - idempotency_key may be sent as a field, since a form cannot set headers,
//     and csrf_token is ignored (the web step checks it).
//
// A scalar key sent twice is reported as duplicate-value rather than letting
// one value silently win. Errors are listed in key order.
func DecodeForm(body []byte) (in Input, idempotencyKey string, err error) {
	if len(body) > MaxBodyBytes {
		return Input{}, "", problem.New(problem.PayloadTooLarge)
	}
	values, perr := url.ParseQuery(string(body))
	if perr != nil {
		return Input{}, "", malformed()
	}
	keys := make([]string, 0, len(values))
	for k, vs := range values {
		// Percent-escapes can spell invalid UTF-8; reject it rather than
		// store bytes no one can read back as a name.
		if !utf8.ValidString(k) {
			return Input{}, "", malformed()
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return Input{}, "", malformed()
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var fields []problem.FieldError
	fail := func(key, code string) {
		fields = append(fields, problem.FieldError{Field: shownKey(key), Code: code})
	}
	members := map[int]*Person{}
	filled := map[int]bool{}

	for _, k := range keys {
		vs := values[k]
		switch {
		case k == formCSRFToken:
			continue
		case k == formRightsAreas:
			// As in JSON, one past the limit is enough to say there are too many.
			for _, v := range vs {
				if v != "" && len(in.DefenderProfile.RightsAreas) <= MaxRightsAreas {
					in.DefenderProfile.RightsAreas = append(in.DefenderProfile.RightsAreas, v)
				}
			}
			continue
		}

		// Everything else is a scalar; work out where it goes first, so an
		// unknown key sent twice is reported as unknown.
		var set func(v string)
		switch {
		case k == formIdempotencyKey:
			set = func(v string) {
				// Not a referral field: a key the form sends empty or
				// malformed is wrong even when a header gives another.
				if !idempotency.ValidKey(v) {
					fail(k, problem.CodeMalformed)
				}
				idempotencyKey = v
			}
		case k == formConsentGiven:
			set = func(v string) {
				switch v {
				case "true":
					in.Consent.Given = true
				case "false", "":
					in.Consent.Given = false
				default:
					fail(k, problem.CodeWrongType)
				}
			}
		case strings.HasPrefix(k, formFamilyPrefix):
			idx, field, _ := strings.Cut(strings.TrimPrefix(k, formFamilyPrefix), ".")
			setField, known := formMemberFields[field]
			n, numeric := formIndex(idx)
			switch {
			case !known || !numeric:
				fail(k, problem.CodeUnknownField)
				continue
			case n >= MaxFamilyMembers:
				fail(k, problem.CodeOutOfRange)
				continue
			}
			set = func(v string) {
				p := members[n]
				if p == nil {
					p = &Person{}
					members[n] = p
				}
				setField(p, v)
				if v != "" {
					filled[n] = true
				}
			}
		default:
			s, known := formScalars[k]
			if !known {
				fail(k, problem.CodeUnknownField)
				continue
			}
			set = func(v string) { s(&in, v) }
		}
		if len(vs) > 1 {
			fail(k, problem.CodeDuplicate)
			continue
		}
		set(vs[0])
	}

	idx := make([]int, 0, len(members))
	for n := range members {
		if filled[n] {
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	for _, n := range idx {
		in.FamilyMembers = append(in.FamilyMembers, *members[n])
	}

	if len(fields) > 0 {
		return Input{}, "", problem.Invalid(fields...)
	}
	return in, idempotencyKey, nil
}

// formIndex parses a family row index. Only canonical decimal is numeric, so
// that "01" and "1" cannot name the same row twice; n is only meaningful when
// ok, and anything of three digits or more is reported as MaxFamilyMembers.
func formIndex(s string) (n int, ok bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	if len(s) > 2 {
		return MaxFamilyMembers, true
	}
	n, _ = strconv.Atoi(s)
	return n, true
}
