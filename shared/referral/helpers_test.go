package referral

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/haven-hrd/haven/shared/problem"
)

// today is after the example's consent date, so the example is valid.
var today = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// example is the contract's example referral, decoded from testdata.
func example(t testing.TB) Input {
	t.Helper()
	in, err := DecodeJSON(readTestdata(t, "referral.json"))
	if err != nil {
		t.Fatalf("DecodeJSON(testdata/referral.json): %v", err)
	}
	return in
}

// fieldErrors returns the field errors of a validation error, failing the test
// for any other error.
func fieldErrors(t testing.TB, err error) []problem.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *problem.Error", err, err)
	}
	if pe.Kind != problem.Validation {
		t.Fatalf("error kind = %q, want %q", pe.Kind, problem.Validation)
	}
	return pe.Fields
}

func fe(field, code string) problem.FieldError {
	return problem.FieldError{Field: field, Code: code}
}

// encodeForm writes in as the web form would post it (rows numbered densely,
// empty optional values omitted).
func encodeForm(in Input, idempotencyKey string) url.Values {
	v := url.Values{}
	put := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	put("idempotency_key", idempotencyKey)
	put("stream", in.Stream)
	put("partner_reference", in.PartnerReference)
	put("urgency", string(in.Urgency))
	putPerson := func(prefix string, p Person) {
		put(prefix+".given_name", p.GivenName)
		put(prefix+".family_name", p.FamilyName)
		put(prefix+".date_of_birth", p.DateOfBirth)
		put(prefix+".sex", p.Sex)
		put(prefix+".nationality", p.Nationality)
		put(prefix+".relationship", p.Relationship)
	}
	putPerson("principal", in.Principal)
	for i, p := range in.FamilyMembers {
		putPerson("family_members."+strconv.Itoa(i), p)
	}
	put("country_of_asylum", in.CountryOfAsylum)
	for _, a := range in.DefenderProfile.RightsAreas {
		v.Add("defender_profile.rights_areas", a)
	}
	put("defender_profile.summary", in.DefenderProfile.Summary)
	put("contact.email", in.Contact.Email)
	put("contact.phone", in.Contact.Phone)
	put("contact.preferred_channel", in.Contact.PreferredChannel)
	put("preferred_language", in.PreferredLanguage)
	if in.Consent.Given {
		v.Set("consent.given", "true")
	}
	put("consent.date", in.Consent.Date)
	return v
}
