package reason_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/apicontract"
	"github.com/haven-hrd/haven/shared/reason"
)

// Every reason field of openapi.yaml is an enum of exactly the codes of its
// kind, in the same order, with the same labels: partners integrate from the
// document, so it may neither miss a code nor list one the service refuses.
func TestSpecListsTheCodes(t *testing.T) {
	doc, err := apicontract.Document()
	if err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	prop := func(schema, name string) *openapi3.Schema {
		t.Helper()
		s := schemas[schema]
		if s == nil || s.Value.Properties[name] == nil {
			t.Fatalf("openapi.yaml has no %s.%s", schema, name)
		}
		return s.Value.Properties[name].Value
	}
	// A request's list is bounded by uniqueItems over its kind's codes (a
	// maxItems could not be broken without repeating one); a response's by
	// the most any step gives.
	items := func(s *openapi3.Schema, maxItems *uint64) *openapi3.Schema {
		t.Helper()
		if s.Items == nil {
			t.Fatalf("not an array: %+v", s)
		}
		if !cmp.Equal(s.MaxItems, maxItems) || !s.UniqueItems {
			t.Errorf("reason list: maxItems %v uniqueItems %v, want %v and true", s.MaxItems, s.UniqueItems, maxItems)
		}
		return s.Items.Value
	}
	most := uint64(reason.MaxPerStep())
	fields := []struct {
		name   string
		schema *openapi3.Schema
		want   []string
	}{
		{"ScreeningRequest.reasons", items(prop("ScreeningRequest", "reasons"), nil), reason.Codes(reason.Ineligible)},
		{"DecisionRequest.reasons", items(prop("DecisionRequest", "reasons"), nil), reason.Codes(reason.Refused)},
		{"WithdrawalRequest.reason", prop("WithdrawalRequest", "reason"), reason.Codes(reason.Withdrawn)},
		{"UrgencyRequest.reason", prop("UrgencyRequest", "reason"), reason.Codes(reason.Urgency)},
		{"HoldRequest.reason", prop("HoldRequest", "reason"), reason.Codes(reason.Hold)},
		{"HoldView.holds", items(prop("HoldView", "holds"), nil), reason.Codes(reason.Hold)},
		{"HistoryItem.reason", prop("HistoryItem", "reason"), append(reason.Codes(reason.Urgency), reason.Codes(reason.Hold)...)},
		{"ReferralView.reasons", items(prop("ReferralView", "reasons"), &most), reason.All()},
		{"ReferralListItem.reasons", items(prop("ReferralListItem", "reasons"), &most), reason.All()},
	}
	for _, f := range fields {
		var got []string
		for _, v := range f.schema.Enum {
			s, _ := v.(string)
			got = append(got, s)
		}
		if diff := cmp.Diff(f.want, got); diff != "" {
			t.Errorf("%s: enum differs from shared/reason (-code +spec):\n%s", f.name, diff)
		}
	}
	for name, k := range map[string]reason.Kind{"IneligibleReason": reason.Ineligible, "RefusalReason": reason.Refused, "WithdrawalReason": reason.Withdrawn, "UrgencyReason": reason.Urgency, "HoldReason": reason.Hold} {
		raw, _ := schemas[name].Value.Extensions["x-labels"].(map[string]any)
		got := map[string]reason.Label{}
		for code, v := range raw {
			m, _ := v.(map[string]any)
			en, _ := m["en"].(string)
			fr, _ := m["fr"].(string)
			got[code] = reason.Label{EN: en, FR: fr}
		}
		want := map[string]reason.Label{}
		for _, c := range reason.Codes(k) {
			want[c], _ = reason.LabelOf(c)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s x-labels differ from shared/reason (-code +spec):\n%s", name, diff)
		}
	}
}
