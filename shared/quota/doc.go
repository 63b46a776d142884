// Package quota is Haven's lifecycle rule and the arithmetic of spaces: a
// stream's period (calendar year in Toronto, YearOf) has a capacity in
// persons, of which some are reserved (allocated or approved referrals) and
// some arrived; the rest remain. Partners may have allotments, their own
// share of the capacity. It also orders the waitlist. It does no I/O: the
// store enforces these rules with conditional writes, and tests recompute
// them from the referrals.
//
// # Where the allocation rule is
//
// Decide (decide.go) is the one place every lifecycle rule lives: given a
// referral (Subject), its period as read and the move asked (a status, a
// family size, an urgency), it returns the Decision — new status, counter
// Delta for the period and the partner, the waitlist operation and reason —
// and the Condition that must still hold when it is written (stream
// remaining ≥ need, the partner's allotment or the unallotted pool ≥ need,
// the period open, or for a waitlisting: still does not fit, for the
// reason given). The DynamoDB adapter (dynamostore: Move, ChangeFamily,
// Promote) only reads, calls Decide and translates the Decision into one
// TransactWriteItems; when a condition fails it reads again and decides
// again.
//
// # Allotments
//
// A period's allotments (partner → persons) sum to at most its capacity. A
// partner with an allotment never holds (reserved + arrived) more than it;
// partners without one share the Pool, what nobody is allotted. A referral
// that does not fit waits with reason partner-allotment-full when only its
// partner's allotment is short, stream-full otherwise (for a partner
// without an allotment: when the pool is short, even if allotted spaces are
// free — they are kept for their partners). CheckPlan refuses allotments
// over capacity (400) and an allotment, pool or capacity below what is held
// in it (409 capacity-below-committed).
//
// # Counters
//
// Holding says what a referral in a status contributes to its period:
// allocated and approved hold `persons` reserved spaces, arrived counts them
// as arrived, waitlisted counts them as waitlisted persons, every other
// status counts nowhere. Every change (a transition or a family change) moves
// the counters by Change(from, to), which is what the store adds to the
// period item in the same transaction as the referral; its condition
// `remaining ≥ Need()` keeps remaining = capacity − reserved − arrived ≥ 0,
// and the same on the partner's left (allotment − held) or the pool keeps
// them ≥ 0.
//
// # Waitlist fairness: first fit in priority order
//
// An allocation that does not fit puts the referral on its period's
// waitlist. When spaces come back (a withdrawal or refusal of a holder, a
// family that shrank, a raised capacity), the waitlist is walked in order —
// emergency, then urgent, then normal; within a rank the oldest referral
// (creation time) first — and every referral that fits in what remains is
// allocated; one that does not fit — the stream or its partner's limit —
// is skipped and keeps its place (Promotable). A family held back by its
// partner's allotment thus never blocks another partner's that fits.
//
// Why this rule:
//
//   - Urgency first, because the pathway exists to protect people at risk and
//     emergency cases are, by definition, the ones that cannot wait.
//   - Oldest first within a rank, because it is the order a caseworker can
//     explain and nobody can game: the creation time is fixed when the partner
//     refers the case and no later action moves it.
//   - Skip, don't block. Strict head-of-line order would let one family of
//     seven hold every freed space hostage until seven are free at once, while
//     a defender alone, who fits today, waits. Spaces left idle protect nobody,
//     and the yearly quota lapses when its period closes. A skipped family keeps
//     its place, so it is first in line for the next release that fits it.
//   - Known cost: a large family can be passed over repeatedly by smaller
//     ones behind it. Officers see it on the waitlist (its place and persons)
//     and can act by hand (an allocation when capacity is raised, say); the
//     rule does not reserve spaces for it, because holding spaces back is the
//     blocking we set out to avoid.
//
// The same rule decides a direct allocation: if the referral fits, it is
// allocated even when larger families wait (they did not fit, or they would
// have been promoted). In the seconds between a release and its promotion a
// direct allocation can take a freed space first; the sweep never leaves a
// waitlisted referral that fits behind.
//
// # The year boundary
//
// A period is a calendar year in Toronto (YearOf is the one rule; defaults,
// the lapse and the reports use it). A period is open until an admin closes
// it; then nothing takes spaces in it (Decide answers period-closed) and
// its quota lapses, while releases, arrivals and decisions of what it holds
// go on. The closure carries the waitlist over to an open period, in order:
// Decide's carry-over keeps urgency and referral time, so each referral
// keeps its place among those already waiting there. An officer may revise
// a referral's urgency (Move.Urgency); a waiting referral then moves to its
// new place in the same transaction.
//
// # Admissions
//
// The period counts quota use: an arrival stays in the period whose spaces
// it used. Admissions count persons by arrival date (AdmissionYear), as
// IRCC's levels plans do, so a family allocated in 2026 that arrives on
// 2027-01-15 is 2026's quota and 2027's admission.
package quota
