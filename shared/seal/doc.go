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
// them in clear. Fingerprint is an HMAC-SHA256 of the identity.Normalise
// string; without the key it cannot be reversed or tested
// against a list of guessed names. NormaliseIdentity deliberately conflates
// spellings (case, diacritics, punctuation, name order), because the result
// only flags a possible duplicate for a human to check: a false match costs a
// look, a missed one a double-counted space.
//
// A fingerprint is stored with each referral and never recomputed, so a
// change to identity.Normalise splits old from new: a referral stored before
// the change and one of the same person after it meet only if both
// normalise to the same string under either rule. Adding the UTS #39
// skeleton changed the string of nearly every name (i becomes l), so
// referrals stored before it are not flagged against later ones until their
// fingerprints are recomputed from their opened names (no tool does this
// yet); new referrals among themselves are flagged as before.
//
// The cryptography is Go's standard library (crypto/aes, crypto/cipher,
// crypto/hmac: the Go Cryptographic Module, FIPS 140-3 validated), used
// through its high-level AEAD: AES-256-GCM with random 96-bit nonces
// (cipher.NewGCMWithRandomNonce) and HMAC-SHA256. This package only keeps
// keys: keysets with a primary key for new seals and older keys for opening,
// and the same ciphertext layout as Tink's AES-GCM (0x01, 4-byte key id,
// nonce, ciphertext, tag). Haven sealed with Tink until the functions had to
// fit in 10 MB: Tink and the protobuf runtime it needs cost ≈ 5.7 MB in every
// sealing function and most of their init time (BENCHMARKS.md), for two
// primitives the standard library provides. TestKnownAnswers decrypts a Tink
// ciphertext and recomputes a Tink PRF output, so the formats stay the same.
//
// Two ways to get a Sealer:
//
//   - OpenLocal, for the local runner and tests only: a JSON file holding the
//     data keyset and the fingerprint keyset in cleartext, created with 0600
//     permissions when missing. Anyone who can read the file can read the
//     data; it must never hold real personal data.
//   - OpenKMS, in AWS: the two keysets, each encrypted by the stack's
//     customer-managed KMS key with the encryption context
//     {"haven:keyset": "haven/seal/data" or "haven/seal/fingerprint"}, deployed
//     in the SEALING_KEYSETS parameter (go run ./infra/keyset). KMS unwraps
//     each keyset once per Lambda execution environment, not once per field:
//     a KMS envelope per field would cost a KMS request for every field sealed
//     or opened (seventy-five for one page of a list). The functions' IAM
//     policy allows kms:Decrypt only with that encryption context.
//
// OpenKMS makes no network call, so it is safe in a Lambda init phase: the
// first Seal or Open unwraps the data keyset, the first Fingerprint the
// fingerprint keyset; a failed unwrap is retried by the next call.
//
// Key rotation: KMS rotates its own key material; the data keyset rotates by
// adding a primary key and keeping the old ones to open old ciphertexts
// (go run ./infra/keyset -rotate, RotateDataKeyset), then redeploying. The
// fingerprint keyset uses its primary key only: rotating it would mean
// recomputing every stored fingerprint.
package seal
