package embedded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/truora/minidyn/server"
)

// limitedDynamoDB stands in front of minidyn, which checks none of
// DynamoDB's limits, and refuses what DynamoDB refuses, with DynamoDB's
// ValidationException and its messages. It also answers the table calls
// minidyn lacks or answers in part (tables.go).
//
// What it checks, and how:
//   - items put (PutItem, BatchWriteItem, transaction Put) are sized before
//     the write; nothing is written if one is too large;
//   - an update's resulting item cannot be known without evaluating the
//     update expression, so UpdateItem and a TransactWriteItems holding an
//     Update run under an exclusive lock: the items they touch are read
//     first, the write runs, the results are read and sized, and if one is
//     over 400 KB (or the transaction over 4 MB) the items read first are
//     put back before the lock is released. Every other call shares the
//     lock, so no one ever sees the oversized item. As in DynamoDB, an
//     UpdateItem is then refused with a ValidationException, a transaction
//     with a TransactionCanceledException whose reason is ValidationError;
//   - a transaction's size is the sum of the items it writes (Put items,
//     Update results) and the keys of its Delete and ConditionCheck;
//   - a Query or Scan page stops after the item with which the data read
//     passes 1 MB, and LastEvaluatedKey names that item (table key, plus
//     the index key on an index). With a projection, a filter or
//     Select=COUNT, the page is first read whole (the data read is the
//     whole items) and the call is then repeated with Limit set to where
//     the page stops; with a filter that Limit counts matches in minidyn,
//     not items read — Haven filters in code (shared/dynamostore);
//   - expression strings, placeholders, substitution sizes, update
//     operators, IN operands, key sizes, attribute name lengths and nesting
//     depth, from the request alone.
//
// Not checked: BatchGetItem's 16 MB response bound (Haven does not use
// BatchGetItem) and local secondary index item collections (Haven has
// none).
type limitedDynamoDB struct {
	next   http.Handler
	mu     sync.RWMutex
	tables tableRegistry
}

func withLimits(next http.Handler) http.Handler {
	return &limitedDynamoDB{next: next, tables: tableRegistry{created: map[string]tableMeta{}}}
}

// The error type DynamoDB sends for a request it refuses as invalid; the
// SDK keeps what follows '#'.
const validationType = "com.amazon.coral.validation#ValidationException"

// Messages as DynamoDB words them (moto and dynamodb-local reproduce them
// from DynamoDB; the transaction-size and substitution-size texts were
// found nowhere published and are ours).
const (
	msgItemTooLarge         = "Item size has exceeded the maximum allowed size"
	msgUpdatedItemTooLarge  = "Item size to update has exceeded the maximum allowed size"
	msgTooManyActions       = "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"
	msgTransactionTooLarge  = "Transaction request size has exceeded the maximum allowed size of 4 MB"
	msgSameItemTwice        = "Transaction request cannot include multiple operations on one item"
	msgTooManyWrites        = "Too many items requested for the BatchWriteItem call"
	msgTooManyGets          = "Too many items requested for the BatchGetItem call"
	msgHashKeyTooLarge      = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
	msgRangeKeyTooLarge     = "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
	msgTooDeep              = "Nesting Levels have exceeded supported limits"
	msgNameTooLong          = "1 validation error detected: Value at 'item' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 65535]"
	msgSubstitutionTooLarge = "ExpressionAttributeNames and ExpressionAttributeValues exceed the maximum allowed size of 2 MB"
)

// validation is a request DynamoDB refuses, by its message.
type validation string

func (v validation) Error() string { return string(v) }

func (v validation) reply() reply {
	b, _ := json.Marshal(map[string]string{"__type": validationType, "message": string(v)})
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	return reply{status: http.StatusBadRequest, header: h, body: b}
}

func (l *limitedDynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		l.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	var rep reply
	switch op {
	case "ListTables", "CreateTable", "DeleteTable", "DescribeTable":
		l.mu.RLock()
		rep = l.tableCall(op, body, region(r))
		l.mu.RUnlock()
	case "UpdateItem", "TransactWriteItems":
		l.mu.Lock()
		rep = l.serve(op, body)
		l.mu.Unlock()
	default:
		l.mu.RLock()
		rep = l.serve(op, body)
		l.mu.RUnlock()
	}
	rep.write(w)
}

// serve checks one data call; a body it cannot read goes to minidyn as is,
// which answers it as DynamoDB would (or as minidyn does).
func (l *limitedDynamoDB) serve(op string, body []byte) reply {
	var err error
	switch op {
	case "PutItem":
		var in server.PutItemInput
		if json.Unmarshal(body, &in) == nil {
			err = l.checkItem(deref(in.TableName), in.Item)
			err = first(err, checkExpressions(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
				expr("ConditionExpression", in.ConditionExpression)))
		}
	case "DeleteItem":
		var in server.DeleteItemInput
		if json.Unmarshal(body, &in) == nil {
			err = l.checkKey(deref(in.TableName), in.Key)
			err = first(err, checkExpressions(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
				expr("ConditionExpression", in.ConditionExpression)))
		}
	case "GetItem":
		var in server.GetItemInput
		if json.Unmarshal(body, &in) == nil {
			err = l.checkKey(deref(in.TableName), in.Key)
			err = first(err, checkExpressions(in.ExpressionAttributeNames, nil,
				expr("ProjectionExpression", in.ProjectionExpression)))
		}
	case "UpdateItem":
		var in server.UpdateItemInput
		if json.Unmarshal(body, &in) == nil {
			err = l.checkKey(deref(in.TableName), in.Key)
			err = first(err, checkExpressions(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
				expr("UpdateExpression", in.UpdateExpression), expr("ConditionExpression", in.ConditionExpression)))
			if err == nil {
				ref := itemRef{table: deref(in.TableName), key: in.Key}
				return l.undoable(op, body, []itemRef{ref}, func(after []int) refusal {
					if after[0] > MaxItemSize {
						return validation(msgUpdatedItemTooLarge)
					}
					return nil
				})
			}
		}
	case "Query", "Scan":
		var in server.QueryInput // Scan's fields that matter here are a subset
		if json.Unmarshal(body, &in) == nil {
			err = checkExpressions(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
				expr("KeyConditionExpression", in.KeyConditionExpression), expr("FilterExpression", in.FilterExpression),
				expr("ProjectionExpression", in.ProjectionExpression))
			if err == nil {
				return l.page(op, body, in)
			}
		}
	case "BatchWriteItem":
		var in server.BatchWriteItemInput
		if json.Unmarshal(body, &in) == nil {
			err = l.checkBatchWrite(in)
		}
	case "BatchGetItem":
		var in server.BatchGetItemInput
		if json.Unmarshal(body, &in) == nil {
			n := 0
			for table, ka := range in.RequestItems {
				n += len(ka.Keys)
				for _, k := range ka.Keys {
					err = first(err, l.checkKey(table, k))
				}
				err = first(err, checkExpressions(ka.ExpressionAttributeNames, nil, expr("ProjectionExpression", ka.ProjectionExpression)))
			}
			if n > MaxBatchGet {
				err = validation(msgTooManyGets)
			}
		}
	case "TransactGetItems":
		var in server.TransactGetItemsInput
		if json.Unmarshal(body, &in) == nil {
			for _, it := range in.TransactItems {
				if it.Get != nil {
					err = first(err, l.checkKey(deref(it.Get.TableName), it.Get.Key))
					err = first(err, checkExpressions(it.Get.ExpressionAttributeNames, nil, expr("ProjectionExpression", it.Get.ProjectionExpression)))
				}
			}
		}
	case "TransactWriteItems":
		var in server.TransactWriteItemsInput
		if json.Unmarshal(body, &in) == nil {
			return l.transact(body, in)
		}
	}
	if v, ok := err.(validation); ok {
		return v.reply()
	}
	return l.forward(op, body)
}

func (l *limitedDynamoDB) checkBatchWrite(in server.BatchWriteItemInput) error {
	n := 0
	for _, reqs := range in.RequestItems {
		n += len(reqs)
	}
	if n > MaxBatchWrite {
		return validation(msgTooManyWrites)
	}
	var err error
	for table, reqs := range in.RequestItems {
		for _, r := range reqs {
			if r.PutRequest != nil {
				err = first(err, l.checkItem(table, r.PutRequest.Item))
			}
			if r.DeleteRequest != nil {
				err = first(err, l.checkKey(table, r.DeleteRequest.Key))
			}
		}
	}
	return err
}

// transact checks a TransactWriteItems: what the request shows before it
// runs, the items its updates produce after (undone if too large).
func (l *limitedDynamoDB) transact(body []byte, in server.TransactWriteItemsInput) reply {
	if len(in.TransactItems) > MaxTransactionActions {
		return validation(msgTooManyActions).reply()
	}
	var (
		err     error
		refs    []itemRef
		updates [][2]int // the Update targets: index in refs, in the actions
		fixed   int      // bytes known before the write: Put items, other keys
		seen    = map[string]bool{}
	)
	for n, it := range in.TransactItems {
		var (
			ref  itemRef
			size int
		)
		switch {
		case it.Put != nil:
			p := it.Put
			ref.table = deref(p.TableName)
			err = first(err, l.checkItem(ref.table, p.Item))
			err = first(err, checkExpressions(p.ExpressionAttributeNames, p.ExpressionAttributeValues, expr("ConditionExpression", p.ConditionExpression)))
			ref.key = l.keyOf(ref.table, p.Item)
			size = ItemSize(sdkItem(p.Item))
		case it.Update != nil:
			u := it.Update
			ref = itemRef{table: deref(u.TableName), key: u.Key}
			err = first(err, l.checkKey(ref.table, u.Key))
			err = first(err, checkExpressions(u.ExpressionAttributeNames, u.ExpressionAttributeValues,
				expr("UpdateExpression", u.UpdateExpression), expr("ConditionExpression", u.ConditionExpression)))
			updates = append(updates, [2]int{len(refs), n})
		case it.Delete != nil:
			d := it.Delete
			ref = itemRef{table: deref(d.TableName), key: d.Key}
			err = first(err, l.checkKey(ref.table, d.Key))
			err = first(err, checkExpressions(d.ExpressionAttributeNames, d.ExpressionAttributeValues, expr("ConditionExpression", d.ConditionExpression)))
			size = ItemSize(sdkItem(d.Key))
		case it.ConditionCheck != nil:
			c := it.ConditionCheck
			ref = itemRef{table: deref(c.TableName), key: c.Key}
			err = first(err, l.checkKey(ref.table, c.Key))
			err = first(err, checkExpressions(c.ExpressionAttributeNames, c.ExpressionAttributeValues, expr("ConditionExpression", c.ConditionExpression)))
			size = ItemSize(sdkItem(c.Key))
		default:
			continue
		}
		id, _ := json.Marshal(ref.key) // map keys marshal sorted: one id per item
		if seen[ref.table+"\x00"+string(id)] {
			err = first(err, validation(msgSameItemTwice))
		}
		seen[ref.table+"\x00"+string(id)] = true
		fixed += size
		if it.ConditionCheck == nil {
			refs = append(refs, ref)
		}
	}
	if err == nil && fixed > MaxTransactionSize {
		err = validation(msgTransactionTooLarge)
	}
	if v, ok := err.(validation); ok {
		return v.reply()
	}
	if len(updates) == 0 {
		return l.forward("TransactWriteItems", body)
	}
	return l.undoable("TransactWriteItems", body, refs, func(after []int) refusal {
		total := fixed
		reasons := make(cancelled, len(in.TransactItems))
		tooLarge := false
		for _, u := range updates {
			if after[u[0]] > MaxItemSize {
				reasons[u[1]], tooLarge = msgUpdatedItemTooLarge, true
			}
			total += after[u[0]]
		}
		switch {
		case tooLarge:
			return reasons
		case total > MaxTransactionSize:
			return validation(msgTransactionTooLarge)
		}
		return nil
	})
}

// itemRef names one item: its table and key.
type itemRef struct {
	table string
	key   map[string]*server.AttributeValue
}

// refusal is how a request is refused: a ValidationException, or a
// TransactionCanceledException.
type refusal interface{ reply() reply }

// cancelled refuses a transaction whose changes made an item too large, as
// DynamoDB does (TransactWriteItems API reference, ValidationError): one
// reason per action, "" where the action was not at fault.
type cancelled []string

func (c cancelled) reply() reply {
	type reason struct {
		Code    string
		Message string `json:",omitempty"`
	}
	reasons := make([]reason, len(c))
	codes := make([]string, len(c))
	for i, msg := range c {
		reasons[i], codes[i] = reason{Code: "None"}, "None"
		if msg != "" {
			reasons[i], codes[i] = reason{Code: "ValidationError", Message: msg}, "ValidationError"
		}
	}
	b, _ := json.Marshal(map[string]any{
		"__type":              "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		"message":             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		"CancellationReasons": reasons,
	})
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	return reply{status: http.StatusBadRequest, header: h, body: b}
}

// undoable runs a write whose resulting items can only be sized once
// written (the caller holds l.mu exclusively). refused gets the size of each
// ref's item after the write and says why they are refused, if they are;
// then every ref is put back as it was and nothing has changed.
func (l *limitedDynamoDB) undoable(op string, body []byte, refs []itemRef, refused func(after []int) refusal) reply {
	before := make([]json.RawMessage, len(refs))
	for i, ref := range refs {
		raw, ok := l.getItem(ref)
		if !ok {
			// minidyn cannot read it (no such table, emulated failure):
			// it answers the write itself.
			return l.forward(op, body)
		}
		before[i] = raw
	}
	rep := l.forward(op, body)
	if rep.status != http.StatusOK {
		return rep
	}
	after := make([]int, len(refs))
	for i, ref := range refs {
		raw, _ := l.getItem(ref)
		var item map[string]*server.AttributeValue
		if len(raw) > 0 {
			json.Unmarshal(raw, &item)
		}
		after[i] = ItemSize(sdkItem(item))
	}
	why := refused(after)
	if why == nil {
		return rep
	}
	for i, ref := range refs {
		if before[i] == nil {
			l.call("DeleteItem", map[string]any{"TableName": ref.table, "Key": ref.key})
		} else {
			l.call("PutItem", map[string]any{"TableName": ref.table, "Item": before[i]})
		}
	}
	return why.reply()
}

// getItem reads one item as minidyn holds it (nil when absent).
func (l *limitedDynamoDB) getItem(ref itemRef) (json.RawMessage, bool) {
	rep := l.call("GetItem", map[string]any{"TableName": ref.table, "Key": ref.key, "ConsistentRead": true})
	if rep.status != http.StatusOK {
		return nil, false
	}
	var out struct{ Item json.RawMessage }
	if err := json.Unmarshal(rep.body, &out); err != nil {
		return nil, false
	}
	if string(out.Item) == "null" {
		out.Item = nil
	}
	return out.Item, true
}

// checkItem sizes an item to be put and its key values (the table's and
// every index's it carries).
func (l *limitedDynamoDB) checkItem(table string, item map[string]*server.AttributeValue) error {
	sdk := sdkItem(item)
	for name, v := range sdk {
		if len(name) > MaxAttributeNameLength {
			return validation(msgNameTooLong)
		}
		if nestingDepth(v) > MaxNestingDepth {
			return validation(msgTooDeep)
		}
	}
	if ItemSize(sdk) > MaxItemSize {
		return validation(msgItemTooLarge)
	}
	return l.checkKey(table, item)
}

// checkKey bounds the key values present in attrs: an item or a key.
func (l *limitedDynamoDB) checkKey(table string, attrs map[string]*server.AttributeValue) error {
	ks, ok := l.keys(table)
	if !ok {
		return nil
	}
	for _, k := range ks.all() {
		v := attrs[k.AttributeName]
		if v == nil {
			continue
		}
		n := valueSize(sdkValue(v))
		if k.KeyType == "HASH" && n > MaxPartitionKeySize {
			return validation(msgHashKeyTooLarge)
		}
		if k.KeyType == "RANGE" && n > MaxSortKeySize {
			return validation(msgRangeKeyTooLarge)
		}
	}
	return nil
}

// keyOf is the table key of an item.
func (l *limitedDynamoDB) keyOf(table string, item map[string]*server.AttributeValue) map[string]*server.AttributeValue {
	key := map[string]*server.AttributeValue{}
	ks, _ := l.keys(table)
	for _, k := range ks.KeySchema {
		if v, ok := item[k.AttributeName]; ok {
			key[k.AttributeName] = v
		}
	}
	return key
}

type keyElement struct{ AttributeName, KeyType string }

// tableKeys is the part of DescribeTable these checks need.
type tableKeys struct {
	KeySchema              []keyElement
	GlobalSecondaryIndexes []indexKeys
	LocalSecondaryIndexes  []indexKeys
}

type indexKeys struct {
	IndexName string
	KeySchema []keyElement
}

func (t tableKeys) all() []keyElement {
	all := append([]keyElement(nil), t.KeySchema...)
	for _, ix := range append(t.GlobalSecondaryIndexes, t.LocalSecondaryIndexes...) {
		all = append(all, ix.KeySchema...)
	}
	return all
}

// pageKey is the key LastEvaluatedKey holds: the table's, plus the
// index's when reading an index.
func (t tableKeys) pageKey(index string) []string {
	var names []string
	for _, k := range t.KeySchema {
		names = append(names, k.AttributeName)
	}
	for _, ix := range append(t.GlobalSecondaryIndexes, t.LocalSecondaryIndexes...) {
		if ix.IndexName == index {
			for _, k := range ix.KeySchema {
				names = append(names, k.AttributeName)
			}
		}
	}
	return names
}

// keys asks minidyn for a table's key schema. It is asked each time, in
// process, so it never goes stale when a test resets the server.
func (l *limitedDynamoDB) keys(table string) (tableKeys, bool) {
	rep := l.call("DescribeTable", map[string]string{"TableName": table})
	var out struct{ Table tableKeys }
	if rep.status != http.StatusOK || json.Unmarshal(rep.body, &out) != nil {
		return tableKeys{}, false
	}
	return out.Table, true
}

// page serves a Query or Scan, stopping the page at 1 MB of data read.
func (l *limitedDynamoDB) page(op string, body []byte, in server.QueryInput) reply {
	whole := in.ProjectionExpression == nil && in.FilterExpression == nil && len(in.AttributesToGet) == 0 &&
		len(in.QueryFilter) == 0 && !bytes.Contains(body, []byte(`"ScanFilter"`)) &&
		(in.Select == "" || in.Select == "ALL_ATTRIBUTES" || in.Select == "ALL_PROJECTED_ATTRIBUTES")
	if whole {
		rep := l.forward(op, body)
		if rep.status != http.StatusOK {
			return rep
		}
		return l.cutPage(rep, deref(in.TableName), deref(in.IndexName))
	}
	// The page returns less than was read: read it whole to learn where
	// it stops, then ask for just that much.
	probe := l.forward(op, wholeRead(body))
	if probe.status == http.StatusOK {
		var out struct{ Items []json.RawMessage }
		if json.Unmarshal(probe.body, &out) == nil {
			if n := pageLength(out.Items); n < len(out.Items) {
				return l.forward(op, withField(body, "Limit", n))
			}
		}
	}
	return l.forward(op, body)
}

// pageLength is how many of items one page holds: up to and including the
// one with which the data read passes MaxPageSize.
func pageLength(items []json.RawMessage) int {
	total := 0
	for i, raw := range items {
		var item map[string]*server.AttributeValue
		json.Unmarshal(raw, &item)
		total += ItemSize(sdkItem(item))
		if total > MaxPageSize {
			return i + 1
		}
	}
	return len(items)
}

// cutPage shortens a page of whole items to 1 MB and sets LastEvaluatedKey
// to its last item's key.
func (l *limitedDynamoDB) cutPage(rep reply, table, index string) reply {
	var out map[string]json.RawMessage
	var items []json.RawMessage
	if json.Unmarshal(rep.body, &out) != nil || json.Unmarshal(out["Items"], &items) != nil {
		return rep
	}
	n := pageLength(items)
	if n == len(items) {
		return rep
	}
	ks, ok := l.keys(table)
	if !ok {
		return rep
	}
	var last map[string]json.RawMessage
	json.Unmarshal(items[n-1], &last)
	lek := map[string]json.RawMessage{}
	for _, name := range ks.pageKey(index) {
		lek[name] = last[name]
	}
	out["Items"], _ = json.Marshal(items[:n])
	out["Count"], _ = json.Marshal(n)
	out["ScannedCount"] = out["Count"]
	out["LastEvaluatedKey"], _ = json.Marshal(lek)
	rep.body, _ = json.Marshal(out)
	return rep
}

// wholeRead is a Query or Scan body reading whole items: no projection, no
// filter, no count, and only the placeholders the key condition still uses
// (DynamoDB, and minidyn, refuse unused ones).
func wholeRead(body []byte) []byte {
	var in map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil {
		return body
	}
	for _, f := range []string{"ProjectionExpression", "FilterExpression", "Select", "AttributesToGet", "QueryFilter", "ScanFilter", "ConditionalOperator"} {
		delete(in, f)
	}
	var keyCond string
	json.Unmarshal(in["KeyConditionExpression"], &keyCond)
	used := map[string]bool{}
	for _, p := range placeholder.FindAllString(keyCond, -1) {
		used[p] = true
	}
	for _, f := range []string{"ExpressionAttributeNames", "ExpressionAttributeValues"} {
		var m map[string]json.RawMessage
		if json.Unmarshal(in[f], &m) != nil {
			continue
		}
		for k := range m {
			if !used[k] {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			delete(in, f)
		} else {
			in[f], _ = json.Marshal(m)
		}
	}
	out, _ := json.Marshal(in)
	return out
}

var placeholder = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

func withField(body []byte, field string, v any) []byte {
	var in map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil {
		return body
	}
	in[field], _ = json.Marshal(v)
	out, _ := json.Marshal(in)
	return out
}

type namedExpression struct{ kind, text string }

func expr(kind string, s *string) namedExpression { return namedExpression{kind, deref(s)} }

var (
	updateFunction = regexp.MustCompile(`\b(if_not_exists|list_append)\s*\(`)
	inOperator     = regexp.MustCompile(`(?i)\bIN\s*\(`)
)

// checkExpressions applies the expression limits to one request's
// expressions and their substitutions.
func checkExpressions(names map[string]string, values map[string]*server.AttributeValue, exprs ...namedExpression) error {
	for _, e := range exprs {
		if len(e.text) > MaxExpressionLength {
			return validation(fmt.Sprintf("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", e.kind, len(e.text)))
		}
		switch e.kind {
		case "UpdateExpression":
			n := strings.Count(e.text, "+") + strings.Count(e.text, "-") + len(updateFunction.FindAllString(e.text, -1))
			if n > MaxUpdateOperators {
				return validation(fmt.Sprintf("Invalid UpdateExpression: The expression contains too many operators; operator count: %d", n))
			}
		case "ConditionExpression", "FilterExpression":
			if n := maxInOperands(e.text); n > MaxInOperands {
				return validation(fmt.Sprintf("Invalid %s: The expression contains too many operands for the IN comparator; number of operands: %d", e.kind, n))
			}
		}
	}
	size := 0
	for k, v := range names {
		if len(k) > MaxPlaceholderLength {
			return validation(fmt.Sprintf("ExpressionAttributeNames contains invalid key: key too long; size of key: %d", len(k)))
		}
		size += len(k) + len(v)
	}
	for k, v := range values {
		if v != nil {
			size += len(k) + valueSize(sdkValue(v))
		}
	}
	if size > MaxSubstitutionSize {
		return validation(msgSubstitutionTooLarge)
	}
	return nil
}

// maxInOperands is the largest operand count of the IN comparators in a
// condition: the top-level commas inside each IN's parentheses, plus one.
func maxInOperands(cond string) int {
	most := 0
	for _, loc := range inOperator.FindAllStringIndex(cond, -1) {
		depth, n := 1, 1
		for _, c := range cond[loc[1]:] {
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			case ',':
				if depth == 1 {
					n++
				}
			}
			if depth == 0 {
				break
			}
		}
		most = max(most, n)
	}
	return most
}

// reply is a response recorded from minidyn or made here.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) write(w http.ResponseWriter) {
	for k, v := range r.header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(r.status)
	// minidyn's encoder ends each body with a newline, which DynamoDB does
	// not send: the SDK, having decoded a large error body, closes it
	// before that last byte and then warns that it could not drain it.
	w.Write(bytes.TrimSuffix(r.body, []byte("\n")))
}

// recorder keeps what minidyn answers, to check it or pass it on (the
// limits) or to hold it until the write is durable (the journal).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// forward sends a body to minidyn as operation op.
func (l *limitedDynamoDB) forward(op string, body []byte) reply {
	req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := &recorder{header: http.Header{}}
	l.next.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return reply{status: rec.status, header: rec.header, body: rec.body.Bytes()}
}

func (l *limitedDynamoDB) call(op string, in any) reply {
	b, err := json.Marshal(in)
	if err != nil {
		return reply{status: http.StatusInternalServerError}
	}
	return l.forward(op, b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// first keeps the first of a sequence of check results.
func first(err, next error) error {
	if err != nil {
		return err
	}
	return next
}
