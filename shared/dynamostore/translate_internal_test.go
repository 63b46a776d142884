package dynamostore

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/haven-hrd/haven/shared/quota"
)

// TestPeriodUpdateTranslation: each of quota.Decide's conditions becomes
// the period item's condition expression, on the partner's own counter.
func TestPeriodUpdateTranslation(t *testing.T) {
	s := &Store{table: "t"}
	for _, tt := range []struct {
		name     string
		d        quota.Delta
		c        quota.Condition
		wantCond string
		wantSet  string
	}{
		{"allocation, allotted", quota.Delta{Reserved: 3}, quota.Condition{Limit: quota.Fits, Need: 3, Allotted: true},
			"attribute_exists(pk) AND #allot >= :zero AND attribute_not_exists(#closed) AND #rem >= :need AND #left >= :need", "#left = #left - :dt"},
		{"allocation, pooled", quota.Delta{Reserved: 3}, quota.Condition{Limit: quota.Fits, Need: 3},
			"attribute_exists(pk) AND (attribute_not_exists(#allot) OR #allot < :zero) AND attribute_not_exists(#closed) AND #rem >= :need AND #pool >= :need", "#pool = #pool - :dt"},
		{"waitlisting, stream full, allotted", quota.Delta{Waitlisted: 2}, quota.Condition{Limit: quota.StillStreamFull, Need: 2, Allotted: true},
			"attribute_exists(pk) AND #allot >= :zero AND attribute_not_exists(#closed) AND #rem < :need", ""},
		{"waitlisting, stream full, pooled", quota.Delta{Waitlisted: 2}, quota.Condition{Limit: quota.StillStreamFull, Need: 2},
			"attribute_exists(pk) AND (attribute_not_exists(#allot) OR #allot < :zero) AND attribute_not_exists(#closed) AND #pool < :need", ""},
		{"waitlisting, allotment full", quota.Delta{Waitlisted: 2}, quota.Condition{Limit: quota.StillAllotmentFull, Need: 2, Allotted: true},
			"attribute_exists(pk) AND #allot >= :zero AND attribute_not_exists(#closed) AND #rem >= :need AND #left < :need", ""},
		{"release, allotted", quota.Delta{Reserved: -3}, quota.Condition{Allotted: true},
			"attribute_exists(pk) AND #allot >= :zero", "#left = #left - :dt"},
		{"arrival touches no limit", quota.Delta{Reserved: -3, Arrived: 3}, quota.Condition{},
			"attribute_exists(pk)", ""},
	} {
		u := s.periodUpdate("hrd", 2026, "fld", tt.d, tt.c).Update
		if got := aws.ToString(u.ConditionExpression); got != tt.wantCond {
			t.Errorf("%s: condition\n got %s\nwant %s", tt.name, got, tt.wantCond)
		}
		expr := aws.ToString(u.UpdateExpression)
		for _, limit := range []string{"#left = #left - :dt", "#pool = #pool - :dt"} {
			if has := contains(expr, limit); has != (limit == tt.wantSet) {
				t.Errorf("%s: update %q: %q present %v", tt.name, expr, limit, has)
			}
		}
		for name := range u.ExpressionAttributeNames {
			if !contains(expr, name) && !contains(aws.ToString(u.ConditionExpression), name) {
				t.Errorf("%s: unused name %s (DynamoDB refuses it)", tt.name, name)
			}
		}
		for v := range u.ExpressionAttributeValues {
			if !contains(expr, v) && !contains(aws.ToString(u.ConditionExpression), v) {
				t.Errorf("%s: unused value %s (DynamoDB refuses it)", tt.name, v)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
