package dynamostore_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
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
