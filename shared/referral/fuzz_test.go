package referral

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/problem"
)

// checkDecodeError fails unless err is one of the errors the decoders promise:
// a validation error or payload-too-large, never anything a handler would
// have to map to 500.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *problem.Error", err, err)
	}
	switch pe.Kind {
	case problem.Validation:
		if len(pe.Fields) == 0 {
			t.Fatalf("validation error without fields")
		}
	case problem.PayloadTooLarge:
	default:
		t.Fatalf("unexpected kind %q", pe.Kind)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(readTestdata(f, "referral.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := DecodeJSON(body)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		_ = in.Validate(today)
		_ = in.Persons()

		again, err := json.Marshal(withLists(in))
		if err != nil {
			t.Fatalf("json.Marshal(decoded): %v", err)
		}
		if len(again) > MaxBodyBytes {
			return // json.Marshal escapes <, > and & into six bytes each
		}
		got, err := DecodeJSON(again)
		if err != nil {
			t.Fatalf("DecodeJSON(re-encoded %q): %v", again, err)
		}
		if diff := cmp.Diff(in, got); diff != "" {
			t.Fatalf("re-encoding changed the input (-first +second):\n%s", diff)
		}

		// A family body made of the same members decodes the same.
		fam, err := json.Marshal(map[string][]Person{"family_members": withLists(in).FamilyMembers})
		if err != nil {
			t.Fatal(err)
		}
		members, err := DecodeFamilyJSON(fam)
		if err != nil {
			t.Fatalf("DecodeFamilyJSON(%q): %v", fam, err)
		}
		if diff := cmp.Diff(in.FamilyMembers, members); diff != "" {
			t.Fatalf("DecodeFamilyJSON mismatch (-want +got):\n%s", diff)
		}
		_ = ValidateFamily(members, today)
	})
}

func FuzzDecodeForm(f *testing.F) {
	f.Add(readTestdata(f, "referral.form"))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, key, err := DecodeForm(body)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		_ = in.Validate(today)

		// What decoded from a form encodes back to one that decodes the
		// same, and to JSON that decodes the same.
		form := encodeForm(in, key)
		if len(form.Encode()) > MaxBodyBytes {
			return // the body may have sent bytes unescaped that Encode escapes
		}
		got, gotKey, err := DecodeForm([]byte(form.Encode()))
		if err != nil {
			t.Fatalf("DecodeForm(re-encoded %q): %v", form.Encode(), err)
		}
		if diff := cmp.Diff(in, got); diff != "" || gotKey != key {
			t.Fatalf("form re-encoding changed the input (key %q -> %q) (-first +second):\n%s", key, gotKey, diff)
		}
		js, err := json.Marshal(withLists(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(js) > MaxBodyBytes {
			return
		}
		fromJSON, err := DecodeJSON(js)
		if err != nil {
			t.Fatalf("DecodeJSON(%q): %v", js, err)
		}
		if diff := cmp.Diff(in, fromJSON); diff != "" {
			t.Fatalf("form and JSON disagree (-form +json):\n%s", diff)
		}
	})
}

// FuzzDecodeFamilyJSON covers the body of PUT /referrals/{id}/family.
func FuzzDecodeFamilyJSON(f *testing.F) {
	for _, s := range []string{
		`{"family_members":[{"given_name":"An","family_name":"Minh","date_of_birth":"2015-06-01","sex":"M","relationship":"child"}]}`,
		`{"family_members":[]}`, `{}`, `{"family_members":null}`, `{"family_members":[null]}`, `{"x":1}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		members, err := DecodeFamilyJSON(body)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		_ = ValidateFamily(members, today)
	})
}

// withLists is in as a client sends it: lists are [] when empty, since the
// decoders refuse null (json.Marshal's nil slice).
func withLists(in Input) Input {
	if in.FamilyMembers == nil {
		in.FamilyMembers = []Person{}
	}
	if in.DefenderProfile.RightsAreas == nil {
		in.DefenderProfile.RightsAreas = []string{}
	}
	return in
}
