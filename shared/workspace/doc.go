// Package workspace is the officers' workspace: the server-rendered pages
// of the officer-workspace function at /officer, in English and French, for
// the officer and admin roles (a partner gets a bilingual 403).
//
//   - Work queues (GET /officer): screening (submitted), allocation
//     (eligible), the waitlist in promotion order with why each waits,
//     decision (allocated) and arrival (approved); filters for pathway,
//     period, partner and urgency, with counts (a first page's Query reads
//     on to dynamostore.MaxQueueCount entries and counts those it does not
//     show); emergency first, marked, with the age in days; paginated with
//     signed cursors. Each page is one DynamoDB Query
//     on the queue's own partition (shared/dynamostore, queue.go) and shows
//     no personal data. An exact lookup by referral id or partner reference
//     is posted (POST /officer/lookup), so no reference sits in a URL.
//   - The case page (GET /officer/cases/{id}): the referral, its family,
//     possible duplicates and history (reads included). Opening it is an
//     audited read (api.Deps.ReadReferral, as GET /referrals/{id}). Its
//     action forms (POST /officer/cases/{id}) run the API's own steps
//     (api.OfficerSteps) with the JSON body and the Idempotency-Key the API
//     takes — the key is made when the form is drawn, so a double click or a
//     resubmitted form makes one change — and errors come back in place.
//   - The period dashboard (GET /officer/periods/{stream}/{year}): capacity,
//     allotments, reserved/arrived/remaining per partner, waitlisted
//     persons, admissions by arrival year, the daily report's charts drawn
//     by shared/report; for admins the capacity and allotment form (POST),
//     run through PUT /streams/{stream}/periods/{year}'s step.
//
// Sign-in is shared/websession's, as the web form's: a sealed, Strict,
// HttpOnly session cookie of its own (subject, staff roles, expiry), a CSRF
// token in every form, an Origin check on every POST, the OIDC code flow
// with PKCE in AWS and a development sign-in locally. The pages need no
// JavaScript and load none (the CSP allows no script).
package workspace
