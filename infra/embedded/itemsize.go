package embedded

import (
	"strings"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"
)

// DynamoDB's documented limits (developer guide, "Constraints" and "Item
// sizes and formats"; 1 KB = 1024 bytes there). The embedded server refuses
// what exceeds them, as DynamoDB does, so a test meets them before AWS does.
const (
	// MaxItemSize bounds one item: attribute names and values, sized by
	// ItemSize.
	MaxItemSize = 400 << 10
	// MaxTransactionActions and MaxTransactionSize bound TransactWriteItems.
	MaxTransactionActions = 100
	MaxTransactionSize    = 4 << 20
	// MaxBatchWrite bounds the put and delete requests of BatchWriteItem;
	// its 16 MB bound cannot be reached (25 items of at most 400 KB).
	MaxBatchWrite = 25
	// MaxBatchGet bounds the keys of BatchGetItem.
	MaxBatchGet = 100
	// MaxPageSize bounds the data one Query or Scan call reads.
	MaxPageSize = 1 << 20
	// MaxExpressionLength bounds each expression string, in bytes.
	MaxExpressionLength = 4 << 10
	// MaxSubstitutionSize bounds ExpressionAttributeNames and
	// ExpressionAttributeValues together.
	MaxSubstitutionSize = 2 << 20
	// MaxPlaceholderLength bounds one ExpressionAttributeNames key (#name).
	MaxPlaceholderLength = 255
	// MaxUpdateOperators bounds the operators and functions of one
	// UpdateExpression; MaxInOperands the operands of one IN.
	MaxUpdateOperators = 300
	MaxInOperands      = 100
	// MaxPartitionKeySize and MaxSortKeySize bound key values, in bytes.
	MaxPartitionKeySize = 2048
	MaxSortKeySize      = 1024
	// MaxNestingDepth bounds how deep lists and maps nest in an item.
	MaxNestingDepth = 32
	// MaxAttributeNameLength bounds an attribute's name, in bytes (the API
	// reference's 65535; the guide rounds it to 64 KB).
	MaxAttributeNameLength = 65535
)

// ItemSize is the size DynamoDB counts against MaxItemSize: for each
// attribute, the UTF-8 length of its name plus the size of its value.
func ItemSize(item map[string]ddb.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize follows "Item sizes and formats": strings by UTF-8 bytes,
// binaries by raw bytes, numbers one byte per two significant digits plus
// one, booleans and nulls one byte, sets the sum of their members, lists and
// maps 3 bytes plus one byte per element plus the elements (and, for maps,
// the element names).
func valueSize(v ddb.AttributeValue) int {
	switch t := v.(type) {
	case *ddb.AttributeValueMemberS:
		return len(t.Value)
	case *ddb.AttributeValueMemberN:
		return numberSize(t.Value)
	case *ddb.AttributeValueMemberB:
		return len(t.Value)
	case *ddb.AttributeValueMemberBOOL, *ddb.AttributeValueMemberNULL:
		return 1
	case *ddb.AttributeValueMemberSS:
		return total(t.Value, func(s string) int { return len(s) })
	case *ddb.AttributeValueMemberNS:
		return total(t.Value, numberSize)
	case *ddb.AttributeValueMemberBS:
		return total(t.Value, func(b []byte) int { return len(b) })
	case *ddb.AttributeValueMemberL:
		n := 3
		for _, e := range t.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *ddb.AttributeValueMemberM:
		n := 3
		for k, e := range t.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize counts significant digits: sign, exponent, decimal point and
// leading and trailing zeros do not count ("0" has none).
func numberSize(s string) int {
	m := strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(m, "eE"); i >= 0 {
		m = m[:i]
	}
	m = strings.Trim(strings.Replace(m, ".", "", 1), "0")
	return (len(m)+1)/2 + 1
}

// nestingDepth is how deep lists and maps nest under v (0 for a scalar).
func nestingDepth(v ddb.AttributeValue) int {
	d := 0
	switch t := v.(type) {
	case *ddb.AttributeValueMemberL:
		for _, e := range t.Value {
			d = max(d, nestingDepth(e))
		}
		return d + 1
	case *ddb.AttributeValueMemberM:
		for _, e := range t.Value {
			d = max(d, nestingDepth(e))
		}
		return d + 1
	}
	return 0
}

// sdkItem turns minidyn's wire form of an item into the SDK's, so that one
// ItemSize serves both the server and tests that measure Haven's items.
func sdkItem(m map[string]*server.AttributeValue) map[string]ddb.AttributeValue {
	out := make(map[string]ddb.AttributeValue, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = sdkValue(v)
		}
	}
	return out
}

func sdkValue(v *server.AttributeValue) ddb.AttributeValue {
	switch {
	case v.S != nil:
		return &ddb.AttributeValueMemberS{Value: *v.S}
	case v.N != nil:
		return &ddb.AttributeValueMemberN{Value: *v.N}
	case v.B != nil:
		return &ddb.AttributeValueMemberB{Value: v.B}
	case v.BOOL != nil:
		return &ddb.AttributeValueMemberBOOL{Value: *v.BOOL}
	case v.NULL != nil:
		return &ddb.AttributeValueMemberNULL{Value: *v.NULL}
	case v.SS != nil:
		ss := make([]string, 0, len(v.SS))
		for _, s := range v.SS {
			if s != nil {
				ss = append(ss, *s)
			}
		}
		return &ddb.AttributeValueMemberSS{Value: ss}
	case v.NS != nil:
		ns := make([]string, 0, len(v.NS))
		for _, s := range v.NS {
			if s != nil {
				ns = append(ns, *s)
			}
		}
		return &ddb.AttributeValueMemberNS{Value: ns}
	case v.BS != nil:
		return &ddb.AttributeValueMemberBS{Value: v.BS}
	case v.L != nil:
		l := make([]ddb.AttributeValue, 0, len(v.L))
		for _, e := range v.L {
			if e != nil {
				l = append(l, sdkValue(e))
			}
		}
		return &ddb.AttributeValueMemberL{Value: l}
	case v.M != nil:
		return &ddb.AttributeValueMemberM{Value: sdkItem(v.M)}
	}
	// An empty list or map loses its type in minidyn's wire form (its
	// fields are omitempty); as an empty map it weighs the same.
	return &ddb.AttributeValueMemberM{Value: map[string]ddb.AttributeValue{}}
}

// total is the sum of size over a set's members.
func total[T any](set []T, size func(T) int) int {
	n := 0
	for _, v := range set {
		n += size(v)
	}
	return n
}
