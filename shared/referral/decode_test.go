package referral

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/problem"
)

func TestDecodeJSONErrors(t *testing.T) {
	malformed := []problem.FieldError{fe("", problem.CodeMalformed)}
	tests := []struct {
		name string
		body string
		want []problem.FieldError
	}{
		{"empty body", ``, malformed},
		{"whitespace only", "  \n", malformed},
		{"truncated", `{"stream": "hrd"`, malformed},
		{"trailing comma", `{"stream": "hrd",}`, malformed},
		{"single quotes", `{'stream': 'hrd'}`, malformed},
		{"trailing object", `{} {}`, malformed},
		{"trailing garbage", `{"stream": "hrd"}x`, malformed},
		{"invalid UTF-8 in a name", "{\"principal\": {\"given_name\": \"An\xff\"}}", malformed},
		{"byte order mark", "\ufeff{}", malformed},
		{"array body", `[]`, []problem.FieldError{fe("", problem.CodeWrongType)}},
		{"null body", `null`, []problem.FieldError{fe("", problem.CodeWrongType)}},
		{"string body", `"hrd"`, []problem.FieldError{fe("", problem.CodeWrongType)}},
		{"unknown top-level field", `{"status": "approved"}`, []problem.FieldError{fe("status", problem.CodeUnknownField)}},
		{"keys are case-sensitive", `{"Stream": "hrd"}`, []problem.FieldError{fe("Stream", problem.CodeUnknownField)}},
		{"unknown principal field", `{"principal": {"middle_name": "x"}}`, []problem.FieldError{fe("principal.middle_name", problem.CodeUnknownField)}},
		{"principal has no relationship", `{"principal": {"relationship": "child"}}`, []problem.FieldError{fe("principal.relationship", problem.CodeUnknownField)}},
		{"unknown member field", `{"family_members": [{}, {"id": "x"}]}`, []problem.FieldError{fe("family_members.1.id", problem.CodeUnknownField)}},
		{"unknown profile field", `{"defender_profile": {"risk": "high"}}`, []problem.FieldError{fe("defender_profile.risk", problem.CodeUnknownField)}},
		{"unknown contact field", `{"contact": {"fax": "1"}}`, []problem.FieldError{fe("contact.fax", problem.CodeUnknownField)}},
		{"unknown consent field", `{"consent": {"by": "x"}}`, []problem.FieldError{fe("consent.by", problem.CodeUnknownField)}},
		{"unknown field with nested value", `{"x": {"a": [1, {"b": [[]]}]}, "y": 1}`, []problem.FieldError{
			fe("x", problem.CodeUnknownField), fe("y", problem.CodeUnknownField)}},
		{"long unknown key is shortened", `{"` + strings.Repeat("k", 100) + `": 1}`, []problem.FieldError{
			fe(strings.Repeat("k", 64)+"…", problem.CodeUnknownField)}},
		{"duplicate key", `{"stream": "hrd", "stream": "other"}`, []problem.FieldError{fe("stream", problem.CodeDuplicate)}},
		{"duplicate key by escape", `{"stream": "hrd", "str\u0065am": "other"}`, []problem.FieldError{fe("stream", problem.CodeDuplicate)}},
		{"duplicate nested key", `{"consent": {"given": false, "given": true}}`, []problem.FieldError{fe("consent.given", problem.CodeDuplicate)}},
		{"number for string", `{"stream": 1}`, []problem.FieldError{fe("stream", problem.CodeWrongType)}},
		{"bool for string", `{"urgency": true}`, []problem.FieldError{fe("urgency", problem.CodeWrongType)}},
		{"object for string", `{"partner_reference": {"a": [1]}, "urgency": "normal"}`, []problem.FieldError{fe("partner_reference", problem.CodeWrongType)}},
		{"string for object", `{"principal": "An"}`, []problem.FieldError{fe("principal", problem.CodeWrongType)}},
		{"array for object", `{"contact": ["a@example.org"]}`, []problem.FieldError{fe("contact", problem.CodeWrongType)}},
		{"string for bool", `{"consent": {"given": "true"}}`, []problem.FieldError{fe("consent.given", problem.CodeWrongType)}},
		{"object for array", `{"family_members": {"0": {}}}`, []problem.FieldError{fe("family_members", problem.CodeWrongType)}},
		{"number in family", `{"family_members": [{}, 1]}`, []problem.FieldError{fe("family_members.1", problem.CodeWrongType)}},
		{"null in family", `{"family_members": [null]}`, []problem.FieldError{fe("family_members.0", problem.CodeWrongType)}},
		{"string for array", `{"defender_profile": {"rights_areas": "land"}}`, []problem.FieldError{fe("defender_profile.rights_areas", problem.CodeWrongType)}},
		{"number in rights areas", `{"defender_profile": {"rights_areas": ["land", 2]}}`, []problem.FieldError{fe("defender_profile.rights_areas.1", problem.CodeWrongType)}},
		{"null in rights areas", `{"defender_profile": {"rights_areas": [null]}}`, []problem.FieldError{fe("defender_profile.rights_areas.0", problem.CodeWrongType)}},
		{"number for name", `{"family_members": [{"given_name": 7}]}`, []problem.FieldError{fe("family_members.0.given_name", problem.CodeWrongType)}},
		{"every problem listed in body order", `{"zz": 1, "stream": 2, "principal": {"sex": ["F"], "x": null}, "consent": {"given": 1}}`, []problem.FieldError{
			fe("zz", problem.CodeUnknownField),
			fe("stream", problem.CodeWrongType),
			fe("principal.sex", problem.CodeWrongType),
			fe("principal.x", problem.CodeUnknownField),
			fe("consent.given", problem.CodeWrongType),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := DecodeJSON([]byte(tt.body))
			if err == nil {
				t.Fatalf("DecodeJSON(%q) = %+v, nil; want an error", tt.body, in)
			}
			if diff := cmp.Diff(tt.want, fieldErrors(t, err)); diff != "" {
				t.Errorf("DecodeJSON(%q) field errors mismatch (-want +got):\n%s", tt.body, diff)
			}
			if diff := cmp.Diff(Input{}, in); diff != "" {
				t.Errorf("DecodeJSON returned a partial Input with its error:\n%s", diff)
			}
		})
	}
}

// No request property of the contract is nullable, so null is a value of the
// wrong type wherever it appears, never an absent field.
func TestDecodeJSONNullIsWrongType(t *testing.T) {
	body := `{"stream": null, "principal": null, "family_members": null, "contact": {"email": null},
		"defender_profile": {"rights_areas": null}, "consent": {"given": null, "date": null}}`
	_, err := DecodeJSON([]byte(body))
	want := []problem.FieldError{
		fe("stream", problem.CodeWrongType), fe("principal", problem.CodeWrongType),
		fe("family_members", problem.CodeWrongType), fe("contact.email", problem.CodeWrongType),
		fe("defender_profile.rights_areas", problem.CodeWrongType),
		fe("consent.given", problem.CodeWrongType), fe("consent.date", problem.CodeWrongType),
	}
	if diff := cmp.Diff(want, fieldErrors(t, err)); diff != "" {
		t.Errorf("DecodeJSON field errors mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeJSONEmptyListsAreNil(t *testing.T) {
	// So that a JSON body, a form and a re-encoded body compare equal.
	got, err := DecodeJSON([]byte(`{"family_members": [], "defender_profile": {"rights_areas": []}}`))
	if err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if got.FamilyMembers != nil || got.DefenderProfile.RightsAreas != nil {
		t.Errorf("empty lists decoded as %#v and %#v, want nil", got.FamilyMembers, got.DefenderProfile.RightsAreas)
	}
}

func TestDecodeJSONSize(t *testing.T) {
	// A body of exactly MaxBodyBytes is read; one byte more is refused.
	prefix, suffix := `{"defender_profile": {"summary": "`, `"}}`
	body := prefix + strings.Repeat("a", MaxBodyBytes-len(prefix)-len(suffix)) + suffix
	if _, err := DecodeJSON([]byte(body)); err != nil {
		t.Errorf("DecodeJSON(%d bytes) = %v, want nil", len(body), err)
	}
	body = prefix + strings.Repeat("a", MaxBodyBytes-len(prefix)-len(suffix)+1) + suffix
	_, err := DecodeJSON([]byte(body))
	if k := problem.KindOf(err); k != problem.PayloadTooLarge {
		t.Errorf("DecodeJSON(%d bytes) kind = %q, want %q", len(body), k, problem.PayloadTooLarge)
	}
}

func TestDecodeJSONDeepNesting(t *testing.T) {
	nested := func(depth int) []byte {
		return []byte(`{"x": ` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
	}
	// Deep but within encoding/json's nesting limit: skipped as an unknown
	// field without recursion.
	_, err := DecodeJSON(nested(9000))
	if diff := cmp.Diff([]problem.FieldError{fe("x", problem.CodeUnknownField)}, fieldErrors(t, err)); diff != "" {
		t.Errorf("depth 9000 mismatch (-want +got):\n%s", diff)
	}
	// Beyond it, the body is not JSON Haven will read.
	_, err = DecodeJSON(nested(MaxBodyBytes/2 - 10))
	if diff := cmp.Diff([]problem.FieldError{fe("", problem.CodeMalformed)}, fieldErrors(t, err)); diff != "" {
		t.Errorf("depth 32K mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeFamilyJSON(t *testing.T) {
	an := validMember()
	tests := []struct {
		name string
		body string
		want []Person
		errs []problem.FieldError
	}{
		{"one member", `{"family_members": [{"given_name": "An", "family_name": "Minh", "date_of_birth": "2015-06-01", "sex": "M", "relationship": "child"}]}`, []Person{an}, nil},
		{"empty list", `{"family_members": []}`, nil, nil},
		{"missing list", `{}`, nil, []problem.FieldError{fe("family_members", problem.CodeRequired)}},
		{"null list", `{"family_members": null}`, nil, []problem.FieldError{fe("family_members", problem.CodeWrongType)}},
		{"unknown field", `{"family_members": [], "persons": 1}`, nil, []problem.FieldError{fe("persons", problem.CodeUnknownField)}},
		{"unknown member field", `{"family_members": [{"given_name": "An", "age": 9}]}`, nil, []problem.FieldError{fe("family_members.0.age", problem.CodeUnknownField)}},
		{"wrong type", `{"family_members": "An"}`, nil, []problem.FieldError{fe("family_members", problem.CodeWrongType)}},
		{"array body", `[{"given_name": "An"}]`, nil, []problem.FieldError{fe("", problem.CodeWrongType)}},
		{"malformed", `{"family_members": [}`, nil, []problem.FieldError{fe("", problem.CodeMalformed)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeFamilyJSON([]byte(tt.body))
			if diff := cmp.Diff(tt.errs, fieldErrors(t, err)); diff != "" {
				t.Errorf("DecodeFamilyJSON(%q) errors mismatch (-want +got):\n%s", tt.body, diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeFamilyJSON(%q) mismatch (-want +got):\n%s", tt.body, diff)
			}
		})
	}
	_, err := DecodeFamilyJSON([]byte(`{"family_members": ["` + strings.Repeat("a", MaxBodyBytes) + `"]}`))
	if k := problem.KindOf(err); k != problem.PayloadTooLarge {
		t.Errorf("DecodeFamilyJSON(too large) kind = %q, want %q", k, problem.PayloadTooLarge)
	}
}

func TestDecodeFormMatchesJSON(t *testing.T) {
	want := example(t)
	got, key, err := DecodeForm(readTestdata(t, "referral.form"))
	if err != nil {
		t.Fatalf("DecodeForm(testdata/referral.form): %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("form and JSON decode differently (-json +form):\n%s", diff)
	}
	if key != "form-2026-0042" {
		t.Errorf("idempotency key = %q, want %q", key, "form-2026-0042")
	}

	// The same through the test encoder, with the fields in another order.
	got, key, err = DecodeForm([]byte(encodeForm(want, "").Encode()))
	if err != nil {
		t.Fatalf("DecodeForm(encodeForm(example)): %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("encodeForm round trip mismatch (-want +got):\n%s", diff)
	}
	if key != "" {
		t.Errorf("idempotency key = %q, want none", key)
	}
}

func TestDecodeFormBrowserBehaviour(t *testing.T) {
	member := func(given string) Person {
		m := validMember()
		m.GivenName = given
		return m
	}
	row := func(i int, given string) string {
		p := "family_members." + strconv.Itoa(i) + "."
		return p + "given_name=" + url.QueryEscape(given) + "&" + p + "family_name=Minh&" + p + "date_of_birth=2015-06-01&" +
			p + "sex=M&" + p + "relationship=child&" + p + "nationality="
	}
	tests := []struct {
		name string
		body string
		want Input
		key  string
	}{
		{"sparse rows keep index order", row(7, "Ba") + "&" + row(0, "Một") + "&" + row(12, "Bốn") + "&" + row(3, "Hai"),
			Input{FamilyMembers: []Person{member("Một"), member("Hai"), member("Ba"), member("Bốn")}}, ""},
		{"blank row dropped", row(0, "Một") + "&family_members.1.given_name=&family_members.1.relationship=&" + row(2, "Ba"),
			Input{FamilyMembers: []Person{member("Một"), member("Ba")}}, ""},
		{"row 29 is the last", row(29, "Ba"), Input{FamilyMembers: []Person{member("Ba")}}, ""},
		{"empty optional values are absent", "contact.phone=&contact.preferred_channel=&preferred_language=&principal.nationality=&defender_profile.summary=",
			Input{}, ""},
		{"empty rights areas ignored", "defender_profile.rights_areas=&defender_profile.rights_areas=land&defender_profile.rights_areas=",
			Input{DefenderProfile: Profile{RightsAreas: []string{"land"}}}, ""},
		{"rights areas keep their order", "defender_profile.rights_areas=women&defender_profile.rights_areas=land&defender_profile.rights_areas=journalism",
			Input{DefenderProfile: Profile{RightsAreas: []string{"women", "land", "journalism"}}}, ""},
		{"consent ticked", "consent.given=true", Input{Consent: Consent{Given: true}}, ""},
		{"consent false", "consent.given=false", Input{}, ""},
		{"consent unticked", "consent.date=2026-11-01", Input{Consent: Consent{Date: "2026-11-01"}}, ""},
		{"csrf token ignored, key returned", "csrf_token=abc&idempotency_key=k-1&stream=hrd", Input{Stream: "hrd"}, "k-1"},
		{"csrf token may repeat", "csrf_token=abc&csrf_token=def", Input{}, ""},
		{"plus and percent escapes", "principal.given_name=O%27Brien+Nguy%E1%BB%85n", Input{Principal: Person{GivenName: "O'Brien Nguyễn"}}, ""},
		{"empty body", "", Input{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, key, err := DecodeForm([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeForm(%q): %v", tt.body, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeForm(%q) mismatch (-want +got):\n%s", tt.body, diff)
			}
			if key != tt.key {
				t.Errorf("idempotency key = %q, want %q", key, tt.key)
			}
		})
	}
}

func TestDecodeFormErrors(t *testing.T) {
	malformed := []problem.FieldError{fe("", problem.CodeMalformed)}
	tests := []struct {
		name string
		body string
		want []problem.FieldError
	}{
		{"bad escape", "stream=%zz", malformed},
		{"semicolon separator", "stream=hrd;urgency=normal", malformed},
		{"invalid UTF-8 value", "principal.given_name=An%FF", malformed},
		{"invalid UTF-8 key", "x%C3=1", malformed},
		{"unknown key", "status=approved", []problem.FieldError{fe("status", problem.CodeUnknownField)}},
		{"unknown key sent twice", "status=a&status=b", []problem.FieldError{fe("status", problem.CodeUnknownField)}},
		{"JSON name of a group", "principal=An", []problem.FieldError{fe("principal", problem.CodeUnknownField)}},
		{"principal has no relationship", "principal.relationship=child", []problem.FieldError{fe("principal.relationship", problem.CodeUnknownField)}},
		{"unknown member field", "family_members.0.age=9", []problem.FieldError{fe("family_members.0.age", problem.CodeUnknownField)}},
		{"non-numeric index", "family_members.x.given_name=An", []problem.FieldError{fe("family_members.x.given_name", problem.CodeUnknownField)}},
		{"negative index", "family_members.-1.given_name=An", []problem.FieldError{fe("family_members.-1.given_name", problem.CodeUnknownField)}},
		{"leading zero index", "family_members.01.given_name=An", []problem.FieldError{fe("family_members.01.given_name", problem.CodeUnknownField)}},
		{"no field after index", "family_members.0=An", []problem.FieldError{fe("family_members.0", problem.CodeUnknownField)}},
		{"index 30", "family_members.30.given_name=An", []problem.FieldError{fe("family_members.30.given_name", problem.CodeOutOfRange)}},
		{"huge index", "family_members.99999999999999999999.sex=M", []problem.FieldError{fe("family_members.99999999999999999999.sex", problem.CodeOutOfRange)}},
		{"scalar sent twice", "stream=hrd&stream=hrd-temporary", []problem.FieldError{fe("stream", problem.CodeDuplicate)}},
		{"member field sent twice", "family_members.0.sex=M&family_members.0.sex=F", []problem.FieldError{fe("family_members.0.sex", problem.CodeDuplicate)}},
		{"idempotency key sent twice", "idempotency_key=a&idempotency_key=b", []problem.FieldError{fe("idempotency_key", problem.CodeDuplicate)}},
		{"consent not a boolean", "consent.given=on", []problem.FieldError{fe("consent.given", problem.CodeWrongType)}},
		{"every problem listed in key order", "zz=1&consent.given=yes&family_members.31.sex=M&aa=1&urgency=a&urgency=b", []problem.FieldError{
			fe("aa", problem.CodeUnknownField),
			fe("consent.given", problem.CodeWrongType),
			fe("family_members.31.sex", problem.CodeOutOfRange),
			fe("urgency", problem.CodeDuplicate),
			fe("zz", problem.CodeUnknownField),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, key, err := DecodeForm([]byte(tt.body))
			if err == nil {
				t.Fatalf("DecodeForm(%q) = %+v, nil; want an error", tt.body, in)
			}
			if diff := cmp.Diff(tt.want, fieldErrors(t, err)); diff != "" {
				t.Errorf("DecodeForm(%q) field errors mismatch (-want +got):\n%s", tt.body, diff)
			}
			if diff := cmp.Diff(Input{}, in); diff != "" || key != "" {
				t.Errorf("DecodeForm returned a partial result with its error: key %q\n%s", key, diff)
			}
		})
	}
	_, _, err := DecodeForm([]byte("defender_profile.summary=" + strings.Repeat("a", MaxBodyBytes)))
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Kind != problem.PayloadTooLarge {
		t.Errorf("DecodeForm(too large) = %v, want %q", err, problem.PayloadTooLarge)
	}
}

// Names are stored exactly as typed: no trimming, case change or Unicode
// normalisation, in either encoding.
func TestNamesRoundTripUnchanged(t *testing.T) {
	names := []struct{ label, name string }{
		{"Vietnamese NFC", "Nguyễn Thị"},
		{"Vietnamese decomposed", "Nguye\u0302\u0303n Thi\u0323"},
		{"Arabic", "محمد"},
		{"Arabic with marks", "مُحَمَّد"},
		{"Cyrillic", "Олександра"},
		{"apostrophe", "O'Brien"},
		{"right single quotation mark", "N’Dour"},
		{"hyphen and full stop", "Jean-Luc St. Pierre"},
		{"Devanagari", "प्रिया"},
		{"Han", "李小龙"},
	}
	if names[0].name == names[1].name {
		t.Fatal("test data: NFC and decomposed spellings must differ")
	}
	base := example(t)
	for _, n := range names {
		t.Run(n.label, func(t *testing.T) {
			want := base
			want.Principal.GivenName = n.name
			want.FamilyMembers = []Person{validMember()}
			want.FamilyMembers[0].FamilyName = n.name
			if err := want.Validate(today); err != nil {
				t.Fatalf("Validate: %v", err)
			}

			body, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeJSON(body)
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("JSON round trip changed the input (-want +got):\n%s", diff)
			}

			got, _, err = DecodeForm([]byte(encodeForm(want, "").Encode()))
			if err != nil {
				t.Fatalf("DecodeForm: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("form round trip changed the input (-want +got):\n%s", diff)
			}
			if got.Principal.GivenName != n.name || got.FamilyMembers[0].FamilyName != n.name {
				t.Errorf("name bytes changed: % x, want % x", got.Principal.GivenName, n.name)
			}
		})
	}
}

// A body of a thousand family members decodes the first MaxFamilyMembers+1
// (enough for Validate to say there are too many) and skips the rest, so the
// cost of a bad body does not grow with it.
func TestDecodeStopsOnePastTheLimits(t *testing.T) {
	body := `{"family_members":[` + strings.Repeat(`{},`, 1000) + `{}],"defender_profile":{"rights_areas":[` +
		strings.Repeat(`"land",`, 100) + `"land"]}}`
	in, err := DecodeJSON([]byte(body))
	if err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if len(in.FamilyMembers) != MaxFamilyMembers+1 || len(in.DefenderProfile.RightsAreas) != MaxRightsAreas+1 {
		t.Fatalf("decoded %d members and %d rights areas, want %d and %d", len(in.FamilyMembers), len(in.DefenderProfile.RightsAreas), MaxFamilyMembers+1, MaxRightsAreas+1)
	}
	got := fieldErrors(t, in.Validate(today))
	want := map[string]string{"family_members": problem.CodeTooMany, "defender_profile.rights_areas": problem.CodeTooMany}
	for _, f := range got {
		if code, ok := want[f.Field]; ok && code == f.Code {
			delete(want, f.Field)
		}
	}
	if len(want) > 0 {
		t.Errorf("Validate did not report %v among %v", want, got)
	}
	form, _, err := DecodeForm([]byte(strings.Repeat("defender_profile.rights_areas=land&", 100)))
	if err != nil || len(form.DefenderProfile.RightsAreas) != MaxRightsAreas+1 {
		t.Errorf("DecodeForm: %d rights areas, %v", len(form.DefenderProfile.RightsAreas), err)
	}
	members, err := DecodeFamilyJSON([]byte(`{"family_members":[` + strings.Repeat(`{},`, 1000) + `{}]}`))
	if err != nil || len(members) != MaxFamilyMembers+1 {
		t.Errorf("DecodeFamilyJSON: %d members, %v", len(members), err)
	}
}
