package api_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/referral"
)

// TestWaitlistNeedsDeleteItem: with dynamodb:DeleteItem taken out of one
// writing function's policy (in memory), taking a referral off the waitlist
// fails as it would in AWS: the step answers 500, nothing changes, and the
// denial names the function, the action and the table (the step's log
// keeps only the cause's type; the SDK error carries AWS's message).
func TestWaitlistNeedsDeleteItem(t *testing.T) {
	for _, tc := range []struct {
		name, dir, function, body string
	}{
		{"withdrawal", "withdraw-referral", "WithdrawReferralFunction", `{"reason": "defender-declined"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testenv.Options{})
			stack := *h.env.IAM.Stack
			stack.Policies = maps.Clone(stack.Policies)
			p := stack.Policies[tc.function]
			p.Statements = slices.Clone(p.Statements)
			removed := false
			for i, st := range p.Statements {
				if i := slices.Index(st.Action, "dynamodb:DeleteItem"); i >= 0 {
					st.Action = slices.Delete(slices.Clone(st.Action), i, i+1)
					removed = true
				}
				p.Statements[i] = st
			}
			if !removed {
				t.Fatalf("%s has no dynamodb:DeleteItem to remove", tc.function)
			}
			stack.Policies[tc.function] = p
			// A log of its own: these denials are on purpose.
			log := &iam.Log{}
			h.env.IAM = &iam.Enforcer{Stack: &stack, Log: log}

			h.setCapacity(4)
			big, small := h.newReferral("DEL-BIG", 3, "normal"), h.newReferral("DEL-SMALL", 1, "normal")
			for _, id := range []string{big, small} {
				h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
			}
			h.mustStep("allocate-referral", big, officer, `{}`)
			if got := h.mustStep("allocate-referral", small, officer, `{}`); got != "waitlisted" {
				t.Fatalf("small: %s, want waitlisted", got)
			}
			before := h.periodView()
			if resp := h.step(tc.dir, small, officer, tc.body, ""); resp.StatusCode != 500 {
				t.Fatalf("%s without DeleteItem: %d %s, want 500", tc.dir, resp.StatusCode, resp.Body)
			}
			if diff := cmp.Diff(before, h.periodView()); diff != "" {
				t.Errorf("period changed (-before +after):\n%s", diff)
			}
			var denied []string
			for _, c := range log.Calls() {
				if !c.Allowed {
					denied = append(denied, c.Function+" "+c.Action+" "+c.Resource)
				}
			}
			want := []string{tc.function + " dynamodb:DeleteItem arn:aws:dynamodb:ca-central-1:000000000000:table/HavenTable"}
			if diff := cmp.Diff(want, denied); diff != "" {
				t.Errorf("denied calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryWayOffTheWaitlist: each step that takes a referral off the
// waitlist, directly or by the promotion that follows a release, does so
// under its own function's policy (each deletes the waitlist entry in its
// transaction: dynamodb:DeleteItem, and Query to find who waits).
func TestEveryWayOffTheWaitlist(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(h *harness, big, small string)
	}{
		{"allocation", func(h *harness, _, small string) {
			h.env.SetCapacity(t, "hrd", today.Year(), 6) // directly: no promotion
			h.mustStep("allocate-referral", small, officer, `{}`)
		}},
		{"withdrawal", func(h *harness, _, small string) {
			h.mustStep("withdraw-referral", small, officer, `{"reason": "defender-declined"}`)
		}},
		{"refusal promotes", func(h *harness, big, _ string) {
			h.mustStep("decide-referral", big, officer, `{"outcome": "refused"}`)
		}},
		{"smaller family promotes", func(h *harness, big, _ string) {
			h.mustStep("change-family", big, officer, familyBody(1))
		}},
		{"more capacity promotes", func(h *harness, _, _ string) {
			h.setCapacity(6)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testenv.Options{})
			h.setCapacity(4)
			big, small := h.newReferral("OFF-BIG", 3, "normal"), h.newReferral("OFF-SMALL", 1, "normal")
			for _, id := range []string{big, small} {
				h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
			}
			h.mustStep("allocate-referral", big, officer, `{}`)
			if got := h.mustStep("allocate-referral", small, officer, `{}`); got != "waitlisted" {
				t.Fatalf("small: %s, want waitlisted", got)
			}
			tc.run(h, big, small)
			if got := h.periodView()["waitlisted_persons"]; got != 0.0 {
				t.Errorf("waitlisted persons %v, want 0", got)
			}
		})
	}
}

// TestUrgencyRevisionMovesAWaitingReferral: an officer's revision of a
// waiting referral's urgency moves its waitlist entry (a delete and a put in
// the revision's transaction: dynamodb:DeleteItem under the revise-urgency
// function's own policy), and it keeps waiting.
func TestUrgencyRevisionMovesAWaitingReferral(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(4)
	big, small := h.newReferral("URG-BIG", 3, "normal"), h.newReferral("URG-SMALL", 1, "normal")
	for _, id := range []string{big, small} {
		h.mustStep("screen-referral", id, officer, `{"outcome": "eligible"}`)
	}
	h.mustStep("allocate-referral", big, officer, `{}`)
	if got := h.mustStep("allocate-referral", small, officer, `{}`); got != "waitlisted" {
		t.Fatalf("small: %s, want waitlisted", got)
	}
	if got := h.mustStep("revise-urgency", small, officer, `{"urgency": "emergency", "reason": "new-threat"}`); got != "waitlisted" {
		t.Errorf("after the revision: %s, want waitlisted", got)
	}
	if got := h.periodView()["waitlisted_persons"]; got != 2.0 {
		t.Errorf("waitlisted persons %v, want 2 (the small family still waits)", got)
	}
}

// TestQueueEntryLeavesWithTheWork: the steps that end a referral's work —
// an ineligible screening, an arrival — delete its queue entry through their
// own function's policy (dynamodb:DeleteItem), so it leaves the officers'
// queues; the steps within the work states put it over itself.
func TestQueueEntryLeavesWithTheWork(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(4)
	out, done := h.newReferral("Q-OUT", 0, "normal"), h.newReferral("Q-DONE", 0, "normal")
	queue := func(st referral.Status) []string {
		t.Helper()
		page, err := h.env.Store.Queue(context.Background(), dynamostore.QueueFilter{Status: st, Stream: "hrd", Period: testenv.Year()}, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range page.Items {
			ids = append(ids, e.ReferralID)
		}
		return ids
	}
	h.mustStep("screen-referral", out, officer, `{"outcome": "ineligible", "reasons": ["not-a-refugee"]}`)
	for _, to := range []struct{ dir, body string }{
		{"screen-referral", `{"outcome": "eligible"}`}, {"allocate-referral", `{}`},
		{"decide-referral", `{"outcome": "approved"}`},
		{"record-arrival", `{"arrived_on": "2026-11-20"}`},
	} {
		h.mustStep(to.dir, done, officer, to.body)
	}
	for _, st := range dynamostore.QueueStates {
		if ids := queue(st); len(ids) != 0 {
			t.Errorf("%s queue still holds %v", st, ids)
		}
	}
}
