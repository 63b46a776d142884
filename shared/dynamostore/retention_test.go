package dynamostore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/retention"
)

// A stream's retention schedule is kept with it, 0 included; one out of
// range is refused with its field and nothing is written.
func TestStoreStreamRetention(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		st   dynamostore.Stream
		want retention.Schedule
	}{
		{"none: kept", dynamostore.Stream{ID: "keep", Name: "Keep", Open: true, Partners: testenv.Partners}, retention.Schedule{}},
		{"zero", dynamostore.Stream{ID: "zero", Name: "Zero", Open: true, Partners: testenv.Partners,
			RetentionEndedDays: retention.Days(0), RetentionArrivedDays: retention.Days(0)},
			retention.Schedule{Ended: retention.Days(0), Arrived: retention.Days(0)}},
		{"differ", dynamostore.Stream{ID: "differ", Name: "Differ", Open: true, Partners: testenv.Partners,
			RetentionEndedDays: retention.Days(730), RetentionArrivedDays: retention.Days(2555)},
			retention.Schedule{Ended: retention.Days(730), Arrived: retention.Days(2555)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.Store.PutStream(ctx, tc.st); err != nil {
				t.Fatal(err)
			}
			got, err := e.Store.GetStream(ctx, tc.st.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Retention()); diff != "" {
				t.Errorf("retention (-want +got):\n%s", diff)
			}
		})
	}
	bad := dynamostore.Stream{ID: "bad", Name: "Bad", Open: true, Partners: testenv.Partners, RetentionEndedDays: retention.Days(-1)}
	err := e.Store.PutStream(ctx, bad)
	var pe *problem.Error
	if pe = problem.As(err); pe.Kind != problem.Validation || len(pe.Fields) != 1 || pe.Fields[0].Field != "retention_days.ended" {
		t.Errorf("negative retention: %v, want validation-failed on retention_days.ended", err)
	}
	if _, err := e.Store.GetStream(ctx, "bad"); problem.KindOf(err) != problem.NotFound {
		t.Errorf("refused stream was written: %v", err)
	}
}

// Holds and disposition through the store alone, so that moto_server checks
// their expressions too (make test): a hold changes the version and what
// Due sees; a disposition with more deletions than one transaction holds
// clears the reads first; the raw item is a tombstone; Whole reads are
// Disposed with it; a second disposition does nothing.
func TestStoreHoldsAndDisposal(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	r := sample("DISPOSE1", "unhcr", "REF-DISPOSE", "Thảo")
	rec := idempotency.New("partner:unhcr:s", "dispose-key", "h", idempotency.Response{Status: 201, Body: []byte(`{"id":"DISPOSE1"}`)}, t0)
	if _, err := e.Store.Create(ctx, r, created(t0), &rec, t0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 120; i++ {
		if err := e.Store.RecordRead(ctx, r.ID, referral.Event{At: t0.Add(time.Duration(i) * time.Second), ActorRole: "officer", Actor: "s"}, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	noIdem := func([]string) (dynamostore.Idem, error) { return nil, nil }
	if _, _, err := e.Store.ChangeHolds(ctx, dynamostore.HoldChange{ID: r.ID, Hold: true, Reason: "investigation", ActorRole: "officer", Nonce: "h1"}, noIdem, t0); err != nil {
		t.Fatal(err)
	}
	unheld := func(cur referral.Referral) bool { return len(cur.Holds) == 0 }
	if done, err := e.Store.Dispose(ctx, dynamostore.Disposal{ID: r.ID, Due: unheld, Nonce: "d1"}, t0); done || err != nil {
		t.Fatalf("held: disposed %v, %v", done, err)
	}
	res, _, err := e.Store.ChangeHolds(ctx, dynamostore.HoldChange{ID: r.ID, Hold: false, ActorRole: "officer", Nonce: "h2"}, noIdem, t0)
	if err != nil || len(res.Referral.Holds) != 0 || res.Referral.Version != 3 {
		t.Fatalf("lift: %+v %v", res, err)
	}
	if done, err := e.Store.Dispose(ctx, dynamostore.Disposal{ID: r.ID, Due: unheld, Nonce: "d2"}, t0); !done || err != nil {
		t.Fatalf("unheld: disposed %v, %v", done, err)
	}
	out, err := e.DB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(e.Table)})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, raw := range out.Items {
		var it map[string]any
		attributevalue.UnmarshalMap(raw, &it)
		pk, sk := it["pk"].(string), it["sk"].(string)
		switch {
		case pk == "REF#"+r.ID && sk == "A":
			for _, a := range []string{"pii_people", "pii_contact", "partner_reference", "fingerprint"} {
				if _, ok := it[a]; ok {
					t.Errorf("tombstone keeps %s", a)
				}
			}
		case pk == "REF#"+r.ID && strings.HasPrefix(sk, "EV#"):
		case strings.HasPrefix(pk, "REF#"+r.ID), strings.HasPrefix(pk, "FP#"), strings.HasPrefix(pk, "IDEM#"), strings.HasPrefix(pk, "PREF#"):
			left = append(left, pk+" "+sk)
		}
	}
	if len(left) > 0 {
		t.Errorf("left after disposal: %v", left)
	}
	_, err = e.Store.Get(ctx, r.ID, "", dynamostore.Whole)
	if pe := problem.As(err); pe.Kind != problem.Disposed || pe.Tombstone.(referral.Tombstone).Persons != 2 {
		t.Errorf("Get whole: %v, want disposed with the tombstone", err)
	}
	if bare, err := e.Store.Get(ctx, r.ID, "", dynamostore.Bare); err != nil || bare.DisposedAt.IsZero() || bare.Status != referral.Submitted {
		t.Errorf("Get bare: %+v %v", bare, err)
	}
	if done, err := e.Store.Dispose(ctx, dynamostore.Disposal{ID: r.ID, Due: func(referral.Referral) bool { return true }, Nonce: "d3"}, t0); done || err != nil {
		t.Errorf("second disposal: %v %v, want nothing", done, err)
	}
}
