package dynamostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/referral"
)

// TestStoreQueueCountStopsAtItsBound: a queue's first page is counted by
// its own Query, which reads on to MaxQueueCount entries and shows the
// page's: the urgencies that sort before where the count stopped
// (emergency first) are exact; the one it stopped in, and those after it,
// are marked as not. The next page starts after the last row shown, and
// is not counted.
func TestStoreQueueCountStopsAtItsBound(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	urgency := func(i int) referral.Urgency {
		switch {
		case i < 7:
			return referral.Emergency
		case i < 20:
			return referral.Urgent
		}
		return referral.Normal
	}
	var rs []referral.Referral
	for i := range dynamostore.MaxQueueCount + 30 {
		r := sample(fmt.Sprintf("01KQC%021d", i), "unhcr", fmt.Sprintf("QC-%d", i), "Ana")
		r.Urgency, r.CreatedAt = urgency(i), t0.Add(time.Duration(i)*time.Second)
		rs = append(rs, r)
	}
	if err := e.Store.Load(ctx, rs); err != nil {
		t.Fatal(err)
	}
	type counts struct {
		Referrals, Persons map[referral.Urgency]int
		Exact              map[referral.Urgency]bool
		Total              int
		TotalExact         bool
	}
	for _, tc := range []struct {
		name string
		f    dynamostore.QueueFilter
		want counts
	}{
		{"the whole queue, past the bound", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd"}, counts{
			Referrals:  map[referral.Urgency]int{referral.Emergency: 7, referral.Urgent: 13, referral.Normal: dynamostore.MaxQueueCount - 20},
			Persons:    map[referral.Urgency]int{referral.Emergency: 14, referral.Urgent: 26, referral.Normal: 2 * (dynamostore.MaxQueueCount - 20)},
			Exact:      map[referral.Urgency]bool{referral.Emergency: true, referral.Urgent: true, referral.Normal: false},
			Total:      dynamostore.MaxQueueCount,
			TotalExact: false,
		}},
		{"a partner with none", dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd", Partner: "front-line-defenders"}, counts{
			Referrals:  map[referral.Urgency]int{},
			Persons:    map[referral.Urgency]int{},
			Exact:      map[referral.Urgency]bool{referral.Emergency: true, referral.Urgent: true, referral.Normal: true},
			TotalExact: true,
		}},
	} {
		page, err := e.Store.Queue(ctx, tc.f, 25, nil)
		if err != nil || page.Counts == nil {
			t.Fatalf("%s: %+v, %v", tc.name, page.Counts, err)
		}
		c := *page.Counts
		total, _, exact := c.Total()
		got := counts{c.Referrals, c.Persons, c.Exact, total, exact}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	first, err := e.Store.Queue(ctx, dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd"}, 25, nil)
	if err != nil || len(first.Items) != 25 || first.Next == nil {
		t.Fatalf("first page: %d rows, next %v, %v", len(first.Items), first.Next, err)
	}
	second, err := e.Store.Queue(ctx, dynamostore.QueueFilter{Status: referral.Submitted, Stream: "hrd"}, 25, first.Next)
	if err != nil || len(second.Items) != 25 || second.Counts != nil || second.Items[0].ReferralID != rs[25].ID {
		t.Errorf("second page: %d rows from %v, counts %+v, %v; want 25 from %s, uncounted", len(second.Items), second.Items[0].ReferralID, second.Counts, err, rs[25].ID)
	}
}
