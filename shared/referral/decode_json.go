package referral

import (
	"github.com/haven-hrd/haven/shared/jsonbody"
	"github.com/haven-hrd/haven/shared/problem"
)

// DecodeJSON reads the body of POST /referrals with jsonbody's strict rules
// (exact keys, no repeats, no unknown keys, no nulls, arrays read one past
// their limit) and reports every shape problem with its path. Rules such as
// required fields are left to Validate.
func DecodeJSON(body []byte) (Input, error) {
	d, err := jsonbody.New(body, MaxBodyBytes)
	if err != nil {
		return Input{}, err
	}
	var in Input
	d.Object("", func(key, path string) bool {
		switch key {
		case "stream":
			in.Stream = d.String(path)
		case "partner_reference":
			in.PartnerReference = d.String(path)
		case "urgency":
			in.Urgency = Urgency(d.String(path))
		case "principal":
			in.Principal = person(d, path, false)
		case "family_members":
			in.FamilyMembers = persons(d, path)
		case "country_of_asylum":
			in.CountryOfAsylum = d.String(path)
		case "defender_profile":
			d.Object(path, func(key, path string) bool {
				switch key {
				case "rights_areas":
					in.DefenderProfile.RightsAreas = d.Strings(path, MaxRightsAreas)
				case "summary":
					in.DefenderProfile.Summary = d.String(path)
				default:
					return false
				}
				return true
			})
		case "contact":
			d.Object(path, func(key, path string) bool {
				switch key {
				case "email":
					in.Contact.Email = d.String(path)
				case "phone":
					in.Contact.Phone = d.String(path)
				case "preferred_channel":
					in.Contact.PreferredChannel = d.String(path)
				default:
					return false
				}
				return true
			})
		case "preferred_language":
			in.PreferredLanguage = d.String(path)
		case "consent":
			d.Object(path, func(key, path string) bool {
				switch key {
				case "given":
					in.Consent.Given = d.Bool(path)
				case "date":
					in.Consent.Date = d.String(path)
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
	if err := d.Finish(); err != nil {
		return Input{}, err
	}
	return in, nil
}

// DecodeFamilyJSON reads the body of PUT /referrals/{id}/family,
// {"family_members": [...]}, as strictly as DecodeJSON. An empty list is a
// valid answer (the family shrank to the principal alone), so unlike in
// DecodeJSON a missing list is reported here as required: the decoder is the
// only place that can tell it from an empty one.
func DecodeFamilyJSON(body []byte) ([]Person, error) {
	d, err := jsonbody.New(body, MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	var members []Person
	present := false
	isObject := d.Object("", func(key, path string) bool {
		if key != "family_members" {
			return false
		}
		members = persons(d, path)
		present = true
		return true
	})
	if isObject && !present {
		d.Add("family_members", problem.CodeRequired)
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return members, nil
}

// persons reads family_members: at most MaxFamilyMembers+1 of them, which is
// enough for Validate to say there are too many.
func persons(d *jsonbody.Decoder, path string) []Person {
	var out []Person
	d.Array(path, MaxFamilyMembers, func(p string) {
		out = append(out, person(d, p, true))
	})
	return out
}

// person reads the principal (member false: no relationship) or a family
// member.
func person(d *jsonbody.Decoder, path string, member bool) Person {
	var p Person
	d.Object(path, func(key, path string) bool {
		switch key {
		case "given_name":
			p.GivenName = d.String(path)
		case "family_name":
			p.FamilyName = d.String(path)
		case "date_of_birth":
			p.DateOfBirth = d.String(path)
		case "sex":
			p.Sex = d.String(path)
		case "nationality":
			p.Nationality = d.String(path)
		case "relationship":
			if !member {
				return false
			}
			p.Relationship = d.String(path)
		default:
			return false
		}
		return true
	})
	return p
}

// malformed is the error of a body that cannot be read at all.
func malformed() *problem.Error { return jsonbody.Malformed() }

func shownKey(key string) string { return jsonbody.ShownKey(key) }
