package dynamostore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// The TestStore* tests are sequential so that they also run against
// moto_server (make test does this), a second DynamoDB implementation that
// must accept every expression the store sends.

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func sample(id, partner, ref string, given string) referral.Referral {
	return referral.Referral{
		Input: referral.Input{
			Stream: "hrd", PartnerReference: ref, Urgency: referral.Urgent,
			Principal:         referral.Person{GivenName: given, FamilyName: "Minh Khai", DateOfBirth: "1985-03-14", Sex: "F", Nationality: "VNM"},
			FamilyMembers:     []referral.Person{{GivenName: "An", FamilyName: "Minh", DateOfBirth: "2015-06-01", Sex: "M", Relationship: "child"}},
			CountryOfAsylum:   "THA",
			DefenderProfile:   referral.Profile{RightsAreas: []string{"journalism"}, Summary: "Reports on land seizures."},
			Contact:           referral.Contact{Email: "a@example.org", PreferredChannel: "signal"},
			PreferredLanguage: "en", Consent: referral.Consent{Given: true, Date: "2026-11-01"},
		},
		ID: id, Partner: partner, Status: referral.Submitted, Persons: 2,
		CreatedAt: t0, UpdatedAt: t0, Version: 1, Fingerprint: fingerprintOf(given),
	}
}

func created(at time.Time) referral.Event {
	return referral.Event{At: at, Action: referral.ActionCreated, ToStatus: referral.Submitted, ActorRole: "partner", Actor: "sub-1"}
}

func TestStoreCreateGet(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	names := []string{"Nguyễn Thị", "محمد", "Олександра", "O'Brien", "N’Dour"}
	for i, given := range names {
		r := sample("ID"+string(rune('A'+i)), "unhcr", "REF-"+string(rune('A'+i)), given)
		if _, err := e.Store.Create(ctx, r, created(t0), nil, t0); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		got, err := e.Store.Get(ctx, r.ID, "", dynamostore.Whole)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", given, diff)
		}
	}
	tests := []struct {
		name, id, partner string
		want              problem.Kind
	}{
		{"missing", "NOPE", "", problem.NotFound},
		{"other partner", "IDA", "front-line-defenders", problem.NotFound},
		{"malformed id", "../x", "", problem.NotFound},
		{"own partner", "IDA", "unhcr", ""},
	}
	for _, tt := range tests {
		_, err := e.Store.Get(ctx, tt.id, tt.partner, dynamostore.Bare)
		if got := kind(err); got != tt.want {
			t.Errorf("%s: kind %q, want %q", tt.name, got, tt.want)
		}
	}
}

func kind(err error) problem.Kind {
	if err == nil {
		return ""
	}
	return problem.KindOf(err)
}

func TestStoreRawItemsHoldNoPersonalData(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	r := sample("RAW1", "unhcr", "REF-RAW", "Zeynepqx")
	r.Contact = referral.Contact{Email: "zeynepqx@example.org", Phone: "+90 555 123 4567"}
	r.DefenderProfile.Summary = "Distinctivesummaryword"
	// The replayable response holds the whole view, so it is sealed too.
	body := []byte(`{"given_name":"Zeynepqx","email":"zeynepqx@example.org","summary":"Distinctivesummaryword"}`)
	rec := idempotency.New("partner:unhcr:s", "raw-key", "h", idempotency.Response{Status: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}, t0)
	if _, err := e.Store.Create(context.Background(), r, created(t0), &rec, t0); err != nil {
		t.Fatal(err)
	}
	out, err := e.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.Table)})
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]any
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &raw); err != nil {
		t.Fatal(err)
	}
	dump := strings.ToLower(strings.Join(flatten(raw), "\n"))
	for _, secret := range []string{"zeynepqx", "minh khai", "1985-03-14", "+90 555", "distinctivesummaryword", "tha", "journalism"} {
		if strings.Contains(dump, strings.ToLower(secret)) {
			t.Errorf("raw table contains %q", secret)
		}
	}
}

func flatten(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []byte:
		return []string{string(t)}
	case map[string]any:
		var out []string
		for k, x := range t {
			out = append(out, k)
			out = append(out, flatten(x)...)
		}
		return out
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, flatten(x)...)
		}
		return out
	case []map[string]any:
		var out []string
		for _, x := range t {
			out = append(out, flatten(x)...)
		}
		return out
	}
	return nil
}

func TestStoreDuplicateReference(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	if _, err := e.Store.Create(ctx, sample("D1", "unhcr", "SAME", "Ana"), created(t0), nil, t0); err != nil {
		t.Fatal(err)
	}
	_, err := e.Store.Create(ctx, sample("D2", "unhcr", "SAME", "Ana"), created(t0), nil, t0)
	pe := problem.As(err)
	if pe.Kind != problem.DuplicateReferral || pe.Extra["existing_id"] != "D1" {
		t.Errorf("got %v %v, want duplicate-referral naming D1", pe.Kind, pe.Extra)
	}
	// Another partner may use the same reference.
	if _, err := e.Store.Create(ctx, sample("D3", "front-line-defenders", "SAME", "Ana"), created(t0), nil, t0); err != nil {
		t.Errorf("other partner, same reference: %v", err)
	}
	ids, err := e.Store.PossibleDuplicates(ctx, sample("D3", "front-line-defenders", "SAME", "Ana"))
	if err != nil || !cmp.Equal(ids, []string{"D1"}) {
		t.Errorf("possible duplicates %v %v", ids, err)
	}
}

func TestStoreStreamChecks(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	tests := []struct {
		name, stream, partner string
		wantCode              string
	}{
		{"unknown", "nope", "unhcr", problem.CodeUnknownStream},
		{"closed", "closed-stream", "unhcr", problem.CodeStreamClosed},
		{"not a partner of it", "hrd", "someone-else", problem.CodeNotAllowed},
	}
	for i, tt := range tests {
		r := sample("S"+string(rune('A'+i)), tt.partner, "R", "Ana")
		r.Stream = tt.stream
		_, err := e.Store.Create(context.Background(), r, created(t0), nil, t0)
		pe := problem.As(err)
		if pe.Kind != problem.Validation || len(pe.Fields) != 1 || pe.Fields[0].Code != tt.wantCode {
			t.Errorf("%s: %v %+v", tt.name, pe.Kind, pe.Fields)
		}
	}
}

func TestStoreIdempotentCreate(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	resp := idempotency.Response{Status: 201, Headers: map[string]string{"Location": "/referrals/I1"}, Body: []byte(`{"id":"I1"}`)}
	rec := idempotency.New("partner:unhcr:s", "k", "hash-1", resp, t0)
	if replay, err := e.Store.Create(ctx, sample("I1", "unhcr", "R1", "Ana"), created(t0), &rec, t0); err != nil || replay != nil {
		t.Fatalf("first: %v %v", replay, err)
	}
	// The same key and hash: the first response, and no second referral.
	again := idempotency.New("partner:unhcr:s", "k", "hash-1", idempotency.Response{Status: 201, Body: []byte("other")}, t0)
	replay, err := e.Store.Create(ctx, sample("I2", "unhcr", "R2", "Ana"), created(t0), &again, t0)
	if err != nil || replay == nil {
		t.Fatalf("replay: %v %v", replay, err)
	}
	if diff := cmp.Diff(resp, *replay); diff != "" {
		t.Errorf("replayed (-first +replay):\n%s", diff)
	}
	if _, err := e.Store.Get(ctx, "I2", "", dynamostore.Bare); problem.KindOf(err) != problem.NotFound {
		t.Errorf("the replayed request stored a referral: %v", err)
	}
	// The same key, another body: refused, nothing stored.
	other := idempotency.New("partner:unhcr:s", "k", "hash-2", resp, t0)
	if _, err := e.Store.Create(ctx, sample("I3", "unhcr", "R3", "Ana"), created(t0), &other, t0); problem.KindOf(err) != problem.IdempotencyKeyReused {
		t.Errorf("reused key: %v", err)
	}
	// After expiry the key is free again.
	later := t0.Add(idempotency.TTL + time.Minute)
	fresh := idempotency.New("partner:unhcr:s", "k", "hash-3", resp, later)
	if replay, err := e.Store.Create(ctx, sample("I4", "unhcr", "R4", "Ana"), created(later), &fresh, later); err != nil || replay != nil {
		t.Errorf("after expiry: %v %v", replay, err)
	}
}

func TestStoreCapacity(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 250)
	ctx := context.Background()
	noIdem := func(quota.Period) (dynamostore.Idem, error) { return nil, nil }
	set := func(capacity int) (quota.Period, error) {
		p, _, err := e.Store.SetCapacity(ctx, dynamostore.CapacityChange{Stream: "hrd", Year: 2026, Capacity: capacity, ActorRole: "admin", Actor: "a1", Nonce: fmt.Sprint("capacity-", capacity)}, noIdem, t0.Add(time.Minute))
		return p, err
	}
	p, err := set(500)
	if err != nil {
		t.Fatal(err)
	}
	want := quota.Period{Stream: "hrd", Year: 2026, Capacity: 500, Remaining: 500, Pool: 500, Version: 2, Partners: map[string]quota.PartnerCount{}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("after raise (-want +got):\n%s", diff)
	}
	stored, err := e.Store.GetPeriod(ctx, "hrd", 2026)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if _, err := set(-5); problem.KindOf(err) != problem.Validation {
		t.Errorf("negative capacity: %v", err)
	}
	hist, err := e.Store.CapacityHistory(ctx, "hrd", 2026)
	if err != nil || len(hist) != 2 || hist[1].From != 250 || hist[1].To != 500 || hist[1].Actor != "a1" {
		t.Errorf("capacity history %+v %v", hist, err)
	}
	if _, _, err := e.Store.SetCapacity(ctx, dynamostore.CapacityChange{Stream: "nope", Year: 2026, Capacity: 5, Nonce: "n"}, noIdem, t0); problem.KindOf(err) != problem.NotFound {
		t.Errorf("unknown stream: %v", err)
	}
}

// fingerprintOf stands in for the keyed hash: opaque, never the name.
func fingerprintOf(given string) string {
	return fmt.Sprintf("fp%x", sha256.Sum256([]byte(given)))
}
