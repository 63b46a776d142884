// Package reason is the one list of reason codes: why a referral was found
// ineligible at screening, why it was refused at decision, why it was
// withdrawn, why an officer revised its urgency (kept in its history
// only), and why its disposition is held (kept on the referral while the
// hold lasts, and in its history; shared/retention). Each kind of reason has a closed list of stable kebab-case codes,
// and every code has an English and a French label.
//
// The codes follow the grounds partners and officers already work with:
// UNHCR's preconditions for resettlement (recognised as a refugee, no other
// durable solution, a protection need) and the stream's own criteria for
// ineligibility; the Immigration and Refugee Protection Act's grounds of
// inadmissibility (ss. 34–42) and the Regulations' eligibility test for the
// refugee classes (s. 139) for refusal; and the ways a case ends before
// arrival for withdrawal.
//
// Reasons are codes, never free text, so that no personal data can slip into
// a field that reports and exports carry. openapi.yaml lists the same codes
// as enums, with the same labels (x-labels); a test holds the two together.
package reason
