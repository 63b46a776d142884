// Package referral is the one definition of what a referral is before it is
// stored: the shape partners send to POST /referrals (as JSON or as a browser
// form), the rules it must meet, the number of spaces it needs, and the status
// machine every later step obeys.
//
// It is pure domain code so that the API steps, the local runner and the tests
// all apply the same rules, and so that none of them can drift into accepting a
// field the contract does not name (no mass assignment) or altering a name a
// partner typed (names are never trimmed, re-cased or normalised here: the
// people referred must recognise their own names in what Haven stores).
//
// Decoders report shape problems (unknown fields, wrong JSON types, malformed
// bodies; DecodeJSON with shared/jsonbody's strict rules) and never rule
// violations; Validate reports every rule violation at
// once, so a caseworker can fix a whole form in one pass. Both return
// *problem.Error values whose field paths are dotted paths into the JSON body
// (family_members.1.date_of_birth), which the form encoding shares.
//
// Whether a stream exists and is open, and whether a partner reference is
// already used, need the store and are checked by the API steps, not here.
package referral
