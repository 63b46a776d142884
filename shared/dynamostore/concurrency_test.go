package dynamostore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// TestConcurrencyNeverOverbooks runs 64 goroutines per seed over one small
// period with partner allotments (FLD and UNHCR allotted, the third partner
// on the pool), each doing random allocations, withdrawals, refusals,
// approvals, arrivals, family changes, capacity and allotment changes and
// promotions. Then every counter — the period's, each partner's, each
// allotment's left and the pool — is recomputed from the referrals and
// compared with the stored ones: zero differences. A sampler reads the
// period throughout: remaining, left and pool never negative, no partner
// above its allotment, the counters always consistent. After a sweep no
// waitlisted referral fits both the stream and its partner's limit.
func TestConcurrencyNeverOverbooks(t *testing.T) {
	const (
		workers   = 64
		opsEach   = 12
		referrals = 48
	)
	seeds := []uint64{1, 2, 3, 4}
	if testing.Short() {
		seeds = seeds[:1]
	}
	var totalOps, totalConflicts, samples atomic.Int64
	start := time.Now()
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			e := testenv.New(t, testenv.Options{})
			e.Seed(t, lcYear, 20)
			ctx := context.Background()
			if _, err := setPlan(t, e.Store, 20, map[string]int{fld: 6, unhcr: 8}); err != nil {
				t.Fatal(err)
			}
			ids := make([]string, referrals)
			setup := rand.New(rand.NewPCG(seed, 0))
			urgencies := []referral.Urgency{referral.Normal, referral.Urgent, referral.Emergency}
			for i := range ids {
				ids[i] = fmt.Sprintf("C%02d", i)
				r := lcReferral(ids[i], testenv.Partners[i%3], urgencies[setup.IntN(3)], setup.IntN(5), tick())
				mustCreate(t, e.Store, r)
				drive(t, e.Store, ids[i], referral.Eligible)
			}
			stop := make(chan struct{})
			var bad []string
			var samplerWG sync.WaitGroup
			samplerWG.Add(1)
			go func() {
				defer samplerWG.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					p, err := e.Store.GetPeriod(ctx, "hrd", lcYear)
					samples.Add(1)
					if err == nil && !p.Consistent() {
						bad = append(bad, fmt.Sprintf("%+v", p))
					}
					time.Sleep(time.Millisecond)
				}
			}()
			var wg sync.WaitGroup
			errs := make(chan error, workers*opsEach)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(seed, uint64(w)+1))
					for i := 0; i < opsEach; i++ {
						id := ids[rng.IntN(len(ids))]
						var err error
						switch op := rng.IntN(10); op {
						case 0, 1, 2:
							_, err = move(ctx, e.Store, id, referral.Allocated, tick())
						case 3:
							_, err = move(ctx, e.Store, id, referral.Withdrawn, tick())
						case 4:
							_, err = move(ctx, e.Store, id, referral.Refused, tick())
						case 5:
							_, err = move(ctx, e.Store, id, referral.Approved, tick())
						case 6:
							_, err = move(ctx, e.Store, id, referral.Arrived, tick())
						case 7:
							_, _, err = e.Store.ChangeFamily(ctx, dynamostore.FamilyChange{ID: id, Members: members(rng.IntN(6)), ActorRole: "officer", Nonce: fmt.Sprint(w, "-", i)}, noRecord, tick())
						case 8:
							c := dynamostore.CapacityChange{Stream: "hrd", Year: lcYear, Capacity: 15 + rng.IntN(15), ActorRole: "admin", Actor: "a", Nonce: fmt.Sprint("cap", w, "-", i)}
							switch rng.IntN(3) {
							case 0:
								c.Allotments = map[string]int{fld: 2 + rng.IntN(5), unhcr: 3 + rng.IntN(6)} // ≤ 14 < the least capacity
							case 1:
								c.Allotments = map[string]int{fld: 3 + rng.IntN(8)}
							}
							_, _, err = e.Store.SetCapacity(ctx, c, func(quota.Period) (dynamostore.Idem, error) { return nil, nil }, tick())
						case 9:
							_, err = e.Store.Promote(ctx, "hrd", lcYear, tick)
						}
						totalOps.Add(1)
						switch lcKind(err) {
						case "", problem.InvalidTransition, problem.QuotaExhausted, problem.CapacityBelowCommitted:
						case problem.Unavailable:
							// Contention outlasted the retries: nothing was written,
							// the caller would retry.
							totalConflicts.Add(1)
						default:
							errs <- fmt.Errorf("worker %d op %d on %s: %w", w, i, id, err)
						}
					}
				}(w)
			}
			wg.Wait()
			close(stop)
			samplerWG.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for _, b := range bad {
				t.Errorf("inconsistent period seen during the run: %s", b)
			}
			p := period(t, e.Store)
			if diff := cmp.Diff(countersOf(p), recount(t, e.Store, ids, p.Capacity)); diff != "" {
				t.Fatalf("stored counters differ from the referrals (-stored +recomputed):\n%s", diff)
			}
			checkLimits(t, e.Store, ids, p)
			if p.Remaining < 0 {
				t.Fatalf("remaining %d", p.Remaining)
			}
			checkWaitlist(t, e.Store, ids)
			// The sweep: afterwards nothing waiting fits.
			if _, err := e.Store.Promote(ctx, "hrd", lcYear, tick); err != nil {
				t.Fatal(err)
			}
			p = period(t, e.Store)
			if diff := cmp.Diff(countersOf(p), recount(t, e.Store, ids, p.Capacity)); diff != "" {
				t.Fatalf("after sweep (-stored +recomputed):\n%s", diff)
			}
			q, err := e.Store.Waitlist(ctx, "hrd", lcYear)
			if err != nil {
				t.Fatal(err)
			}
			checkLimits(t, e.Store, ids, p)
			for _, w := range q {
				if p.WhyNotFit(w.Partner, w.Persons) == "" {
					t.Errorf("after sweep %s (%s, %d persons) waits although it fits: %+v", w.ID, w.Partner, w.Persons, p)
				}
			}
			checkWaitlist(t, e.Store, ids)
			t.Logf("seed %d: final %+v, %d waiting", seed, countersOf(p), len(q))
		})
	}
	t.Logf("%d operations (%d gave up on contention), %d period samples, over %d seeds × %d goroutines in %v",
		totalOps.Load(), totalConflicts.Load(), samples.Load(), len(seeds), workers, time.Since(start).Round(time.Millisecond))
}

// checkLimits recomputes the allotment counters (left per allotted
// partner, the pool) from the referrals and the stored allotments, and
// checks every partner is within its allotment and the total within the
// capacity.
func checkLimits(t *testing.T, s *dynamostore.Store, ids []string, p quota.Period) {
	t.Helper()
	var refs []quota.Counted
	for _, id := range ids {
		r, err := s.Get(context.Background(), id, "", dynamostore.Bare)
		if err != nil {
			t.Fatal(err)
		}
		if r.Period == lcYear {
			refs = append(refs, quota.Counted{Partner: r.Partner, Status: r.Status, Persons: r.Persons})
		}
	}
	want := quota.Recount("hrd", lcYear, p.Capacity, p.Allotments, refs)
	type limits struct {
		Pool int
		Left map[string]int
	}
	if diff := cmp.Diff(limits{p.Pool, p.Left}, limits{want.Pool, want.Left}); diff != "" {
		t.Errorf("stored allotment counters differ from the referrals (-stored +recomputed):\n%s", diff)
	}
	for id, a := range p.Allotments {
		if held := want.Partners[id].Held(); held > a {
			t.Errorf("%s holds %d, above its allotment %d", id, held, a)
		}
	}
	if want.Committed() > p.Capacity || !p.Consistent() {
		t.Errorf("period over capacity or inconsistent: %+v", p)
	}
}

// checkWaitlist compares the waitlist entries with the waitlisted referrals.
func checkWaitlist(t *testing.T, s *dynamostore.Store, ids []string) {
	t.Helper()
	q, err := s.Waitlist(context.Background(), "hrd", lcYear)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, w := range q {
		got[w.ID] = w.Persons
	}
	want := map[string]int{}
	for _, id := range ids {
		r, err := s.Get(context.Background(), id, "", dynamostore.Bare)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == referral.Waitlisted {
			want[id] = r.Persons
		}
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("waitlist entries differ from waitlisted referrals (-entries +referrals):\n%s", diff)
	}
}
