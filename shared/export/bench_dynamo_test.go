package export_test

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haven-hrd/haven/infra/testenv"
)

// synthDynamo stands in for DynamoDB in the export benchmark. It speaks the
// DynamoDB JSON protocol (the SDK's, over HTTP, as in Lambda) and answers
// the two queries the partner export makes, both on gsi1:
//
//   - gsi1pk = "STREAMS": the streams hrd and closed-stream, each with
//     testenv.Partners;
//   - gsi1pk = "PARTNER#<partner>": for benchPartner, n referral items
//     generated on the fly in gsi1sk order, Limit at a time with a
//     LastEvaluatedKey (table and index keys, as DynamoDB returns) until the
//     last page; for any other partner, none.
//
// The items are those dynamostore writes (doc.go): table and index keys,
// the attributes that identify no one, and four 300-byte sealed attributes.
// The ProjectionExpression is applied as DynamoDB applies it, so a query that
// stopped projecting would pay for the sealed attributes here too.
//
// Any other target or query is answered with a ValidationException and
// counted in unexpected. It exists because the embedded DynamoDB (minidyn)
// slows down quadratically when seeded with ~100k items (BENCHMARKS.md).
type synthDynamo struct {
	n int

	mu         sync.Mutex
	targets    map[string]int // X-Amz-Target → calls
	pages      int
	items      int
	unexpected []string
}

const benchPartner = "unhcr"

func newSynthDynamo(n int) *synthDynamo {
	return &synthDynamo{n: n, targets: map[string]int{}}
}

type av = map[string]any

func sAV(v string) av { return av{"S": v} }
func nAV(v int) av    { return av{"N": strconv.Itoa(v)} }

// queryInput is the part of a Query request the server reads.
type queryInput struct {
	TableName                 string
	IndexName                 string
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]map[string]any
	ExclusiveStartKey         map[string]map[string]any
	ProjectionExpression      string
	Limit                     int
	ScanIndexForward          *bool
}

var benchBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchID is the id of the i-th referral: 26 characters, like a ULID, and
// in creation order.
func benchID(i int) string { return fmt.Sprintf("01BENCH%019d", i) }

var (
	benchStatuses = []string{"submitted", "eligible", "allocated", "waitlisted", "approved", "arrived", "withdrawn", "ineligible"}
	benchUrgency  = []string{"normal", "urgent", "emergency"}
	benchFiller   = strings.Repeat("A", 400) // base64 of 300 bytes
)

// referralItem is the i-th referral as stored.
func (d *synthDynamo) referralItem(i int) av {
	id := benchID(i)
	created := benchBase.Add(time.Duration(i) * 97 * time.Second).Add(time.Duration(i%1000) * time.Millisecond)
	updated := created.Add(time.Duration(i%48) * time.Hour)
	status := benchStatuses[i%len(benchStatuses)]
	sortable := created.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
	it := av{
		"pk": sAV("REF#" + id), "sk": sAV("A"),
		"gsi1pk": sAV("PARTNER#" + benchPartner), "gsi1sk": sAV(sortable),
		"gsi2pk": sAV("REFS"), "gsi2sk": sAV(sortable),
		"id": sAV(id), "partner": sAV(benchPartner), "stream": sAV("hrd"),
		"partner_reference": sAV(fmt.Sprintf("UNHCR-%d-%07d", 2025+i%2, i)),
		"urgency":           sAV(benchUrgency[i%len(benchUrgency)]), "status": sAV(status),
		"persons": nAV(1 + i%5), "period": nAV(0),
		"created_at": sAV(created.Format(time.RFC3339Nano)), "updated_at": sAV(updated.Format(time.RFC3339Nano)),
		"version": nAV(1 + i%4), "preferred_language": sAV("en"),
		"consent_given": av{"BOOL": true}, "consent_date": sAV("2025-01-01"),
		"fingerprint": sAV(fmt.Sprintf("%064x", i)),
		"pii_people":  av{"B": benchFiller}, "pii_asylum": av{"B": benchFiller},
		"pii_profile": av{"B": benchFiller}, "pii_contact": av{"B": benchFiller},
	}
	switch status {
	case "allocated", "waitlisted", "approved", "arrived":
		it["period"] = nAV(2026)
	case "ineligible":
		it["reasons"] = av{"L": []av{sAV("not-a-human-rights-defender"), sAV("information-unverifiable")}}
	}
	return it
}

func streamItem(id, name string, open bool) av {
	partners := make([]av, len(testenv.Partners))
	for i, p := range testenv.Partners {
		partners[i] = sAV(p)
	}
	it := av{
		"pk": sAV("STREAM#" + id), "sk": sAV("A"), "gsi1pk": sAV("STREAMS"), "gsi1sk": sAV(id),
		"id": sAV(id), "name": sAV(name), "open": av{"BOOL": open}, "partners": av{"L": partners},
	}
	for _, p := range testenv.Partners {
		it["member#"+p] = av{"BOOL": true}
	}
	return it
}

// project keeps the attributes a ProjectionExpression names.
func project(it av, expr string, names map[string]string) av {
	if expr == "" {
		return it
	}
	out := av{}
	for _, p := range strings.Split(expr, ",") {
		p = strings.TrimSpace(p)
		if n, ok := names[p]; ok {
			p = n
		}
		if v, ok := it[p]; ok {
			out[p] = v
		}
	}
	return out
}

func (d *synthDynamo) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.mu.Lock()
	d.unexpected = append(d.unexpected, msg)
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#ValidationException", "message": msg})
}

func (d *synthDynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	d.mu.Lock()
	d.targets[target]++
	d.mu.Unlock()
	if target != "DynamoDB_20120810.Query" {
		d.fail(w, "synthetic DynamoDB: unexpected target %q", target)
		return
	}
	var in queryInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		d.fail(w, "synthetic DynamoDB: %v", err)
		return
	}
	pkName := "gsi1pk"
	if n, ok := in.ExpressionAttributeNames["#pk"]; ok {
		pkName = n
	}
	pk, _ := in.ExpressionAttributeValues[":pk"]["S"].(string)
	if in.IndexName != "gsi1" || pkName != "gsi1pk" || !strings.HasSuffix(in.KeyConditionExpression, "= :pk") ||
		(in.ScanIndexForward != nil && !*in.ScanIndexForward) {
		d.fail(w, "synthetic DynamoDB: unexpected query %s %s %s=%s", in.IndexName, in.KeyConditionExpression, pkName, pk)
		return
	}
	limit := in.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000 // about DynamoDB's 1 MB page for these items
	}
	var items []av
	var last av
	switch {
	case pk == "STREAMS":
		items = []av{streamItem("closed-stream", "Closed", false), streamItem("hrd", "HRD", true)}
	case pk == "PARTNER#"+benchPartner:
		from := 0
		if esk := in.ExclusiveStartKey; esk != nil {
			ref, _ := esk["pk"]["S"].(string)
			i, err := strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(ref, "REF#"), "01BENCH"))
			if err != nil {
				d.fail(w, "synthetic DynamoDB: bad ExclusiveStartKey %v", esk)
				return
			}
			from = i + 1
		}
		to := min(from+limit, d.n)
		for i := from; i < to; i++ {
			items = append(items, d.referralItem(i))
		}
		if to < d.n {
			it := items[len(items)-1]
			last = av{"pk": it["pk"], "sk": it["sk"], "gsi1pk": it["gsi1pk"], "gsi1sk": it["gsi1sk"]}
		}
	case strings.HasPrefix(pk, "PARTNER#"):
		// No referrals.
	default:
		d.fail(w, "synthetic DynamoDB: unexpected partition %q", pk)
		return
	}
	for i, it := range items {
		items[i] = project(it, in.ProjectionExpression, in.ExpressionAttributeNames)
	}
	out := av{"Items": items, "Count": len(items), "ScannedCount": len(items)}
	if items == nil {
		out["Items"] = []av{}
	}
	if last != nil {
		out["LastEvaluatedKey"] = last
	}
	b, err := json.Marshal(out)
	if err != nil {
		d.fail(w, "synthetic DynamoDB: %v", err)
		return
	}
	d.mu.Lock()
	d.pages++
	d.items += len(items)
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	w.Write(b)
}

// summary is the calls served, for the benchmark's log.
func (d *synthDynamo) summary() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ts []string
	for t, c := range d.targets {
		ts = append(ts, fmt.Sprintf("%s×%d", t, c))
	}
	sort.Strings(ts)
	return fmt.Sprintf("%s; %d pages, %d items", strings.Join(ts, ", "), d.pages, d.items)
}
