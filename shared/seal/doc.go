// Package seal encrypts the personal data of the people Haven protects, one
// field at a time, and computes the keyed hash used to spot the same defender
// referred twice.
//
// Why field by field: the states that persecute human-rights defenders also
// hunt them abroad, so a leaked name, place or phone number can get someone
// killed. Each personal field is sealed before it reaches DynamoDB, S3 or an
// export, so a copy of the table alone reveals nothing. Every ciphertext is
// bound to associated data naming where it belongs ("referral/<id>/<field>"),
// so a ciphertext moved to another record or field fails to open instead of
// silently showing one person's data as another's.
//
// Why a keyed hash for duplicates: matching names in clear would mean storing
// them in clear. Fingerprint is an HMAC-SHA256 (a Tink PRF set) of the
// NormaliseIdentity string; without the key it cannot be reversed or tested
// against a list of guessed names. NormaliseIdentity deliberately conflates
// spellings (case, diacritics, punctuation, name order), because the result
// only flags a possible duplicate for a human to check: a false match costs a
// look, a missed one a double-counted space.
//
// Two ways to get a Sealer:
//
//   - OpenLocal, for the local runner and tests only: a JSON file holding an
//     AES256-GCM keyset and an HMAC-SHA256 PRF keyset in cleartext, created
//     with 0600 permissions when missing. Anyone who can read the file can read
//     the data; it must never hold real personal data.
//   - OpenKMS, in AWS: two Tink keysets (AES256-GCM for fields, HMAC-SHA256
//     PRF for fingerprints), each encrypted by the stack's customer-managed KMS
//     key and deployed in the SEALING_KEYSETS parameter (see GenerateKeysets).
//     KMS unwraps each keyset once per Lambda execution environment, not once
//     per field: a KMS envelope per field would cost a KMS request for every
//     field sealed or opened (seventy-five for one page of a list).
//
// OpenKMS makes no network call, so it is safe in a Lambda init phase: the
// first Seal or Open unwraps the data keyset, the first Fingerprint the
// fingerprint keyset; a failed unwrap is retried by the next call.
//
// Key rotation: KMS rotates its own key material; a data keyset rotates the
// Tink way (add a primary key, keep the old ones to open old ciphertexts) and
// is redeployed; the fingerprint keyset uses its primary key only.
// Rotating the fingerprint key means recomputing stored fingerprints.
package seal
