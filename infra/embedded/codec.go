package embedded

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The snapshot stores items in DynamoDB's own JSON shape ({"S": "..."}), so a
// snapshot can be read, or loaded elsewhere, with ordinary tools.

func encodeItem(item map[string]ddb.AttributeValue) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(item))
	for k, v := range item {
		enc, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		b, err := json.Marshal(enc)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	return out, nil
}

func encodeValue(v ddb.AttributeValue) (map[string]any, error) {
	switch t := v.(type) {
	case *ddb.AttributeValueMemberS:
		return map[string]any{"S": t.Value}, nil
	case *ddb.AttributeValueMemberN:
		return map[string]any{"N": t.Value}, nil
	case *ddb.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(t.Value)}, nil
	case *ddb.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": t.Value}, nil
	case *ddb.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}, nil
	case *ddb.AttributeValueMemberSS:
		return map[string]any{"SS": t.Value}, nil
	case *ddb.AttributeValueMemberNS:
		return map[string]any{"NS": t.Value}, nil
	case *ddb.AttributeValueMemberBS:
		bs := make([]string, len(t.Value))
		for i, b := range t.Value {
			bs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": bs}, nil
	case *ddb.AttributeValueMemberL:
		l := make([]any, len(t.Value))
		for i, e := range t.Value {
			enc, err := encodeValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = enc
		}
		return map[string]any{"L": l}, nil
	case *ddb.AttributeValueMemberM:
		m := make(map[string]any, len(t.Value))
		for k, e := range t.Value {
			enc, err := encodeValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = enc
		}
		return map[string]any{"M": m}, nil
	}
	return nil, fmt.Errorf("unsupported attribute value %T", v)
}

func decodeItem(raw map[string]json.RawMessage) (map[string]ddb.AttributeValue, error) {
	out := make(map[string]ddb.AttributeValue, len(raw))
	for k, b := range raw {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		v, err := decodeValue(m)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func decodeValue(m map[string]json.RawMessage) (ddb.AttributeValue, error) {
	for typ, b := range m {
		switch typ {
		case "S":
			var s string
			err := json.Unmarshal(b, &s)
			return &ddb.AttributeValueMemberS{Value: s}, err
		case "N":
			var s string
			err := json.Unmarshal(b, &s)
			return &ddb.AttributeValueMemberN{Value: s}, err
		case "B":
			var s string
			if err := json.Unmarshal(b, &s); err != nil {
				return nil, err
			}
			v, err := base64.StdEncoding.DecodeString(s)
			return &ddb.AttributeValueMemberB{Value: v}, err
		case "BOOL":
			var v bool
			err := json.Unmarshal(b, &v)
			return &ddb.AttributeValueMemberBOOL{Value: v}, err
		case "NULL":
			return &ddb.AttributeValueMemberNULL{Value: true}, nil
		case "SS":
			var v []string
			err := json.Unmarshal(b, &v)
			return &ddb.AttributeValueMemberSS{Value: v}, err
		case "NS":
			var v []string
			err := json.Unmarshal(b, &v)
			return &ddb.AttributeValueMemberNS{Value: v}, err
		case "BS":
			var v []string
			if err := json.Unmarshal(b, &v); err != nil {
				return nil, err
			}
			bs := make([][]byte, len(v))
			for i, s := range v {
				d, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, err
				}
				bs[i] = d
			}
			return &ddb.AttributeValueMemberBS{Value: bs}, nil
		case "L":
			var raws []map[string]json.RawMessage
			if err := json.Unmarshal(b, &raws); err != nil {
				return nil, err
			}
			l := make([]ddb.AttributeValue, len(raws))
			for i, r := range raws {
				v, err := decodeValue(r)
				if err != nil {
					return nil, err
				}
				l[i] = v
			}
			return &ddb.AttributeValueMemberL{Value: l}, nil
		case "M":
			var raws map[string]map[string]json.RawMessage
			if err := json.Unmarshal(b, &raws); err != nil {
				return nil, err
			}
			mm := make(map[string]ddb.AttributeValue, len(raws))
			for k, r := range raws {
				v, err := decodeValue(r)
				if err != nil {
					return nil, err
				}
				mm[k] = v
			}
			return &ddb.AttributeValueMemberM{Value: mm}, nil
		}
	}
	return nil, fmt.Errorf("unknown attribute value shape")
}
