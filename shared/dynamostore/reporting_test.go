package dynamostore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/referral"
)

func TestReportingStreamsAndPeriods(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.Seed(t, 2026, 500)
	env.SetCapacity(t, "hrd", 2027, 250)
	env.SetCapacity(t, "hrd", 2026, 450) // an update keeps the period listed
	ctx := context.Background()
	streams, err := env.Store.Streams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range streams {
		ids = append(ids, s.ID)
	}
	if diff := cmp.Diff([]string{"closed-stream", "hrd"}, ids); diff != "" {
		t.Errorf("streams (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(testenv.Partners, streams[1].Partners); diff != "" {
		t.Errorf("partners (-want +got):\n%s", diff)
	}
	periods, err := env.Store.Periods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type pc struct {
		Stream                    string
		Year, Capacity, Remaining int
	}
	var got []pc
	for _, p := range periods {
		got = append(got, pc{p.Stream, p.Year, p.Capacity, p.Remaining})
	}
	if diff := cmp.Diff([]pc{{"hrd", 2026, 450, 450}, {"hrd", 2027, 250, 250}}, got); diff != "" {
		t.Errorf("periods (-want +got):\n%s", diff)
	}
}

func TestReportingReferralsPageBareAndIsolated(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.Seed(t, 2026, 500)
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 2*dynamostore.ScanPageSize + 7 // more than two pages
	var rs []referral.Referral
	for i := range n {
		partner := testenv.Partners[i%2]
		var in referral.Input
		in.Stream, in.PartnerReference, in.Urgency = "hrd", fmt.Sprintf("R-%05d", i), referral.Normal
		if i%3 == 0 {
			in.Stream = "other"
		}
		in.Principal = referral.Person{GivenName: "Sensitive", FamilyName: "Name", DateOfBirth: "1980-01-01"}
		in.Contact = referral.Contact{Email: "secret@example.org"}
		rs = append(rs, referral.Referral{Input: in, ID: fmt.Sprintf("ID%05d", i), Partner: partner, Status: referral.Submitted, Persons: 1,
			CreatedAt: base.Add(time.Duration(i) * time.Minute), UpdatedAt: base.Add(time.Duration(i) * time.Minute), Version: 1})
	}
	if err := env.Store.PutReferralsRaw(ctx, rs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		seq   func() ([]referral.Referral, error)
		count int
		keep  func(referral.Referral) bool
	}{
		{"partner unhcr", collect(env.Store.ReferralsOfPartner(ctx, "unhcr")), (n + 1) / 2, func(r referral.Referral) bool { return r.Partner == "unhcr" }},
		{"partner nobody", collect(env.Store.ReferralsOfPartner(ctx, "nobody")), 0, nil},
		{"stream hrd", collect(env.Store.ReferralsOfStream(ctx, "hrd")), n - (n+2)/3, func(r referral.Referral) bool { return r.Stream == "hrd" }},
		{"all streams", collect(env.Store.ReferralsOfStream(ctx, "")), n, func(referral.Referral) bool { return true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.seq()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.count {
				t.Fatalf("%d referrals, want %d", len(got), tc.count)
			}
			for i, r := range got {
				if !tc.keep(r) {
					t.Fatalf("%s (partner %s, stream %s) does not belong", r.ID, r.Partner, r.Stream)
				}
				if i > 0 && !got[i-1].CreatedAt.Before(r.CreatedAt) {
					t.Fatalf("not oldest first at %d", i)
				}
				if r.Principal != (referral.Person{}) || r.Contact != (referral.Contact{}) || !strings.HasPrefix(r.PartnerReference, "R-") {
					t.Fatalf("%s: personal data read, or reference missing: %+v", r.ID, r)
				}
			}
		})
	}
	// Stopping early stops the query.
	count := 0
	for range env.Store.ReferralsOfStream(ctx, "") {
		count++
		if count == 3 {
			break
		}
	}
	if count != 3 {
		t.Errorf("early stop: %d", count)
	}
}

func collect[T any](seq func(func(T, error) bool)) func() ([]T, error) {
	return func() ([]T, error) {
		var out []T
		for v, err := range seq {
			if err != nil {
				return out, err
			}
			out = append(out, v)
		}
		return out, nil
	}
}
