package referral

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/haven-hrd/haven/shared/problem"
)

// DecodeJSON reads the body of POST /referrals. It is stricter than
// encoding/json on purpose: keys match exactly (encoding/json folds case), a key
// may appear once (two parsers could otherwise disagree on which value counts),
// unknown keys are errors rather than ignored (no mass assignment), and every
// shape problem is reported with its path, not just the first. JSON null means
// the field is absent. Rules such as required fields are left to Validate.
func DecodeJSON(body []byte) (Input, error) {
	d, err := newJSONDecoder(body)
	if err != nil {
		return Input{}, err
	}
	var in Input
	d.object("", false, func(key, path string) bool {
		switch key {
		case "stream":
			in.Stream = d.str(path, true)
		case "partner_reference":
			in.PartnerReference = d.str(path, true)
		case "urgency":
			in.Urgency = Urgency(d.str(path, true))
		case "principal":
			in.Principal = d.person(path, true, false)
		case "family_members":
			in.FamilyMembers, _ = d.persons(path)
		case "country_of_asylum":
			in.CountryOfAsylum = d.str(path, true)
		case "defender_profile":
			d.object(path, true, func(key, path string) bool {
				switch key {
				case "rights_areas":
					in.DefenderProfile.RightsAreas = d.strs(path)
				case "summary":
					in.DefenderProfile.Summary = d.str(path, true)
				default:
					return false
				}
				return true
			})
		case "contact":
			d.object(path, true, func(key, path string) bool {
				switch key {
				case "email":
					in.Contact.Email = d.str(path, true)
				case "phone":
					in.Contact.Phone = d.str(path, true)
				case "preferred_channel":
					in.Contact.PreferredChannel = d.str(path, true)
				default:
					return false
				}
				return true
			})
		case "preferred_language":
			in.PreferredLanguage = d.str(path, true)
		case "consent":
			d.object(path, true, func(key, path string) bool {
				switch key {
				case "given":
					in.Consent.Given = d.boolean(path)
				case "date":
					in.Consent.Date = d.str(path, true)
				default:
					return false
				}
				return true
			})
		default:
			return false
		}
		return true
	})
	if err := d.finish(); err != nil {
		return Input{}, err
	}
	return in, nil
}

// DecodeFamilyJSON reads the body of PUT /referrals/{id}/family,
// {"family_members": [...]}, as strictly as DecodeJSON. An empty list is a
// valid answer (the family shrank to the principal alone), so unlike in
// DecodeJSON a missing or null list is reported here as required: the decoder
// is the only place that can tell it from an empty one.
func DecodeFamilyJSON(body []byte) ([]Person, error) {
	d, err := newJSONDecoder(body)
	if err != nil {
		return nil, err
	}
	var members []Person
	present := false
	isObject := d.object("", false, func(key, path string) bool {
		if key != "family_members" {
			return false
		}
		members, present = d.persons(path)
		return true
	})
	if isObject && !present {
		d.add("family_members", problem.CodeRequired)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return members, nil
}

// jsonDecoder walks a body already known to be valid UTF-8 JSON, token by
// token, against the schema its callers spell out, collecting field errors.
type jsonDecoder struct {
	dec    *json.Decoder
	fields []problem.FieldError
	broken bool
}

func newJSONDecoder(body []byte) (*jsonDecoder, error) {
	if len(body) > MaxBodyBytes {
		return nil, problem.New(problem.PayloadTooLarge)
	}
	// encoding/json would replace invalid UTF-8 with U+FFFD, silently changing
	// a name; json.Valid also rejects trailing data after the object.
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, malformed()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return &jsonDecoder{dec: dec}, nil
}

func malformed() *problem.Error {
	return problem.Invalid(problem.FieldError{Field: "", Code: problem.CodeMalformed})
}

func (d *jsonDecoder) finish() error {
	if !d.broken {
		if _, err := d.dec.Token(); err != io.EOF {
			d.broken = true
		}
	}
	if d.broken {
		return malformed()
	}
	if len(d.fields) > 0 {
		return problem.Invalid(d.fields...)
	}
	return nil
}

func (d *jsonDecoder) add(path, code string) {
	d.fields = append(d.fields, problem.FieldError{Field: path, Code: code})
}

func (d *jsonDecoder) token() (json.Token, bool) {
	if d.broken {
		return nil, false
	}
	t, err := d.dec.Token()
	if err != nil {
		// Cannot happen after json.Valid; kept so a decoder bug fails closed.
		d.broken = true
		return nil, false
	}
	return t, true
}

// wrongType records that the value starting with t is not what the schema
// wants at path, and consumes the rest of it.
func (d *jsonDecoder) wrongType(path string, t json.Token) {
	d.add(path, problem.CodeWrongType)
	d.skipRest(t)
}

// skipRest consumes the remainder of a value whose first token was t. It is a
// loop, not recursion, so that deep nesting in an unknown field costs nothing.
func (d *jsonDecoder) skipRest(t json.Token) {
	depth := 0
	for {
		if delim, ok := t.(json.Delim); ok {
			switch delim {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		if depth == 0 {
			return
		}
		var ok bool
		if t, ok = d.token(); !ok {
			return
		}
	}
}

func (d *jsonDecoder) skip() {
	if t, ok := d.token(); ok {
		d.skipRest(t)
	}
}

// object reads an object at path, calling field for each key; field consumes
// the key's value and returns true, or returns false (consuming nothing) for a
// key the schema does not know. nullOK says whether null may stand for an
// absent object (true for members of an object, false for array elements and
// the body itself). It reports whether an object was read.
func (d *jsonDecoder) object(path string, nullOK bool, field func(key, path string) bool) (isObject bool) {
	t, ok := d.token()
	if !ok {
		return false
	}
	if t == nil && nullOK {
		return false
	}
	if delim, isDelim := t.(json.Delim); !isDelim || delim != '{' {
		d.wrongType(path, t)
		return false
	}
	seen := make(map[string]bool)
	for d.dec.More() && !d.broken {
		kt, ok := d.token()
		if !ok {
			return true
		}
		key, _ := kt.(string)
		p := join(path, shownKey(key))
		switch {
		case seen[key]:
			d.add(p, problem.CodeDuplicate)
			d.skip()
		case !field(key, p):
			d.add(p, problem.CodeUnknownField)
			d.skip()
		}
		seen[key] = true
	}
	d.token() // the closing brace
	return true
}

// array reads an array at path, calling elem with each element's path; elem
// consumes exactly one value. A null array is absent.
func (d *jsonDecoder) array(path string, elem func(path string)) (present bool) {
	t, ok := d.token()
	if !ok || t == nil {
		return false
	}
	if delim, isDelim := t.(json.Delim); !isDelim || delim != '[' {
		d.wrongType(path, t)
		return true
	}
	for i := 0; d.dec.More() && !d.broken; i++ {
		elem(join(path, strconv.Itoa(i)))
	}
	d.token() // the closing bracket
	return true
}

func (d *jsonDecoder) str(path string, nullOK bool) string {
	t, ok := d.token()
	if !ok {
		return ""
	}
	switch v := t.(type) {
	case string:
		return v
	case nil:
		if nullOK {
			return ""
		}
	}
	d.wrongType(path, t)
	return ""
}

func (d *jsonDecoder) boolean(path string) bool {
	t, ok := d.token()
	if !ok {
		return false
	}
	switch v := t.(type) {
	case bool:
		return v
	case nil:
		return false
	}
	d.wrongType(path, t)
	return false
}

func (d *jsonDecoder) strs(path string) []string {
	var out []string
	d.array(path, func(p string) {
		out = append(out, d.str(p, false))
	})
	return out
}

func (d *jsonDecoder) persons(path string) ([]Person, bool) {
	var out []Person
	present := d.array(path, func(p string) {
		out = append(out, d.person(p, false, true))
	})
	return out, present
}

// person reads the principal (member false: no relationship) or a family
// member.
func (d *jsonDecoder) person(path string, nullOK, member bool) Person {
	var p Person
	d.object(path, nullOK, func(key, path string) bool {
		switch key {
		case "given_name":
			p.GivenName = d.str(path, true)
		case "family_name":
			p.FamilyName = d.str(path, true)
		case "date_of_birth":
			p.DateOfBirth = d.str(path, true)
		case "sex":
			p.Sex = d.str(path, true)
		case "nationality":
			p.Nationality = d.str(path, true)
		case "relationship":
			if !member {
				return false
			}
			p.Relationship = d.str(path, true)
		default:
			return false
		}
		return true
	})
	return p
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// maxShownKey bounds how much of a client's unknown key is echoed back in an
// error, so a 60 KiB key does not come back as a 60 KiB problem body.
const maxShownKey = 64

func shownKey(key string) string {
	if len(key) <= maxShownKey {
		return key
	}
	cut := maxShownKey
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return key[:cut] + "…"
}
