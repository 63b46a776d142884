package dynamostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// TestConcurrentHoldAndDisposal races, on each of 24 referrals, a legal
// hold against two disposition runs. Whatever the order, a hold that was
// acknowledged is never followed by the loss of the referral's personal
// data, a disposed referral carries no hold, and exactly one of the
// disposition runs disposes a referral it disposes (no double tombstone).
func TestConcurrentHoldAndDisposal(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: clock.Fixed(t0)})
	e.Seed(t, 2026, 500)
	ctx := context.Background()
	const n = 24
	unheld := func(cur referral.Referral) bool { return len(cur.Holds) == 0 }
	noIdem := func([]string) (dynamostore.Idem, error) { return nil, nil }
	var ids []string
	for i := 0; i < n; i++ {
		r := sample(fmt.Sprint("RACE", i), "unhcr", fmt.Sprint("REF-RACE-", i), fmt.Sprint("Given", i))
		if _, err := e.Store.Create(ctx, r, created(t0), nil, t0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	type outcome struct {
		held      bool // the hold was acknowledged
		disposals int
	}
	outcomes := make([]outcome, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, _, err := e.Store.ChangeHolds(ctx, dynamostore.HoldChange{ID: id, Hold: true, Reason: "legal-proceedings", ActorRole: "officer", Nonce: "h"}, noIdem, t0)
			switch problem.KindOf(err) {
			case problem.Disposed:
			default:
				if err != nil {
					t.Errorf("hold %s: %v", id, err)
				}
				outcomes[i].held = err == nil
			}
		}()
		var mu sync.Mutex
		for run := 0; run < 2; run++ {
			go func() {
				defer wg.Done()
				done, err := e.Store.Dispose(ctx, dynamostore.Disposal{ID: id, Due: unheld, Nonce: fmt.Sprint("d", run)}, t0)
				if err != nil && problem.KindOf(err) != problem.Unavailable {
					t.Errorf("dispose %s: %v", id, err)
				}
				if done {
					mu.Lock()
					outcomes[i].disposals++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	disposed := 0
	for i, id := range ids {
		cur, err := e.Store.Get(ctx, id, "", dynamostore.Bare)
		if err != nil {
			t.Fatal(err)
		}
		o := outcomes[i]
		gone := !cur.DisposedAt.IsZero()
		switch {
		case o.held && gone:
			t.Errorf("%s: hold acknowledged, yet disposed", id)
		case gone && len(cur.Holds) > 0:
			t.Errorf("%s: disposed with holds %v", id, cur.Holds)
		case o.disposals > 1:
			t.Errorf("%s: disposed %d times", id, o.disposals)
		case gone != (o.disposals == 1):
			t.Errorf("%s: disposed %v, %d disposals reported", id, gone, o.disposals)
		}
		if gone {
			disposed++
		}
		if _, err := e.Store.Get(ctx, id, "", dynamostore.Whole); gone != (problem.KindOf(err) == problem.Disposed) {
			t.Errorf("%s: whole read %v, disposed %v", id, err, gone)
		}
	}
	t.Logf("%d of %d referrals disposed before their hold", disposed, n)
}
