package seal

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Known answers made with Tink (tink-go v2.9.0, AES256_GCM with the TINK
// prefix, and HMAC_SHA256_PRF) from the keys below, when Haven still sealed
// with Tink: the formats are the same, so a regression in the layout, the
// nonce placement, the associated data or the HMAC shows here.
func TestKnownAnswers(t *testing.T) {
	aesKey := mustHex(t, "4d4750d145f7c3052bd4a6cc0dfaba638660cdf5febdfbd22c793ff71f6aead9")
	hmacKey := mustHex(t, "6421e270f6b384228fafa3cea60cdd4a9696f87e0112af96a429c0594d133d83")
	const tinkKeyID = 3875546530
	ct := mustHex(t, "01e70025a2c33f4e39150c1421feefa00ec2ecfbeedf602f9b6335f55d8945170d45fa6102b8a261bf9d1de0a87d2487ab76a8a2b00b67")

	a, err := newDataAEAD(&keyset{Purpose: purposeData, Primary: tinkKeyID, Keys: []keyRec{{ID: tinkKeyID, Key: aesKey}}})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := a.decrypt(ct, []byte("haven/referral/01J/people"))
	if err != nil {
		t.Fatalf("decrypt Tink ciphertext: %v", err)
	}
	if diff := cmp.Diff("Nguyễn Thị Đặng", string(pt)); diff != "" {
		t.Errorf("plaintext (-want +got):\n%s", diff)
	}
	// Our own ciphertext has the same layout: prefix, 12-byte nonce, tag.
	own := a.encrypt(pt, []byte("haven/referral/01J/people"))
	if diff := cmp.Diff(ct[:prefixLen], own[:prefixLen]); diff != "" {
		t.Errorf("prefix (-want +got):\n%s", diff)
	}
	if len(own) != len(ct) {
		t.Errorf("ciphertext length %d, Tink's %d", len(own), len(ct))
	}

	p := newFingerprintPRF(&keyset{Purpose: purposeFingerprint, Primary: 7, Keys: []keyRec{{ID: 7, Key: hmacKey}}})
	got := hex.EncodeToString(p.compute([]byte("khai minh nguyen thi|1980-02-03|VNM")))
	if diff := cmp.Diff("8909fa569e4fa54d281688043bfa22e8876463425ed243643aba4198977f0b52", got); diff != "" {
		t.Errorf("fingerprint PRF (-want +got):\n%s", diff)
	}
}

func TestParseKeysetRejects(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, keyLen))
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name, json, purpose, want string
	}{
		{"not JSON", `nope`, purposeData, "not a Haven keyset"},
		{"other purpose", `{"purpose":"haven/seal/fingerprint","primary":1,"keys":[{"id":1,"key":"` + key + `"}]}`, purposeData, "not \"haven/seal/data\""},
		{"no keys", `{"purpose":"haven/seal/data","primary":1,"keys":[]}`, purposeData, "no key"},
		{"short key", `{"purpose":"haven/seal/data","primary":1,"keys":[{"id":1,"key":"` + short + `"}]}`, purposeData, "16 bytes"},
		{"zero id", `{"purpose":"haven/seal/data","primary":0,"keys":[{"id":0,"key":"` + key + `"}]}`, purposeData, "zero or repeated"},
		{"repeated id", `{"purpose":"haven/seal/data","primary":1,"keys":[{"id":1,"key":"` + key + `"},{"id":1,"key":"` + key + `"}]}`, purposeData, "zero or repeated"},
		{"primary missing", `{"purpose":"haven/seal/data","primary":2,"keys":[{"id":1,"key":"` + key + `"}]}`, purposeData, "primary key 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKeyset([]byte(tt.json), tt.purpose)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseKeyset error = %v, want one containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Error("error shows key material")
			}
		})
	}
}

func TestDecryptRejectsMalformed(t *testing.T) {
	ks, err := newKeyset(purposeData)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newDataAEAD(ks)
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("referral/r/contact")
	good := a.encrypt([]byte("+1 555 0100"), ad)
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		ct   []byte
	}{
		{"empty", nil},
		{"prefix only", good[:prefixLen]},
		{"one byte short of a tag", good[:prefixLen+nonceLen+tagLen-1]},
		{"other format version", mutate(func(b []byte) []byte { b[0] = 0x00; return b })},
		{"unknown key id", mutate(func(b []byte) []byte { b[1] ^= 0xff; return b })},
		{"flipped nonce bit", mutate(func(b []byte) []byte { b[prefixLen] ^= 1; return b })},
		{"flipped tag bit", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.decrypt(tt.ct, ad); err == nil {
				t.Error("decrypt succeeded, want error")
			}
		})
	}
	if _, err := a.decrypt(good, ad); err != nil {
		t.Errorf("the unaltered ciphertext: %v", err)
	}
}

// A rotated local keyset round-trips through JSON with every key.
func TestKeysetRotateJSON(t *testing.T) {
	ks, err := newKeyset(purposeData)
	if err != nil {
		t.Fatal(err)
	}
	first := ks.Primary
	if err := ks.rotate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ks)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseKeyset(b, purposeData)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ks, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Primary == first || len(got.Keys) != 2 {
		t.Errorf("after rotate: primary %d (was %d), %d keys", got.Primary, first, len(got.Keys))
	}
}
