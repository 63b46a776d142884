// Package quota is the arithmetic of spaces: a stream's period (calendar
// year) has a capacity in persons, of which some are reserved (allocated or
// approved referrals) and some arrived; the rest remain. It also orders the
// waitlist. It does no I/O: the store enforces these rules with conditional
// writes, and tests recompute them from the referrals.
package quota
