package dynamostore_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// modelRef is a referral as the model sees it.
type modelRef struct {
	status  referral.Status
	persons int
	period  int
	urgency referral.Urgency
	created time.Time
	partner string
}

// model is the simple in-memory truth the store is compared with.
type model struct {
	capacity int
	refs     map[string]*modelRef
}

func (m *model) counted() []quota.Counted {
	var out []quota.Counted
	for _, r := range m.refs {
		if r.period == lcYear {
			out = append(out, quota.Counted{Partner: r.partner, Status: r.status, Persons: r.persons})
		}
	}
	return out
}

func (m *model) remaining() int {
	return quota.Recount("hrd", lcYear, m.capacity, nil, m.counted()).Remaining
}

// move predicts a lifecycle step.
func (m *model) move(id string, to referral.Status) problem.Kind {
	r := m.refs[id]
	if !referral.CanTransition(r.status, to) {
		return problem.InvalidTransition
	}
	if to == referral.Waitlisted {
		to = referral.Allocated
	}
	if to == referral.Allocated {
		r.period = lcYear
		if r.persons > m.remaining() {
			r.status = referral.Waitlisted
			return ""
		}
	}
	r.status = to
	return ""
}

func (m *model) family(id string, n int) problem.Kind {
	r := m.refs[id]
	if referral.Terminal(r.status) {
		return problem.InvalidTransition
	}
	if referral.HoldsSpaces(r.status) && n+1-r.persons > m.remaining() {
		return problem.QuotaExhausted
	}
	r.persons = n + 1
	return ""
}

func (m *model) promote() {
	var q []quota.Waiting
	for id, r := range m.refs {
		if r.status == referral.Waitlisted {
			q = append(q, quota.Waiting{ID: id, Urgency: r.urgency, Created: r.created, Persons: r.persons})
		}
	}
	quota.Sort(q)
	for _, w := range quota.Promotable(quota.Period{Remaining: m.remaining(), Pool: m.remaining()}, q) {
		m.refs[w.ID].status = referral.Allocated
	}
}

// TestLifecycleMatchesModel runs random sequences of steps against the real
// store (embedded DynamoDB, through the SDK) and, after every step, compares
// the answer, every referral and the period's counters with the model.
func TestLifecycleMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		e := testenv.New(t, testenv.Options{})
		defer e.Dynamo.Close()
		ctx := context.Background()
		m := &model{capacity: rapid.IntRange(0, 12).Draw(rt, "capacity"), refs: map[string]*modelRef{}}
		e.Seed(t, lcYear, m.capacity)
		n := rapid.IntRange(1, 6).Draw(rt, "referrals")
		var ids []string
		urgencies := []referral.Urgency{referral.Normal, referral.Urgent, referral.Emergency}
		for i := 0; i < n; i++ {
			id := fmt.Sprint("R", i)
			u := rapid.SampledFrom(urgencies).Draw(rt, "urgency")
			fam := rapid.IntRange(0, 4).Draw(rt, "family")
			r := lcReferral(id, testenv.Partners[i%3], u, fam, tick())
			mustCreate(t, e.Store, r)
			ids = append(ids, id)
			m.refs[id] = &modelRef{status: referral.Submitted, persons: fam + 1, urgency: u, created: r.CreatedAt, partner: r.Partner}
		}
		targets := referral.AllStatuses()
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			id := rapid.SampledFrom(ids).Draw(rt, "id")
			var got, want problem.Kind
			switch action := rapid.IntRange(0, 9).Draw(rt, "action"); {
			case action < 6:
				to := rapid.SampledFrom(targets).Draw(rt, "to")
				_, err := move(ctx, e.Store, id, to, tick())
				got, want = lcKind(err), m.move(id, to)
			case action < 8:
				fam := rapid.IntRange(0, 5).Draw(rt, "newFamily")
				_, _, err := e.Store.ChangeFamily(ctx, dynamostore.FamilyChange{ID: id, Members: members(fam), ActorRole: "officer", Nonce: fmt.Sprint("f", i)}, noRecord, tick())
				got, want = lcKind(err), m.family(id, fam)
			case action < 9:
				c := rapid.IntRange(0, 15).Draw(rt, "newCapacity")
				_, _, err := e.Store.SetCapacity(ctx, dynamostore.CapacityChange{Stream: "hrd", Year: lcYear, Capacity: c, ActorRole: "admin", Nonce: fmt.Sprint("c", i)},
					func(quota.Period) (dynamostore.Idem, error) { return nil, nil }, tick())
				got = lcKind(err)
				if c < m.capacity-m.remaining() {
					want = problem.CapacityBelowCommitted
				} else {
					m.capacity = c
				}
			default:
				_, err := e.Store.Promote(ctx, "hrd", lcYear, tick)
				got = lcKind(err)
				m.promote()
			}
			if got != want {
				rt.Fatalf("step %d: got %q, model says %q", i, got, want)
			}
			compareModel(rt, e.Store, m, ids)
		}
	})
}

func compareModel(rt *rapid.T, s *dynamostore.Store, m *model, ids []string) {
	type seen struct {
		Status  referral.Status
		Persons int
		Period  int
	}
	got, want := map[string]seen{}, map[string]seen{}
	for _, id := range ids {
		r, err := s.Get(context.Background(), id, "", dynamostore.Bare)
		if err != nil {
			rt.Fatal(err)
		}
		got[id] = seen{r.Status, r.Persons, r.Period}
		mr := m.refs[id]
		want[id] = seen{mr.status, mr.persons, mr.period}
	}
	if diff := cmp.Diff(got, want); diff != "" {
		rt.Fatalf("referrals (-store +model):\n%s", diff)
	}
	p, err := s.GetPeriod(context.Background(), "hrd", lcYear)
	if err != nil {
		rt.Fatal(err)
	}
	if diff := cmp.Diff(countersOf(p), countersOf(quota.Recount("hrd", lcYear, m.capacity, nil, m.counted()))); diff != "" {
		rt.Fatalf("period (-store +model):\n%s", diff)
	}
	q, err := s.Waitlist(context.Background(), "hrd", lcYear)
	if err != nil {
		rt.Fatal(err)
	}
	var wl, mwl []string
	for _, w := range q {
		wl = append(wl, w.ID)
	}
	for id, r := range m.refs {
		if r.status == referral.Waitlisted {
			mwl = append(mwl, id)
		}
	}
	sort.Strings(wl)
	sort.Strings(mwl)
	if diff := cmp.Diff(wl, mwl); diff != "" {
		rt.Fatalf("waitlist (-store +model):\n%s", diff)
	}
}
