// Package seal encrypts the personal data of the people Haven protects, one
// field at a time, and computes the keyed hash used to spot the same defender
// referred twice.
//
// Why field by field: the states that persecute human-rights defenders also
// hunt them abroad, so a leaked name, place or phone number can get someone
// killed. Each personal field is sealed before it reaches DynamoDB, S3 or an
// export, so a copy of the table alone reveals nothing. Every ciphertext is
// bound to associated data naming where it belongs
// ("haven/referral/<id>/partner/<partner>/<field>", shared/dynamostore), so
// a ciphertext moved to another record or field fails to open instead of
// silently showing one person's data as another's — and so does a referral
// whose partner attribute is rewritten: a role that may write the table but
// not unwrap the keysets cannot hand one partner's referral to another.
//
// Fields sealed before the partner was bound carry "haven/referral/<id>/<field>".
// The store opens a field with the partner-bound data first and, only if
// that fails, with the old one. This is safe for everything sealed since:
// an AEAD opens only under the associated data it was sealed with, so no
// field sealed with the partner bound can be opened through the fallback,
// and relabelling such a referral fails as it should. What it leaves open is
// the old fields themselves: until a referral of before the change is
// re-sealed (the migration of shared/dynamostore re-seals every referral
// under its own key, see below), relabelling it is not detected, as before
// the change; and an old ciphertext put back into an item (from a backup),
// its referral's key deleted, opens under the fallback. The fallback was
// chosen over refusing old referrals, which would lock officers out of every
// referral made before the change until a migration that needs the
// break-glass role has run; once it has, LegacySealedReferrals=refuse turns
// the fallback off, and a referral without a key of its own opens for no
// one.
//
// # Crypto-shredding: a data key per referral
//
// Each referral's fields (and the response its idempotency record keeps for
// replay) are sealed under a data key of its own (NewRecordKey), and that key
// is stored wrapped by the data keyset in a table of its own (KeyTable), not
// in the referral table: a backup, PITR restore, export or copy of the
// referral table holds no key that opens it. Disposing of a referral deletes
// its key (dynamostore's ShredReferralKey, in the disposition's transaction);
// every copy of its sealed fields, wherever it is, then stays sealed under a
// key that no longer exists. Reads unwrap the key once per request, with the
// referral in one TransactGetItems (a list page: one BatchGetItem for its
// keys); unwrapping is local AES-GCM under the data keyset, no KMS call.
//
// Threat model of the disposal. A disposed referral can still be opened,
// from any copy, by whoever holds both the data keyset (the sealing
// functions' roles, the break-glass role) and a copy of its key, for as long
// as a copy of the key exists: the key table's point-in-time recovery window
// (KeyTableRecoveryDays, 35 days by default, 0 for none) and any backup of
// the key table (keep it out of AWS Backup plans, or their retention becomes
// the window). After that window the referral is unreadable even to the
// holder of every other key and backup. Locally the keys live in keys.json
// in the data directory (the runner's snapshot keeps them apart from
// dynamodb.json; the journal holds recent writes of both until it is folded).
// Not covered: the fingerprint (a keyed hash under the fingerprint key) and
// the plaintext bare fields (status, stream, partner, dates) are not under the
// referral's key, so disposition must delete them from the table; copies keep
// them. Referrals sealed before per-referral keys have no key to shred: their
// fields are sealed by the data keyset, and a copy of them stays readable as
// long as that keyset exists, until go run ./infra/referralkeys re-seals them
// under keys of their own (resumable: it skips referrals that have a key; run
// it as the break-glass role). It binds the partner the referral has when it
// runs, so a referral relabelled before the migration stays with the partner
// it was relabelled to. Idempotency responses stored before the change stay
// sealed by the data keyset until they expire (a day).
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
// Keysets, one per purpose (Purposes): data (seals fields), fingerprint
// (keys the duplicate hash), session (the web form's cookies and CSRF
// tokens), cursor (signs list cursors) and caller (keys the request log's
// hash of the caller's subject). Session, cursor and caller keys were once
// derived from the fingerprint key, which cannot rotate, and made every
// function that logs or pages unwrap the fingerprint key; each now has its
// own keyset, so each function unwraps only the keysets its step uses.
//
// Two ways to get a Sealer:
//
//   - OpenLocal, for the local runner and tests only: a JSON file holding the
//     keysets in cleartext, created with 0600 permissions when missing.
//     Anyone who can read the file can read the data; it must never hold
//     real personal data. (The runner keys sessions and cursors with files
//     of their own; a file made before the session, cursor and caller
//     keysets existed still opens.)
//   - OpenKMS, in AWS: the keysets, each encrypted by the stack's
//     SealingKey with the encryption context {"haven:keyset": <purpose>},
//     deployed in the SEALING_KEYSETS parameter (go run ./infra/keyset). KMS
//     unwraps each keyset once per Lambda execution environment, not once
//     per field: a KMS envelope per field would cost a KMS request for every
//     field sealed or opened (seventy-five for one page of a list).
//
// Who can unwrap: the SealingKey wraps the keysets and nothing else (data
// at rest — table, buckets, logs — uses the stack's DataKey), and its key
// policy denies kms:Decrypt, kms:ReEncrypt* and kms:CreateGrant to every
// principal but the sealing functions' roles (RolePath /<stack>/sealing/)
// and an optional break-glass role (SealingBreakGlassRoleArn): an
// administrator's kms:Decrypt on "*" no longer opens the data. Each
// function's IAM policy allows kms:Decrypt only with the encryption
// contexts of its own keysets (shared/steps.Keysets); the local runner and
// the tests refuse any other keyset's use the same way (Guarded,
// infra/iam). What remains: whoever may change the key policy (account
// administrators, CloudFormation) can remove the Deny; CloudTrail records
// PutKeyPolicy and every Decrypt with its encryption context.
//
// OpenKMS makes no network call, so it is safe in a Lambda init phase: the
// first use of each keyset unwraps it; a failed unwrap is retried by the
// next call.
//
// Key rotation: KMS rotates its own key material. go run ./infra/keyset
// -rotate (RotateKeysets, run as the break-glass role, which alone besides
// the functions may decrypt) adds a primary key to the data keyset and
// keeps the old ones to open old ciphertexts; gives the session and cursor
// keysets a new primary and keeps only the previous one, so a cookie or
// cursor made before the rotation is accepted until it expires (a session
// after 4 hours) or until the next rotation (a cursor), and one made under
// an older key is refused cleanly (the sign-in page; 400 on a cursor, after
// which the client lists from the start) rather than kept valid forever;
// then redeploy. The fingerprint and caller keysets use their primary key
// only: rotating them would mean recomputing every stored fingerprint, or
// losing the link between a caller's logged requests.
package seal
