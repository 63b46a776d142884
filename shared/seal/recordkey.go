package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// recordFormat leads every ciphertext sealed under a record's own key, as
// formatVersion leads those sealed by the data keyset directly, so neither
// can be taken for the other.
const recordFormat = 0x02

// NewRecordKey makes a fresh data key for one record (AES-256-GCM with
// random nonces) and returns it with its wrapped form: the key sealed by the
// data keyset, bound to associatedData (the record it belongs to). The
// wrapped form is what gets stored, apart from the record: destroying it
// destroys every copy of what the key sealed, wherever the copies are
// (crypto-shredding).
//
// The key is a cipher.AEAD (a type of the standard library, so the store
// that uses it links no part of this package): Seal(nil, nil, plaintext, ad)
// and Open(nil, nil, ciphertext, ad); nonces are drawn inside, and each
// ciphertext starts with a format byte of its own.
func (s *Sealer) NewRecordKey(associatedData []byte) (cipher.AEAD, []byte, error) {
	raw := make([]byte, keyLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, nil, fmt.Errorf("seal: new record key: %w", err)
	}
	defer clear(raw)
	k, err := newRecordKey(raw)
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := s.Seal(raw, associatedData)
	if err != nil {
		return nil, nil, err
	}
	return k, wrapped, nil
}

// OpenRecordKey unwraps a record key made by NewRecordKey with the same
// associatedData.
func (s *Sealer) OpenRecordKey(wrapped, associatedData []byte) (cipher.AEAD, error) {
	raw, err := s.Open(wrapped, associatedData)
	if err != nil {
		return nil, fmt.Errorf("seal: record key: %w", err)
	}
	defer clear(raw)
	if len(raw) != keyLen {
		return nil, errors.New("seal: record key of the wrong length")
	}
	return newRecordKey(raw)
}

func newRecordKey(raw []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return recordKey{g}, nil
}

// recordKey is a record's AES-256-GCM key with random nonces, its
// ciphertexts prefixed by recordFormat.
type recordKey struct{ g cipher.AEAD }

func (k recordKey) NonceSize() int { return 0 }
func (k recordKey) Overhead() int  { return 1 + k.g.Overhead() }

func (k recordKey) Seal(dst, nonce, plaintext, associatedData []byte) []byte {
	return k.g.Seal(append(dst, recordFormat), nonce, plaintext, associatedData)
}

func (k recordKey) Open(dst, nonce, ciphertext, associatedData []byte) ([]byte, error) {
	if len(ciphertext) < 1+nonceLen+tagLen || ciphertext[0] != recordFormat {
		return nil, fmt.Errorf("seal: decrypt: %w", errCiphertext)
	}
	pt, err := k.g.Open(dst, nonce, ciphertext[1:], associatedData)
	if err != nil {
		return nil, fmt.Errorf("seal: decrypt: %w", errCiphertext)
	}
	return pt, nil
}
