package referral

import "time"

// Referral is a referral as Haven keeps it: what the partner sent plus what
// Haven decided about it.
type Referral struct {
	Input
	ID      string `json:"id"`
	Partner string `json:"partner"`
	Status  Status `json:"status"`
	Persons int    `json:"persons"`
	// Period is the quota year the referral holds or waits for; 0 before
	// allocation.
	Period  int      `json:"period,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	// WaitlistReason says why a waitlisted referral waits (quota's
	// stream-full or partner-allotment-full).
	WaitlistReason string `json:"waitlist_reason,omitempty"`
	// ArrivedOn is the arrival date (YYYY-MM-DD), once arrived.
	ArrivedOn string    `json:"arrived_on,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version increases with every change; writes are conditional on it so no
	// change is ever based on a stale read.
	Version int `json:"-"`
	// Fingerprint is the keyed hash of the principal's identity, used to flag
	// the same defender referred by two partners.
	Fingerprint string `json:"-"`
	// Holds are the reason codes (shared/reason's Hold) of the holds that
	// pause its disposition; staff business, never in a partner's view.
	Holds []string `json:"-"`
	// DisposedAt is when its personal data was destroyed (zero: it was not).
	DisposedAt time.Time `json:"-"`
}

// Tombstone is what is kept of a disposed referral: only fields that
// identify no one, so that period counters, admissions and reports still
// reconcile.
type Tombstone struct {
	ID         string    `json:"id"`
	Partner    string    `json:"partner"`
	Stream     string    `json:"stream"`
	Status     Status    `json:"status"`
	Urgency    Urgency   `json:"urgency"`
	Persons    int       `json:"persons"`
	Period     int       `json:"period,omitempty"`
	Reasons    []string  `json:"reasons,omitempty"`
	ArrivedOn  string    `json:"arrived_on,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	DisposedAt time.Time `json:"disposed_at"`
}

// TombstoneOf is r's tombstone.
func TombstoneOf(r Referral) Tombstone {
	return Tombstone{
		ID: r.ID, Partner: r.Partner, Stream: r.Stream, Status: r.Status, Urgency: r.Urgency, Persons: r.Persons,
		Period: r.Period, Reasons: r.Reasons, ArrivedOn: r.ArrivedOn,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DisposedAt: r.DisposedAt,
	}
}

// Event is one entry of a referral's audit trail. It carries no personal data.
type Event struct {
	At           time.Time `json:"at"`
	Action       string    `json:"action"`
	FromStatus   Status    `json:"from_status,omitempty"`
	ToStatus     Status    `json:"to_status,omitempty"`
	PersonsDelta int       `json:"persons_delta"`
	ActorRole    string    `json:"actor_role"`
	// Actor is the caller's subject; officers see it in the audit, partners
	// never do.
	Actor string `json:"-"`
	// Previous names, on a creation, the earlier referral whose
	// partner_reference this one took over once it ended.
	Previous string `json:"previous_referral,omitempty"`
	// Reason is an urgency change's or a hold's reason code (shared/reason's
	// Urgency, Hold).
	Reason string `json:"reason,omitempty"`
}

// Actions recorded in the audit trail.
const (
	ActionCreated    = "created"
	ActionScreened   = "screened"
	ActionAllocated  = "allocated"
	ActionWaitlisted = "waitlisted"
	ActionDecided    = "decided"
	ActionArrived    = "arrived"
	ActionWithdrawn  = "withdrawn"
	ActionFamily     = "family-changed"
	// ActionCarriedOver: the referral's period closed and it went on
	// waiting, at the same place, in the next one.
	ActionCarriedOver = "carried-over"
	// ActionUrgency: an officer revised the urgency.
	ActionUrgency = "urgency-changed"
	ActionRead    = "read"
	// ActionListed: the referral was on a list page someone was served
	// (one page read audit item names every referral of its page).
	ActionListed = "listed"
	// ActionHoldSet and ActionHoldLifted: a hold on its disposition was set
	// or lifted (the reason names which). Lifting access-request records
	// that the access request was answered.
	ActionHoldSet    = "hold-set"
	ActionHoldLifted = "hold-lifted"
	// ActionDisposed: its personal data was destroyed at the end of its
	// retention period; only a tombstone is left.
	ActionDisposed = "disposed"
)
