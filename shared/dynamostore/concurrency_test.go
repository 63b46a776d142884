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

// TestConcurrencyNeverOverbooks runs 64 goroutines per seed over two small
// periods (this year and the next) with partner allotments (FLD and UNHCR
// allotted, the third partner on the pool), each doing random allocations
// into either year, withdrawals, refusals, approvals, arrivals, family
// changes, capacity and allotment changes, urgency changes, promotions and,
// in the second half, the closure of this year with carry-over into the
// next (called by many goroutines at once: it must be resumable). Then,
// for both periods, every counter — the period's, each partner's, each
// allotment's left and the pool — is recomputed from the referrals and
// compared with the stored ones: zero differences; the waitlist entries of
// both years match the waitlisted referrals one to one (none lost or
// duplicated by carry-over). A sampler reads this year's period
// throughout: remaining, left and pool never negative, no partner above
// its allotment, the counters always consistent. After a sweep no
// waitlisted referral of an open period fits both the stream and its
// partner's limit.
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
	var totalOps, totalConflicts, samples, carried atomic.Int64
	start := time.Now()
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			e := testenv.New(t, testenv.Options{})
			e.Seed(t, lcYear, 20)
			ctx := context.Background()
			if _, err := setPlan(t, e.Store, 20, map[string]int{fld: 6, unhcr: 8}); err != nil {
				t.Fatal(err)
			}
			e.SetCapacity(t, "hrd", lcYear+1, 10)
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
						switch op := rng.IntN(12); op {
						case 0, 1, 2:
							st := step(id, referral.Allocated)
							st.Period = lcYear + rng.IntN(2)
							_, _, err = e.Store.Move(ctx, st, noRecord, tick())
							if lcKind(err) == problem.Validation {
								// A waitlisted referral asked into the other year: refused,
								// nothing written (it waits for its own period).
								err = nil
							}
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
							_, err = e.Store.Promote(ctx, "hrd", lcYear+rng.IntN(2), tick)
						case 10:
							urgencies := []referral.Urgency{referral.Normal, referral.Urgent, referral.Emergency}
							st := dynamostore.Step{ID: id, Urgency: urgencies[rng.IntN(3)], Reason: "officer-assessment",
								Action: referral.ActionUrgency, ActorRole: "officer", Nonce: fmt.Sprint("urg", w, "-", i)}
							_, _, err = e.Store.Move(ctx, st, noRecord, tick())
						case 11:
							if i >= opsEach/2 {
								var res dynamostore.ClosureResult
								res, err = e.Store.ClosePeriod(ctx, dynamostore.Closure{Stream: "hrd", Year: lcYear, CarryTo: lcYear + 1,
									ActorRole: "admin", Nonce: fmt.Sprint("close", w, "-", i)}, tick)
								carried.Add(int64(len(res.Carried)))
							}
						}
						totalOps.Add(1)
						switch lcKind(err) {
						case "", problem.InvalidTransition, problem.QuotaExhausted, problem.CapacityBelowCommitted, problem.PeriodClosed:
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
			checkYears(t, e.Store, ids, "")
			// The sweep: afterwards nothing waiting in an open period fits.
			for _, y := range []int{lcYear, lcYear + 1} {
				if _, err := e.Store.Promote(ctx, "hrd", y, tick); err != nil {
					t.Fatal(err)
				}
			}
			checkYears(t, e.Store, ids, "after sweep: ")
			var q []quota.Waiting
			for _, y := range []int{lcYear, lcYear + 1} {
				p, err := e.Store.GetPeriod(ctx, "hrd", y)
				if err != nil {
					t.Fatal(err)
				}
				wq, err := e.Store.Waitlist(ctx, "hrd", y)
				if err != nil {
					t.Fatal(err)
				}
				q = append(q, wq...)
				for _, w := range wq {
					if !p.Closed && p.WhyNotFit(w.Partner, w.Persons) == "" {
						t.Errorf("after sweep %s (%s, %d persons) waits in %d although it fits: %+v", w.ID, w.Partner, w.Persons, y, p)
					}
				}
			}
			p := period(t, e.Store)
			t.Logf("seed %d: final %+v, %d waiting", seed, countersOf(p), len(q))
		})
	}
	t.Logf("%d operations (%d gave up on contention), %d referrals carried over, %d period samples, over %d seeds × %d goroutines in %v",
		totalOps.Load(), totalConflicts.Load(), carried.Load(), samples.Load(), len(seeds), workers, time.Since(start).Round(time.Millisecond))
}

// checkYears recomputes, for this year and the next, every counter from
// the referrals (counters, partners, allotment left and pool), and checks
// the waitlist entries of both years against the waitlisted referrals one
// to one: a referral carried over is in exactly one waitlist.
func checkYears(t *testing.T, s *dynamostore.Store, ids []string, when string) {
	t.Helper()
	ctx := context.Background()
	refs := map[int][]quota.Counted{}
	wantWait := map[string]string{}
	for _, id := range ids {
		r, err := s.Get(ctx, id, "", dynamostore.Bare)
		if err != nil {
			t.Fatal(err)
		}
		refs[r.Period] = append(refs[r.Period], quota.Counted{Partner: r.Partner, Status: r.Status, Persons: r.Persons})
		if r.Status == referral.Waitlisted {
			wantWait[id] = fmt.Sprint(r.Period, "/", r.Persons, "/", r.Urgency)
		}
	}
	gotWait := map[string]string{}
	for _, y := range []int{lcYear, lcYear + 1} {
		p, err := s.GetPeriod(ctx, "hrd", y)
		if err != nil {
			t.Fatal(err)
		}
		want := quota.Recount("hrd", y, p.Capacity, p.Allotments, refs[y])
		if diff := cmp.Diff(countersOf(p), countersOf(want)); diff != "" {
			t.Errorf("%s%d: stored counters differ from the referrals (-stored +recomputed):\n%s", when, y, diff)
		}
		type limits struct {
			Pool int
			Left map[string]int
		}
		if diff := cmp.Diff(limits{p.Pool, p.Left}, limits{want.Pool, want.Left}); diff != "" {
			t.Errorf("%s%d: allotment counters differ (-stored +recomputed):\n%s", when, y, diff)
		}
		for id, a := range p.Allotments {
			if held := want.Partners[id].Held(); held > a {
				t.Errorf("%s%d: %s holds %d, above its allotment %d", when, y, id, held, a)
			}
		}
		if want.Committed() > p.Capacity || !p.Consistent() {
			t.Errorf("%s%d: over capacity or inconsistent: %+v", when, y, p)
		}
		q, err := s.Waitlist(ctx, "hrd", y)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range q {
			if _, dup := gotWait[w.ID]; dup {
				t.Errorf("%s%s waits in two periods", when, w.ID)
			}
			gotWait[w.ID] = fmt.Sprint(y, "/", w.Persons, "/", w.Urgency)
		}
	}
	if diff := cmp.Diff(gotWait, wantWait); diff != "" {
		t.Errorf("%swaitlist entries differ from waitlisted referrals (-entries +referrals):\n%s", when, diff)
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
