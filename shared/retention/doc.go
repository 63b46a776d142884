// Package retention is Haven's retention and disposition schedule: how long
// a stream keeps a referral once it has ended (withdrawn, ineligible,
// refused) and once its people have arrived, and the one rule that says
// whether a referral is due for disposition at a given time.
//
// A stream without a schedule keeps its referrals: disposition destroys
// personal data for good, so it happens only when someone chose the period.
// 0 days is a valid schedule (dispose at the next run), used by tests and by
// a pathway that keeps nothing once a case is over.
//
// A hold of any kind (a legal hold, an open access request: shared/reason's
// Hold codes) stops disposition, however long ago the referral ended. The
// Government of Canada's guidance asks for both: disposition only after the
// period, and never while an access request is open.
//
// It is pure: the disposition job (shared/jobs) reads the facts, asks Decide,
// and lets the store dispose in one transaction conditioned on the
// referral's version, so a hold set after the read wins.
package retention
