// Package access is a defender's access to their own data, under the
// Privacy Act: GET /referrals/{id}/personal-data (officer) answers one
// document with everything Haven holds about the principal and the family
// of a referral — its fields unsealed, its history, every read of it (full
// reads and list pages that showed it), the holds on it, other referrals of
// the same person, and the partner exports that included it, named by
// their manifests — with reason labels in the person's preferred language
// when it is English or French.
//
// The request is an access request: fetching the document sets the hold
// access-request (shared/reason) on the referral, so that it cannot be
// disposed of while the request is open. The request is answered when an
// officer lifts that hold by name (POST /referrals/{id}/hold {"hold":
// false, "reason": "access-request"}): that lift is the record, in the
// referral's history, of when it was answered. A lift of every hold
// ({"hold": false}) leaves it.
//
// It is apart from shared/api because it reads the exports bucket: only
// its binary links the S3 SDK for that.
package access
