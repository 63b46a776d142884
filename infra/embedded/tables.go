package embedded

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"
)

// localAccount is the account the embedded server's ARNs name, as the
// runner's (infra/local).
const localAccount = "000000000000"

// tableRegistry remembers what minidyn does not: which tables were created
// (it has no ListTables) and what DescribeTable reports beyond keys and
// indexes (status, ARN, attribute definitions, billing mode, creation time),
// so the AWS CLI and the SDK's waiters work against the embedded server.
type tableRegistry struct {
	mu      sync.Mutex
	created map[string]tableMeta
}

type tableMeta struct {
	AttributeDefinitions json.RawMessage
	BillingMode          string
	Created              time.Time
}

// tableCall serves the table operations; region is the caller's, for ARNs.
func (l *limitedDynamoDB) tableCall(op string, body []byte, region string) reply {
	var in struct {
		TableName               string
		AttributeDefinitions    json.RawMessage
		BillingMode             string
		ExclusiveStartTableName string
		Limit                   *int
	}
	if json.Unmarshal(body, &in) != nil {
		return l.forward(op, body)
	}
	if op == "ListTables" {
		return l.listTables(in.ExclusiveStartTableName, in.Limit)
	}
	rep := l.forward(op, body)
	if rep.status != http.StatusOK {
		return rep
	}
	l.tables.mu.Lock()
	defer l.tables.mu.Unlock()
	status, field := "ACTIVE", "TableDescription"
	switch op {
	case "CreateTable":
		// minidyn creates the table at once, so it is ACTIVE already.
		l.tables.created[in.TableName] = tableMeta{AttributeDefinitions: in.AttributeDefinitions, BillingMode: in.BillingMode, Created: time.Now()}
	case "DeleteTable":
		status = "DELETING"
		defer delete(l.tables.created, in.TableName)
	case "DescribeTable":
		field = "Table"
	}
	return describe(rep, field, status, region, l.tables.created[in.TableName])
}

// describe completes minidyn's table description.
func describe(rep reply, field, status, region string, meta tableMeta) reply {
	var out map[string]json.RawMessage
	var t map[string]any
	if json.Unmarshal(rep.body, &out) != nil || json.Unmarshal(out[field], &t) != nil || t == nil {
		return rep
	}
	// minidyn marshals the SDK's type, whose unset enums come out as "";
	// DynamoDB leaves them out.
	for k, v := range t {
		if v == "" {
			delete(t, k)
		}
	}
	name, _ := t["TableName"].(string)
	arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, localAccount, name)
	t["TableStatus"], t["TableArn"], t["TableId"] = status, arn, tableID(name)
	if meta.AttributeDefinitions != nil {
		t["AttributeDefinitions"] = meta.AttributeDefinitions
	}
	if !meta.Created.IsZero() {
		t["CreationDateTime"] = float64(meta.Created.UnixMilli()) / 1000
	}
	billing := meta.BillingMode
	if billing == "" {
		billing = "PROVISIONED"
	}
	t["BillingModeSummary"] = map[string]string{"BillingMode": billing}
	if gsis, ok := t["GlobalSecondaryIndexes"].([]any); ok {
		for _, g := range gsis {
			if g, ok := g.(map[string]any); ok {
				g["IndexArn"] = fmt.Sprintf("%s/index/%v", arn, g["IndexName"])
			}
		}
	}
	out[field], _ = json.Marshal(t)
	rep.body, _ = json.Marshal(out)
	return rep
}

// tableID is stable per name: DynamoDB's is a UUID.
func tableID(name string) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, uint16(h>>4)&0xfff, h&0xffffffffffff)
}

// listTables answers ListTables in name order, a page of at most limit
// (1 to 100, default 100) after start, as DynamoDB does. A table created
// here and since removed behind the API (Server.Reset) is left out.
func (l *limitedDynamoDB) listTables(start string, limit *int) reply {
	n := 100
	if limit != nil {
		if *limit < 1 || *limit > 100 {
			bound := "less than or equal to 100"
			if *limit < 1 {
				bound = "greater than or equal to 1"
			}
			return validation(fmt.Sprintf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value %s", *limit, bound)).reply()
		}
		n = *limit
	}
	l.tables.mu.Lock()
	names := make([]string, 0, len(l.tables.created))
	for name := range l.tables.created {
		names = append(names, name)
	}
	l.tables.mu.Unlock()
	slices.Sort(names)
	page := []string{}
	more := false
	for _, name := range names {
		if name <= start {
			continue
		}
		if rep := l.call("DescribeTable", map[string]string{"TableName": name}); rep.status != http.StatusOK {
			continue
		}
		if len(page) == n {
			more = true
			break
		}
		page = append(page, name)
	}
	out := map[string]any{"TableNames": page}
	if more {
		out["LastEvaluatedTableName"] = page[len(page)-1]
	}
	b, _ := json.Marshal(out)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	return reply{status: http.StatusOK, header: h, body: b}
}

var credentialScope = regexp.MustCompile(`Credential=[^/,]+/[0-9]+/([a-z0-9-]+)/`)

// region is the one the caller signed for (DynamoDB serves one region per
// endpoint; this server, whichever the caller names).
func region(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return "us-east-1"
}
