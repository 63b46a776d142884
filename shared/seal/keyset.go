package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// The purposes a keyset can serve. A keyset names its purpose so that one
// pasted where another belongs is refused instead of used: all hold 32-byte
// keys, and a data key used as the fingerprint key would make every stored
// fingerprint unmatchable without anyone noticing. The purpose is also the
// KMS encryption context a keyset is wrapped under, so each function's IAM
// policy grants exactly the keysets it uses (template.yaml).
const (
	// PurposeData seals and opens personal-data fields.
	PurposeData = "haven/seal/data"
	// PurposeFingerprint keys the identity fingerprints.
	PurposeFingerprint = "haven/seal/fingerprint"
	// PurposeSession keys the web form's session cookies and CSRF tokens.
	PurposeSession = "haven/seal/session"
	// PurposeCursor signs list cursors.
	PurposeCursor = "haven/seal/cursor"
	// PurposeCaller keys the request log's hash of the caller's subject.
	PurposeCaller = "haven/seal/caller"

	purposeData        = PurposeData
	purposeFingerprint = PurposeFingerprint
)

// Purposes lists every purpose, in the order of the keysets blob.
var Purposes = []string{PurposeData, PurposeFingerprint, PurposeSession, PurposeCursor, PurposeCaller}

// slotOf is the one of five places that holds purpose's keyset, in the
// order of Purposes (the keysets blob and the local file each have one
// field per purpose).
func slotOf[T any](purpose string, data, fingerprint, session, cursor, caller *T) *T {
	switch purpose {
	case PurposeData:
		return data
	case PurposeFingerprint:
		return fingerprint
	case PurposeSession:
		return session
	case PurposeCursor:
		return cursor
	case PurposeCaller:
		return caller
	}
	panic("seal: unknown purpose " + purpose)
}

// keepsPrevious says which keysets keep only the primary and the one
// previous key when rotated: what they protect expires (a session after
// webform.SessionTTL; a cursor is good until the rotation after the one
// that retired its key), so older keys would only widen what a leaked key
// opens. The data keyset keeps every key (old ciphertexts must open); the
// fingerprint and caller keysets never rotate (stored fingerprints and
// logged caller hashes would stop matching).
var keepsPrevious = map[string]bool{PurposeSession: true, PurposeCursor: true}

const (
	keyLen = 32 // AES-256 and HMAC-SHA256 keys alike

	// formatVersion and the 4-byte key id lead every ciphertext: the layout
	// of Tink's AES-GCM with the TINK output prefix (0x01 ‖ key id ‖ nonce ‖
	// ciphertext ‖ tag), so a ciphertext says which key of a rotated keyset
	// opens it, and the format is one that is reviewed and documented.
	formatVersion = 0x01
	prefixLen     = 5
	nonceLen      = 12
	tagLen        = 16
)

// keyset is one purpose's keys: the primary seals (or fingerprints), every key
// opens. Rotation adds a new primary and keeps the old keys, so what they
// sealed still opens; there is no way to drop a key short of re-sealing.
type keyset struct {
	Purpose string   `json:"purpose"`
	Primary uint32   `json:"primary"`
	Keys    []keyRec `json:"keys"`
}

type keyRec struct {
	ID  uint32 `json:"id"`
	Key []byte `json:"key"` // base64 in JSON
}

// newKeyset makes a keyset for purpose holding one fresh primary key.
func newKeyset(purpose string) (*keyset, error) {
	ks := &keyset{Purpose: purpose}
	return ks, ks.rotate()
}

// rotate adds a fresh key with a new id and makes it the primary.
func (ks *keyset) rotate() error {
	k := make([]byte, keyLen)
	if _, err := rand.Read(k); err != nil {
		return fmt.Errorf("seal: new key: %w", err)
	}
	var id uint32
	for id == 0 || ks.has(id) {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("seal: new key id: %w", err)
		}
		id = binary.BigEndian.Uint32(b[:])
	}
	ks.Keys = append(ks.Keys, keyRec{ID: id, Key: k})
	ks.Primary = id
	return nil
}

// rotateKeepingPrevious rotates and drops every key but the new primary and
// the one it replaced.
func (ks *keyset) rotateKeepingPrevious() error {
	prev := ks.Primary
	if err := ks.rotate(); err != nil {
		return err
	}
	ks.Keys = slices.DeleteFunc(ks.Keys, func(k keyRec) bool { return k.ID != prev && k.ID != ks.Primary })
	return nil
}

// secrets returns the keyset's keys, the primary first: it signs, every key
// checks.
func (ks *keyset) secrets() *secrets {
	out := &secrets{}
	for _, k := range ks.Keys {
		if k.ID == ks.Primary {
			out.keys = append([][]byte{slices.Clone(k.Key)}, out.keys...)
		} else {
			out.keys = append(out.keys, slices.Clone(k.Key))
		}
	}
	return out
}

// secrets are the keys of a keyset used as MAC or derivation keys by other
// packages (sessions, cursors, caller hashes): the primary first.
type secrets struct{ keys [][]byte }

func (ks *keyset) has(id uint32) bool {
	return slices.ContainsFunc(ks.Keys, func(k keyRec) bool { return k.ID == id })
}

// parseKeyset decodes and checks a keyset of the given purpose. Errors name
// what is wrong with the keyset, never a key.
func parseKeyset(b []byte, purpose string) (*keyset, error) {
	var ks keyset
	if err := json.Unmarshal(b, &ks); err != nil {
		return nil, errors.New("not a Haven keyset")
	}
	if ks.Purpose != purpose {
		return nil, fmt.Errorf("keyset is for %q, not %q", ks.Purpose, purpose)
	}
	if len(ks.Keys) == 0 {
		return nil, errors.New("keyset holds no key")
	}
	seen := map[uint32]bool{}
	for _, k := range ks.Keys {
		if len(k.Key) != keyLen {
			return nil, fmt.Errorf("key %d is %d bytes, want %d", k.ID, len(k.Key), keyLen)
		}
		if k.ID == 0 || seen[k.ID] {
			return nil, fmt.Errorf("key id %d is zero or repeated", k.ID)
		}
		seen[k.ID] = true
	}
	if !seen[ks.Primary] {
		return nil, fmt.Errorf("primary key %d is not in the keyset", ks.Primary)
	}
	return &ks, nil
}

// dataAEAD seals with the primary key and opens with whichever key the
// ciphertext names. cipher.AEAD values are safe for concurrent use.
type dataAEAD struct {
	primary uint32
	byID    map[uint32]cipher.AEAD
}

// newDataAEAD builds AES-256-GCM with random 96-bit nonces (Go's
// cipher.NewGCMWithRandomNonce) for every key. Random nonces are safe for
// about 2³² messages per key; Haven seals a few fields per referral, a few
// thousand referrals a year, and rotation starts a fresh key.
func newDataAEAD(ks *keyset) (*dataAEAD, error) {
	a := &dataAEAD{primary: ks.Primary, byID: make(map[uint32]cipher.AEAD, len(ks.Keys))}
	for _, k := range ks.Keys {
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", k.ID, err)
		}
		g, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", k.ID, err)
		}
		a.byID[k.ID] = g
	}
	return a, nil
}

func (a *dataAEAD) encrypt(plaintext, associatedData []byte) []byte {
	g := a.byID[a.primary]
	out := make([]byte, prefixLen, prefixLen+nonceLen+len(plaintext)+tagLen)
	out[0] = formatVersion
	binary.BigEndian.PutUint32(out[1:prefixLen], a.primary)
	return g.Seal(out, nil, plaintext, associatedData)
}

var errCiphertext = errors.New("ciphertext is malformed, altered, bound to other data or sealed with another key")

func (a *dataAEAD) decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	if len(ciphertext) < prefixLen+nonceLen+tagLen || ciphertext[0] != formatVersion {
		return nil, errCiphertext
	}
	g, ok := a.byID[binary.BigEndian.Uint32(ciphertext[1:prefixLen])]
	if !ok {
		return nil, errCiphertext
	}
	pt, err := g.Open(nil, nil, ciphertext[prefixLen:], associatedData)
	if err != nil {
		return nil, errCiphertext
	}
	return pt, nil
}

// fingerprintPRF is HMAC-SHA256 under the fingerprint keyset's primary key.
type fingerprintPRF struct{ key []byte }

func newFingerprintPRF(ks *keyset) *fingerprintPRF {
	for _, k := range ks.Keys {
		if k.ID == ks.Primary {
			return &fingerprintPRF{key: k.Key}
		}
	}
	return nil // unreachable: parseKeyset checked the primary is present
}

func (p *fingerprintPRF) compute(input []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write(input)
	return m.Sum(nil)
}
