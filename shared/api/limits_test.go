package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/referral"
)

// The largest referral the API accepts: 30 family members and every field
// at its maximum (shared/referral's limits), in letters of four UTF-8 bytes
// (U+20000 onwards, CJK Extension B), the most bytes a rune can take.
func widest(n, offset int) string {
	var b strings.Builder
	for i := range n {
		b.WriteRune(rune(0x20000 + (offset*n+i)%0xA6D0))
	}
	return b.String()
}

func largestPerson(i int, member bool) map[string]any {
	p := map[string]any{"given_name": widest(100, 2*i), "family_name": widest(100, 2*i+1), "date_of_birth": "1985-03-14", "sex": "X", "nationality": "VNM"}
	if member {
		p["relationship"] = "other-dependant"
	}
	return p
}

func largestFamily(offset int) []any {
	var out []any
	for i := range referral.MaxFamilyMembers {
		out = append(out, largestPerson(offset+i+1, true))
	}
	return out
}

func largestReferral(t *testing.T, ref string) string {
	t.Helper()
	areas := []string{"journalism", "lgbtqi", "women", "environment", "land", "indigenous", "labour", "anti-corruption", "democracy", "minority", "other"}
	b, err := json.Marshal(map[string]any{
		"stream": "hrd", "partner_reference": ref + widest(64-len(ref), 7), "urgency": "emergency",
		"principal": largestPerson(0, false), "family_members": largestFamily(0),
		"country_of_asylum": "THA",
		"defender_profile":  map[string]any{"rights_areas": areas, "summary": widest(4000, 3)},
		"contact": map[string]any{
			"email": strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".org",
			"phone": "+12-3-4-5-6-7-8-9-0-1-2-3-4-5", "preferred_channel": "whatsapp",
		},
		"preferred_language": "fr", "consent": map[string]any{"given": true, "date": "2026-11-01"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > referral.MaxBodyBytes {
		t.Fatalf("the largest referral is %d bytes, over the API's %d", len(b), referral.MaxBodyBytes)
	}
	return string(b)
}

// maxReasonCodes is the most reasons a step of kind k takes (every code
// of the kind, each once), the longest first.
func maxReasonCodes(k reason.Kind) []string {
	rs := slices.Clone(reason.Codes(k))
	slices.SortStableFunc(rs, func(a, b string) int { return len(b) - len(a) })
	return rs[:k.Max()]
}

// txSizes records the transactions a store makes: actions, and bytes as the
// embedded server counts them (Put items, Update results, the keys of the
// rest), by the step under way.
type txSizes struct {
	mu      sync.Mutex
	db      *dynamodb.Client
	step    string
	actions map[string]int
	bytes   map[string]int
}

// record makes r measure every transaction of the clients whose APIOptions
// carry its middleware; db reads items back (at their size after an update).
func (r *txSizes) record(db *dynamodb.Client) func(*middleware.Stack) error {
	r.db, r.actions, r.bytes = db, map[string]int{}, map[string]int{}
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("TransactionSizes",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok && err == nil {
					r.add(ctx, tx)
				}
				return out, md, err
			}), middleware.After)
	}
}

func (r *txSizes) add(ctx context.Context, tx *dynamodb.TransactWriteItemsInput) {
	size := 0
	for _, it := range tx.TransactItems {
		switch {
		case it.Put != nil:
			size += embedded.ItemSize(it.Put.Item)
		case it.Update != nil:
			out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: it.Update.TableName, Key: it.Update.Key, ConsistentRead: aws.Bool(true)})
			if err == nil {
				size += embedded.ItemSize(out.Item)
			}
		case it.Delete != nil:
			size += embedded.ItemSize(it.Delete.Key)
		case it.ConditionCheck != nil:
			size += embedded.ItemSize(it.ConditionCheck.Key)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.actions[r.step] = max(r.actions[r.step], len(tx.TransactItems))
	r.bytes[r.step] = max(r.bytes[r.step], size)
}

func (r *txSizes) at(step string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step = step
}

func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1024) }

func margin(n, limit int) string {
	return fmt.Sprintf("%s of %s (%.1f%%; margin %s)", kb(n), kb(limit), 100*float64(n)/float64(limit), kb(limit-n))
}

// TestWithinDynamoDBLimits runs Haven's worst cases through the steps
// against the embedded server, which refuses what DynamoDB refuses
// (infra/embedded): the largest referral the API accepts, changed and moved
// through every step with the longest reasons and idempotency keys; a
// referral with 500 history events; and so the largest transaction any step
// builds. It logs the margins that shared/dynamostore/doc.go states.
func TestWithinDynamoDBLimits(t *testing.T) {
	if testenv.External() {
		t.Skip("measures items as the embedded server sizes them")
	}
	h := newHarness(t, testenv.Options{})
	rec := &txSizes{}
	h.env.APIOptions = append(h.env.APIOptions, rec.record(h.env.DB))
	rec.at("capacity")
	h.setCapacity(1 + referral.MaxFamilyMembers)

	key := 0
	must := func(step string, resp events.APIGatewayV2HTTPResponse) map[string]any {
		t.Helper()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: %d %s", step, resp.StatusCode, resp.Body)
		}
		return decode(t, resp)
	}
	run := func(step, dir, id string, c caller, body any) map[string]any {
		t.Helper()
		rec.at(step)
		key++
		b, _ := json.Marshal(body)
		return must(step, h.step(dir, id, c, string(b), fmt.Sprintf("limits-%04d-%s", key, strings.Repeat("k", 40))))
	}
	create := func(ref string) string {
		t.Helper()
		rec.at("create")
		key++
		return must("create", h.create(largestReferral(t, ref), fld.partner, fmt.Sprintf("limits-%04d", key)))["id"].(string)
	}

	a, b := create("A"), create("B")
	for _, id := range []string{a, b} {
		run("screening", "screen-referral", id, officer, map[string]any{"outcome": "eligible", "reasons": maxReasonCodes(reason.Ineligible)})
	}
	if got := run("allocation", "allocate-referral", a, officer, map[string]any{"period": today.Year()})["status"]; got != "allocated" {
		t.Fatalf("allocate A: %v", got)
	}
	if got := run("waitlisting", "allocate-referral", b, officer, map[string]any{"period": today.Year()})["status"]; got != "waitlisted" {
		t.Fatalf("allocate B: %v", got)
	}
	run("family change", "change-family", a, officer, map[string]any{"family_members": largestFamily(100)})
	run("family change", "change-family", b, officer, map[string]any{"family_members": largestFamily(200)})
	// Withdrawing A frees its spaces: B is promoted in the same call.
	run("withdrawal and promotion", "withdraw-referral", a, officer, map[string]any{"reason": maxReasonCodes(reason.Withdrawn)[0]})
	run("decision", "decide-referral", b, officer, map[string]any{"outcome": "approved", "reasons": maxReasonCodes(reason.Refused)})
	run("arrival", "record-arrival", b, officer, map[string]any{"arrived_on": "2026-11-20"})

	// 500 history events: the creation and 499 family changes, the last
	// back to the largest family.
	c := create("C")
	for i := range 498 {
		run("family change (small)", "change-family", c, fld, map[string]any{"family_members": family(i % 2)})
	}
	run("family change", "change-family", c, fld, map[string]any{"family_members": largestFamily(300)})
	if got := len(h.history(c)); got != 500 {
		t.Fatalf("history of C: %d events, want 500", got)
	}

	// Every item Haven wrote, sized.
	largest := map[string]int{}
	partition := map[string]int{}
	p := dynamodb.NewScanPaginator(h.env.DB, &dynamodb.ScanInput{TableName: aws.String(h.env.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			pk := it["pk"].(*ddb.AttributeValueMemberS).Value
			kind := pk[:strings.IndexAny(pk+"#", "#")]
			if kind == "REF" && it["sk"].(*ddb.AttributeValueMemberS).Value != "A" {
				kind = "REF events"
			}
			n := embedded.ItemSize(it)
			largest[kind] = max(largest[kind], n)
			partition[pk] += n
		}
	}
	for kind, n := range largest {
		if n > embedded.MaxItemSize {
			t.Errorf("largest %s item: %d bytes, over DynamoDB's %d", kind, n, embedded.MaxItemSize)
		}
	}
	history := partition["REF#"+c]
	t.Logf("largest referral body: %s", margin(len(largestReferral(t, "A")), referral.MaxBodyBytes))
	kinds := make([]string, 0, len(largest))
	for kind := range largest {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		t.Logf("largest %s item: %s", kind, margin(largest[kind], embedded.MaxItemSize))
	}
	t.Logf("history of 500 events (referral item and events, read by GET history): %s per 1 MB page", margin(history, embedded.MaxPageSize))
	steps := make([]string, 0, len(rec.actions))
	for s := range rec.actions {
		steps = append(steps, s)
	}
	sort.Strings(steps)
	most, biggest := 0, 0
	for _, s := range steps {
		t.Logf("transaction of %s: %d of %d actions, %s", s, rec.actions[s], embedded.MaxTransactionActions, margin(rec.bytes[s], embedded.MaxTransactionSize))
		most, biggest = max(most, rec.actions[s]), max(biggest, rec.bytes[s])
	}
	if most == 0 || most > embedded.MaxTransactionActions || biggest > embedded.MaxTransactionSize {
		t.Errorf("transactions: at most %d actions and %d bytes", most, biggest)
	}
}
