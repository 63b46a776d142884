package seal_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/seal"
)

const testKeyARN = "arn:aws:kms:ca-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// fakeKMS stands in for one symmetric KMS key: it encrypts with a local
// AES-GCM key bound to the key id and encryption context, as KMS binds them,
// and counts calls so tests can see when the network would be used.
type fakeKMS struct {
	keyID    string
	aead     cipher.AEAD
	encrypts atomic.Int32
	decrypts atomic.Int32
	down     atomic.Bool
	lastCtx  atomic.Pointer[map[string]string]
}

func newFakeKMS(t *testing.T, keyID string) *fakeKMS {
	t.Helper()
	block, err := aes.NewCipher([]byte(rand.Text()[:16]))
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeKMS{keyID: keyID, aead: a}
}

var errKMSDown = errors.New("fake kms: service unavailable")

func (f *fakeKMS) boundAD(keyID *string, ec map[string]string) ([]byte, error) {
	if aws.ToString(keyID) != f.keyID {
		return nil, fmt.Errorf("fake kms: NotFoundException: key %q", aws.ToString(keyID))
	}
	f.lastCtx.Store(&ec)
	return json.Marshal(struct {
		Key string
		Ctx map[string]string
	}{f.keyID, ec}) // json sorts map keys: deterministic
}

func (f *fakeKMS) Encrypt(_ context.Context, in *kms.EncryptInput, _ ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	f.encrypts.Add(1)
	if f.down.Load() {
		return nil, errKMSDown
	}
	ad, err := f.boundAD(in.KeyId, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	ct := f.aead.Seal(nil, nil, in.Plaintext, ad)
	return &kms.EncryptOutput{CiphertextBlob: ct, KeyId: in.KeyId}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.decrypts.Add(1)
	if f.down.Load() {
		return nil, errKMSDown
	}
	ad, err := f.boundAD(in.KeyId, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	pt, err := f.aead.Open(nil, nil, in.CiphertextBlob, ad)
	if err != nil {
		return nil, fmt.Errorf("fake kms: InvalidCiphertextException: %w", err)
	}
	return &kms.DecryptOutput{Plaintext: pt, KeyId: in.KeyId}, nil
}

func (f *fakeKMS) calls() (encrypts, decrypts int32) { return f.encrypts.Load(), f.decrypts.Load() }

// ServeHTTP speaks enough of the KMS JSON protocol (awsJson1_1) for Encrypt
// and Decrypt, so the real SDK client can be pointed at the fake.
func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		KeyId             string
		Plaintext         []byte
		CiphertextBlob    []byte
		EncryptionContext map[string]string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var out any
	var err error
	switch r.Header.Get("X-Amz-Target") {
	case "TrentService.Encrypt":
		var o *kms.EncryptOutput
		if o, err = f.Encrypt(r.Context(), &kms.EncryptInput{KeyId: &in.KeyId, Plaintext: in.Plaintext, EncryptionContext: in.EncryptionContext}); err == nil {
			out = map[string]any{"CiphertextBlob": o.CiphertextBlob, "KeyId": o.KeyId}
		}
	case "TrentService.Decrypt":
		var o *kms.DecryptOutput
		if o, err = f.Decrypt(r.Context(), &kms.DecryptInput{KeyId: &in.KeyId, CiphertextBlob: in.CiphertextBlob, EncryptionContext: in.EncryptionContext}); err == nil {
			out = map[string]any{"Plaintext": o.Plaintext, "KeyId": o.KeyId}
		}
	default:
		err = fmt.Errorf("unsupported target %q", r.Header.Get("X-Amz-Target"))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "InvalidCiphertextException", "message": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(out)
}

// openFakeKMS returns a Sealer over a fresh fake KMS key, and that key.
func openFakeKMS(t *testing.T) (*seal.Sealer, *fakeKMS) {
	t.Helper()
	ctx := context.Background()
	f := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatalf("GenerateKeysets: %v", err)
	}
	s, err := seal.OpenKMS(testKeyARN, blob, f)
	if err != nil {
		t.Fatalf("OpenKMS: %v", err)
	}
	return s, f
}

// Cold starts must not wait on the network: OpenKMS calls nothing, the data
// keyset is unwrapped once for any number of Seals and Opens, and the
// fingerprint keyset once for any number of Fingerprints.
func TestOpenKMSIsLazy(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	f.encrypts.Store(0)
	f.decrypts.Store(0)

	type counts struct{ Encrypts, Decrypts int32 }
	got := func() counts { e, d := f.calls(); return counts{e, d} }

	s, err := seal.OpenKMS(testKeyARN, blob, f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(counts{0, 0}, got()); diff != "" {
		t.Fatalf("KMS calls during OpenKMS (-want +got):\n%s", diff)
	}
	ad := []byte("referral/r1/given_name")
	ct, err := s.Seal([]byte("Minh"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ct, ad); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		ct, err := s.Seal([]byte("Khai"), ad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(ct, ad); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(counts{0, 1}, got()); diff != "" {
		t.Errorf("KMS calls after eleven Seals and Opens (-want +got):\n%s", diff)
	}
	for range 3 {
		if _, err := s.Fingerprint("khai minh|1980-02-03|VNM"); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(counts{0, 2}, got()); diff != "" {
		t.Errorf("KMS calls after three Fingerprints (-want +got):\n%s", diff)
	}
	ec := *f.lastCtx.Load()
	want := map[string]string{"haven:keyset": "haven/seal/fingerprint"}
	if diff := cmp.Diff(want, ec); diff != "" {
		t.Errorf("encryption context of the fingerprint keyset unwrap (-want +got):\n%s", diff)
	}
}

// A KMS failure on the first Fingerprint must not stick: a warm container
// would otherwise refuse every referral until it is recycled.
func TestFingerprintRetriesAfterKMSFailure(t *testing.T) {
	s, f := openFakeKMS(t)
	f.down.Store(true)
	if _, err := s.Fingerprint("a|2000-01-01|CAN"); err == nil {
		t.Fatal("Fingerprint with KMS down succeeded")
	}
	f.down.Store(false)
	if _, err := s.Fingerprint("a|2000-01-01|CAN"); err != nil {
		t.Fatalf("Fingerprint after KMS recovered: %v", err)
	}
}

func TestKMSFingerprintStableAcrossSealers(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	otherBlob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	fingerprint := func(blob []byte) string {
		t.Helper()
		s, err := seal.OpenKMS(testKeyARN, blob, f)
		if err != nil {
			t.Fatal(err)
		}
		fp, err := s.Fingerprint("khai minh nguyen thi|1980-02-03|VNM")
		if err != nil {
			t.Fatal(err)
		}
		return fp
	}
	a, b, other := fingerprint(blob), fingerprint(blob), fingerprint(otherBlob)
	if a != b {
		t.Errorf("same keyset, two Sealers: %q vs %q", a, b)
	}
	if a == other {
		t.Error("two generated keysets give the same fingerprint")
	}
}

func TestOpenKMSRejects(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		arn  string
		blob []byte
	}{
		{"empty ARN", "", blob},
		{"not an ARN", "alias/haven", blob},
		{"not a KMS ARN", "arn:aws:s3:::bucket", blob},
		{"empty keyset", testKeyARN, nil},
		{"garbage keyset", testKeyARN, []byte("definitely not a keyset")},
		{"base64 text instead of bytes", testKeyARN, []byte("CiQAxxxx" + "yyyy")},
		{"alias ARN", "arn:aws:kms:ca-central-1:111122223333:alias/haven", blob},
		{"Tink keysets (version 1)", testKeyARN, []byte(`{"v":1,"data":"AAAA","fingerprint":"AAAA"}`)},
		{"unknown version", testKeyARN, []byte(`{"v":3,"data":"AAAA","fingerprint":"AAAA"}`)},
		{"no fingerprint keyset", testKeyARN, []byte(`{"v":2,"data":"AAAA"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.OpenKMS(tt.arn, tt.blob, f); err == nil {
				t.Error("OpenKMS succeeded, want error")
			}
		})
	}
	if _, err := seal.OpenKMS(testKeyARN, blob, nil); err == nil {
		t.Error("OpenKMS without a KMS client succeeded")
	}
	e, d := f.calls()
	if e != int32(len(seal.Purposes)) || d != 0 { // the Encrypts are GenerateKeysets's, one per keyset
		t.Errorf("KMS calls = %d encrypts, %d decrypts; rejections must be offline", e, d)
	}
}

// A keyset wrapped by another KMS key passes the offline check but cannot be
// unwrapped: the first Fingerprint says so.
func TestFingerprintKeysetOfAnotherKey(t *testing.T) {
	ctx := context.Background()
	other := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, other)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.OpenKMS(testKeyARN, blob, newFakeKMS(t, testKeyARN))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fingerprint("a|2000-01-01|CAN"); err == nil {
		t.Error("Fingerprint with a keyset of another KMS key succeeded")
	}
}

// The real SDK client, over HTTP to a KMS stand-in: checks the requests
// Haven makes are ones the KMS protocol carries, and that opening makes none.
func TestOpenKMSWithSDKClientOverHTTP(t *testing.T) {
	f := newFakeKMS(t, testKeyARN)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client := kms.New(kms.Options{
		Region:           "ca-central-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	blob, err := seal.GenerateKeysets(ctx, "aws-kms://"+testKeyARN, client)
	if err != nil {
		t.Fatalf("GenerateKeysets: %v", err)
	}
	requests.Store(0)

	s, err := seal.OpenKMS(testKeyARN, blob, client)
	if err != nil {
		t.Fatalf("OpenKMS: %v", err)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("OpenKMS made %d KMS requests, want 0", n)
	}
	ad := []byte("referral/r1/email")
	ct, err := s.Seal([]byte("defender@example.org"), ad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	got, err := s.Open(ct, ad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !bytes.Equal(got, []byte("defender@example.org")) {
		t.Errorf("Open = %q", got)
	}
	if _, err := s.Open(ct, []byte("referral/r2/email")); err == nil {
		t.Error("Open with other associated data succeeded")
	}
	if _, err := s.Fingerprint("a|2000-01-01|CAN"); err != nil {
		t.Fatalf("Fingerprint: %v", err)
	}
	if n := requests.Load(); n != 2 { // one unwrap of each keyset, however many Seals and Opens
		t.Errorf("KMS requests = %d, want 2", n)
	}
}

// Rotation adds a primary: what the old keyset sealed still opens, new seals
// use the new key (so the old keyset cannot open them), and fingerprints do
// not change.
func TestRotateKeysets(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := seal.RotateKeysets(ctx, testKeyARN, blob, f)
	if err != nil {
		t.Fatalf("RotateKeysets: %v", err)
	}
	open := func(b []byte) *seal.Sealer {
		t.Helper()
		s, err := seal.OpenKMS(testKeyARN, b, f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before, after := open(blob), open(rotated)
	ad := []byte("referral/r1/people")
	old, err := before.Seal([]byte("Đặng Thị Mai"), ad)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := after.Seal([]byte("Đặng Thị Mai"), ad)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		OldOpensWithNew, NewOpensWithNew, NewOpensWithOld bool
		SameKeyID                                         bool
		SameFingerprint                                   bool
	}
	opens := func(s *seal.Sealer, ct []byte) bool { _, err := s.Open(ct, ad); return err == nil }
	fp := func(s *seal.Sealer) string {
		v, err := s.Fingerprint("mai thi dang|1975-05-05|VNM")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	got := result{
		OldOpensWithNew: opens(after, old),
		NewOpensWithNew: opens(after, fresh),
		NewOpensWithOld: opens(before, fresh),
		SameKeyID:       bytes.Equal(old[1:5], fresh[1:5]),
		SameFingerprint: fp(before) == fp(after),
	}
	want := result{OldOpensWithNew: true, NewOpensWithNew: true, SameFingerprint: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after rotation (-want +got):\n%s", diff)
	}
}

// A keyset wrapped for one purpose cannot be unwrapped for the other: the
// encryption context differs, so KMS refuses.
func TestKMSKeysetsBoundToPurpose(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	var ks map[string]any
	if err := json.Unmarshal(blob, &ks); err != nil {
		t.Fatal(err)
	}
	ks["data"], ks["fingerprint"] = ks["fingerprint"], ks["data"]
	swapped, err := json.Marshal(ks)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.OpenKMS(testKeyARN, swapped, f)
	if err != nil {
		t.Fatal(err) // offline checks cannot tell; the unwrap must
	}
	if _, err := s.Seal([]byte("x"), nil); err == nil {
		t.Error("Seal with the fingerprint keyset in the data slot succeeded")
	}
	if _, err := s.Fingerprint("a|2000-01-01|CAN"); err == nil {
		t.Error("Fingerprint with the data keyset in the fingerprint slot succeeded")
	}
}

// The session and cursor keysets rotate with the data keyset but keep only
// the key they replaced: a cookie or cursor of the previous key is still
// accepted, one of the key before is not. The caller key never changes.
// A blob made before these keysets existed gets them on its first rotation.
func TestRotateSessionAndCursorKeysets(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	type gen struct {
		session, cursor [][]byte
		caller          []byte
	}
	read := func(b []byte) gen {
		t.Helper()
		s, err := seal.OpenKMS(testKeyARN, b, f)
		if err != nil {
			t.Fatal(err)
		}
		var g gen
		if g.session, err = s.SessionKeys(); err != nil {
			t.Fatal(err)
		}
		if g.cursor, err = s.CursorKeys(); err != nil {
			t.Fatal(err)
		}
		if g.caller, err = s.CallerKey(); err != nil {
			t.Fatal(err)
		}
		return g
	}
	rotate := func(b []byte) []byte {
		t.Helper()
		out, err := seal.RotateKeysets(ctx, testKeyARN, b, f)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	g0 := read(blob)
	b1 := rotate(blob)
	g1 := read(b1)
	g2 := read(rotate(b1))
	type result struct {
		Lens                   [3]int
		NewPrimary             bool
		PreviousKept           bool
		TwoBackDropped         bool
		CallerSame, CursorSame bool
	}
	got := result{
		Lens:           [3]int{len(g0.session), len(g1.session), len(g2.session)},
		NewPrimary:     !bytes.Equal(g1.session[0], g0.session[0]) && !bytes.Equal(g2.cursor[0], g1.cursor[0]),
		PreviousKept:   bytes.Equal(g2.session[1], g1.session[0]) && bytes.Equal(g2.cursor[1], g1.cursor[0]),
		TwoBackDropped: !slices.ContainsFunc(g2.session, func(k []byte) bool { return bytes.Equal(k, g0.session[0]) }) && !slices.ContainsFunc(g2.cursor, func(k []byte) bool { return bytes.Equal(k, g0.cursor[0]) }),
		CallerSame:     bytes.Equal(g0.caller, g2.caller),
		CursorSame:     bytes.Equal(g0.cursor[0], g2.cursor[0]),
	}
	want := result{Lens: [3]int{1, 2, 2}, NewPrimary: true, PreviousKept: true, TwoBackDropped: true, CallerSame: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rotations (-want +got):\n%s", diff)
	}

	// A blob of the data and fingerprint keysets only, as deployed before.
	var old map[string]any
	if err := json.Unmarshal(blob, &old); err != nil {
		t.Fatal(err)
	}
	delete(old, "session")
	delete(old, "cursor")
	delete(old, "caller")
	legacy, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.OpenKMS(testKeyARN, legacy, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CursorKeys(); err == nil {
		t.Error("CursorKeys of a blob without a cursor keyset succeeded")
	}
	if g := read(rotate(legacy)); len(g.session) != 1 || len(g.cursor) != 1 || len(g.caller) != 32 {
		t.Errorf("rotated legacy blob: %d session keys, %d cursor keys, caller key of %d bytes; want 1, 1, 32", len(g.session), len(g.cursor), len(g.caller))
	}
}

// Rewrapping moves the keysets to another KMS key with the same keys: what
// was sealed before opens, and the old key can no longer unwrap them.
func TestRewrapKeysets(t *testing.T) {
	ctx := context.Background()
	const otherARN = "arn:aws:kms:ca-central-1:111122223333:key/sealing"
	f := newFakeKMS(t, testKeyARN)
	to := newFakeKMS(t, otherARN)
	both := twoKeys{f, to}
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, f)
	if err != nil {
		t.Fatal(err)
	}
	before, err := seal.OpenKMS(testKeyARN, blob, f)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := before.Seal([]byte("Mai"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	moved, err := seal.RewrapKeysets(ctx, testKeyARN, otherARN, blob, both)
	if err != nil {
		t.Fatal(err)
	}
	after, err := seal.OpenKMS(otherARN, moved, to)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := after.Open(ct, []byte("ad")); err != nil || string(pt) != "Mai" {
		t.Errorf("Open after rewrap = %q, %v; want Mai", pt, err)
	}
	stale, err := seal.OpenKMS(testKeyARN, moved, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stale.Open(ct, []byte("ad")); err == nil {
		t.Error("the old KMS key unwrapped the rewrapped keysets")
	}
}

// twoKeys routes each call to the fake key its KeyId names.
type twoKeys struct{ a, b *fakeKMS }

func (k twoKeys) pick(id *string) *fakeKMS {
	if aws.ToString(id) == k.b.keyID {
		return k.b
	}
	return k.a
}

func (k twoKeys) Encrypt(ctx context.Context, in *kms.EncryptInput, o ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	return k.pick(in.KeyId).Encrypt(ctx, in, o...)
}

func (k twoKeys) Decrypt(ctx context.Context, in *kms.DecryptInput, o ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return k.pick(in.KeyId).Decrypt(ctx, in, o...)
}
