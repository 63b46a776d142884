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
//   - OpenKMS, in AWS: envelope encryption with a KMS key. Each Seal asks Tink's
//     KMS envelope AEAD for a fresh AES256-GCM data key, encrypts the field with
//     it and stores the data key wrapped by KMS beside the ciphertext; each Open
//     asks KMS to unwrap it. The fingerprint keyset is kept, encrypted by the
//     same KMS key, in the FINGERPRINT_KEYSET parameter (see OpenKMS and
//     GenerateFingerprintKeyset).
//
// OpenKMS makes no network call, so it is safe in a Lambda init phase: KMS is
// first called by the first Seal or Open, and by the first Fingerprint (which
// unwraps the fingerprint keyset once and keeps it). Every Seal and every Open
// is one KMS request; callers that seal many fields of one record should keep
// that in mind for latency and KMS request quotas.
//
// Key rotation is out of scope here: a Sealer uses one KMS key (KMS rotates its
// backing key material itself) and the primary key of the fingerprint keyset.
// Rotating the fingerprint key means recomputing stored fingerprints.
package seal
