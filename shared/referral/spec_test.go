package referral

import (
	"sort"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/apicontract"
)

// Every closed list and limit the validator applies is the one openapi.yaml
// states, and the other way round: a partner who follows the document is
// never refused for a value it lists, nor accepted with one it does not.
func TestSpecStatesTheRules(t *testing.T) {
	doc, err := apicontract.Document()
	if err != nil {
		t.Fatal(err)
	}
	schema := func(name string) *openapi3.Schema {
		t.Helper()
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Fatalf("openapi.yaml has no schema %s", name)
		}
		return s.Value
	}
	enum := func(s *openapi3.Schema) []string {
		var out []string
		for _, v := range s.Enum {
			str, ok := v.(string)
			if !ok {
				t.Errorf("enum value %v (%T) is not a string", v, v)
			}
			out = append(out, str)
		}
		return out
	}
	var codes []string
	for c := range countries {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	profile := schema("DefenderProfile").Properties
	contact := schema("Contact").Properties
	// rights_areas is bounded by uniqueItems over the enum: at most every
	// area once, which is MaxRightsAreas; a maxItems beside it could never
	// be broken on its own.
	if ra := profile["rights_areas"].Value; ra.MaxItems != nil || !ra.UniqueItems || len(rightsAreas) != MaxRightsAreas {
		t.Errorf("rights_areas: maxItems %v uniqueItems %v, %d areas; want none, true and %d", ra.MaxItems, ra.UniqueItems, len(rightsAreas), MaxRightsAreas)
	}
	for _, tc := range []struct {
		name string
		spec []string
		code []string
	}{
		{"Country", enum(schema("Country")), codes},
		{"Sex", enum(schema("Sex")), sexes},
		{"Relationship", enum(schema("Relationship")), relationships},
		{"RightsArea", enum(schema("RightsArea")), rightsAreas},
		{"Language", enum(schema("Language")), languages},
		{"Urgency", enum(schema("Urgency")), urgencies},
		{"Contact.preferred_channel", enum(contact["preferred_channel"].Value), channels},
	} {
		if diff := cmp.Diff(tc.code, tc.spec); diff != "" {
			t.Errorf("%s: openapi.yaml's enum differs from the validator's (-code +spec):\n%s", tc.name, diff)
		}
	}
	for _, tc := range []struct {
		name string
		spec *uint64
		code int
	}{
		{"FamilyMembers maxItems", schema("FamilyMembers").MaxItems, MaxFamilyMembers},
		{"Name maxLength", schema("Name").MaxLength, maxNameRunes},
		{"PartnerReference maxLength", schema("PartnerReference").MaxLength, maxReferenceRunes},
		{"summary maxLength", profile["summary"].Value.MaxLength, maxSummaryRunes},
		{"StreamID maxLength", schema("StreamID").MaxLength, maxStreamBytes},
		{"email maxLength", contact["email"].Value.MaxLength, maxEmailBytes},
		// + and the digits, with a separator between each two digits.
		{"phone maxLength", contact["phone"].Value.MaxLength, 1 + maxPhoneDigits + maxPhoneDigits - 1},
		{"phone minLength", &contact["phone"].Value.MinLength, 1 + minPhoneDigits},
	} {
		switch {
		case tc.spec == nil:
			t.Errorf("%s: openapi.yaml states none, the validator %d", tc.name, tc.code)
		case *tc.spec != uint64(tc.code):
			t.Errorf("%s: openapi.yaml says %d, the validator %d", tc.name, *tc.spec, tc.code)
		}
	}
}
