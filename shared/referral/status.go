package referral

// Status is where a referral is in its life.
type Status string

const (
	Submitted  Status = "submitted"
	Eligible   Status = "eligible"
	Ineligible Status = "ineligible"
	Allocated  Status = "allocated"
	Waitlisted Status = "waitlisted"
	Approved   Status = "approved"
	Refused    Status = "refused"
	Arrived    Status = "arrived"
	Withdrawn  Status = "withdrawn"
)

// transitions is the contract's status machine and nothing else: any move not
// listed is 409 invalid-transition, so a missing entry fails safe.
var transitions = map[Status][]Status{
	Submitted:  {Eligible, Ineligible, Withdrawn},
	Eligible:   {Allocated, Waitlisted, Withdrawn},
	Waitlisted: {Allocated, Withdrawn},
	Allocated:  {Approved, Refused, Withdrawn},
	Approved:   {Arrived, Withdrawn},
}

// CanTransition reports whether a referral in from may move to to.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Terminal reports whether nothing may follow s.
func Terminal(s Status) bool {
	switch s {
	case Ineligible, Refused, Arrived, Withdrawn:
		return true
	}
	return false
}

// ReleasesReference reports whether a referral in s gives up its
// partner_reference, so that the partner may refer the same case again
// (withdrawn, found ineligible, refused). An arrival keeps it: the case is
// done, not to be referred again.
func ReleasesReference(s Status) bool { return s == Withdrawn || s == Ineligible || s == Refused }

// HoldsSpaces reports whether a referral in s counts in its period's reserved
// spaces; the quota counters must move whenever a transition enters or leaves
// such a status.
func HoldsSpaces(s Status) bool { return s == Allocated || s == Approved }

// AllStatuses lists every status in lifecycle order.
func AllStatuses() []Status {
	return []Status{Submitted, Eligible, Ineligible, Allocated, Waitlisted, Approved, Refused, Arrived, Withdrawn}
}

// ParseStatus accepts exactly the contract's spellings, so that a query such as
// ?status=Allocated is rejected rather than silently matching nothing.
func ParseStatus(s string) (Status, bool) {
	for _, st := range AllStatuses() {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}
