package embedded_test

import (
	"strings"
	"testing"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/embedded"
)

// TestItemSize sizes one attribute named "t" (1 byte) as DynamoDB does; the
// expected sizes are those measured against DynamoDB's 400 KB bound
// (dynamodb-local, binary-searched) and the developer guide's example.
func TestItemSize(t *testing.T) {
	n := func(s string) ddb.AttributeValue { return &ddb.AttributeValueMemberN{Value: s} }
	s := func(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }
	tests := []struct {
		name string
		v    ddb.AttributeValue
		want int
	}{
		{"number 0", n("0"), 1 + 1},
		{"number 1", n("1"), 1 + 2},
		{"number 99", n("99"), 1 + 2},
		{"number 100: trailing zeros trimmed", n("100"), 1 + 2},
		{"number 123", n("123"), 1 + 3},
		{"number 00100", n("00100"), 1 + 2},
		{"number 100.00", n("100.00"), 1 + 2},
		{"number 0.0001: leading zeros trimmed", n("0.0001"), 1 + 2},
		{"number -1.5E+3", n("-1.5E+3"), 1 + 2},
		{"number of 20 digits", n("12345678901234567890"), 1 + 11},
		{"number of 38 digits", n(strings.Repeat("9", 38)), 1 + 20},
		{"string: UTF-8 bytes", s("é"), 1 + 2},
		{"binary: raw bytes", &ddb.AttributeValueMemberB{Value: []byte{1, 2, 3}}, 1 + 3},
		{"boolean", &ddb.AttributeValueMemberBOOL{Value: true}, 1 + 1},
		{"null", &ddb.AttributeValueMemberNULL{Value: true}, 1 + 1},
		{"empty list", &ddb.AttributeValueMemberL{}, 1 + 3},
		{"empty map", &ddb.AttributeValueMemberM{}, 1 + 3},
		{"list of one", &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{s("a")}}, 1 + 3 + 1 + 1},
		{"list of two", &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{s("a"), s("b")}}, 1 + 3 + 2*(1+1)},
		{"map of one", &ddb.AttributeValueMemberM{Value: map[string]ddb.AttributeValue{"k": s("a")}}, 1 + 3 + 1 + 1 + 1},
		{"nested list", &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{&ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{s("a")}}}}, 1 + 3 + 1 + (3 + 1 + 1)},
		{"string set: its members", &ddb.AttributeValueMemberSS{Value: []string{"a", "bc"}}, 1 + 3},
		{"number set: its members", &ddb.AttributeValueMemberNS{Value: []string{"1", "23"}}, 1 + 2 + 2},
		{"binary set: its members", &ddb.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}, 1 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, embedded.ItemSize(map[string]ddb.AttributeValue{"t": tt.v})); diff != "" {
				t.Errorf("size (-want +got):\n%s", diff)
			}
		})
	}
	// The developer guide's example: "shirt-color" = "R", "shirt-size" = "M".
	if got := embedded.ItemSize(map[string]ddb.AttributeValue{"shirt-color": s("R"), "shirt-size": s("M")}); got != 23 {
		t.Errorf("the guide's example: %d bytes, want 23", got)
	}
}
