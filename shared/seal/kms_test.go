package seal_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/seal"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

const testKeyARN = "arn:aws:kms:ca-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// fakeKMS stands in for one symmetric KMS key: it encrypts with a local Tink
// AEAD bound to the key id and encryption context, as KMS binds them, and
// counts calls so tests can see when the network would be used.
type fakeKMS struct {
	keyID    string
	aead     tink.AEAD
	encrypts atomic.Int32
	decrypts atomic.Int32
	down     atomic.Bool
	lastCtx  atomic.Pointer[map[string]string]
}

func newFakeKMS(t *testing.T, keyID string) *fakeKMS {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	a, err := aead.New(h)
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
	ct, err := f.aead.Encrypt(in.Plaintext, ad)
	if err != nil {
		return nil, err
	}
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
	pt, err := f.aead.Decrypt(in.CiphertextBlob, ad)
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
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, seal.WithKMSClient(f))
	if err != nil {
		t.Fatalf("GenerateKeysets: %v", err)
	}
	s, err := seal.OpenKMS(ctx, testKeyARN, blob, seal.WithKMSClient(f))
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
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, seal.WithKMSClient(f))
	if err != nil {
		t.Fatal(err)
	}
	f.encrypts.Store(0)
	f.decrypts.Store(0)

	type counts struct{ Encrypts, Decrypts int32 }
	got := func() counts { e, d := f.calls(); return counts{e, d} }

	s, err := seal.OpenKMS(ctx, testKeyARN, blob, seal.WithKMSClient(f))
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
	want := map[string]string{"associatedData": hex.EncodeToString([]byte("haven/seal/fingerprint-keyset/v1"))}
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
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, seal.WithKMSClient(f))
	if err != nil {
		t.Fatal(err)
	}
	otherBlob, err := seal.GenerateKeysets(ctx, testKeyARN, seal.WithKMSClient(f))
	if err != nil {
		t.Fatal(err)
	}
	fingerprint := func(blob []byte) string {
		t.Helper()
		s, err := seal.OpenKMS(ctx, testKeyARN, blob, seal.WithKMSClient(f))
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
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, seal.WithKMSClient(f))
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.OpenKMS(ctx, tt.arn, tt.blob, seal.WithKMSClient(f)); err == nil {
				t.Error("OpenKMS succeeded, want error")
			}
		})
	}
	e, d := f.calls()
	if e != 2 || d != 0 { // the two Encrypts are GenerateKeysets's
		t.Errorf("KMS calls = %d encrypts, %d decrypts; rejections must be offline", e, d)
	}
}

// A keyset wrapped by another KMS key passes the offline check but cannot be
// unwrapped: the first Fingerprint says so.
func TestFingerprintKeysetOfAnotherKey(t *testing.T) {
	ctx := context.Background()
	other := newFakeKMS(t, testKeyARN)
	blob, err := seal.GenerateKeysets(ctx, testKeyARN, seal.WithKMSClient(other))
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.OpenKMS(ctx, testKeyARN, blob, seal.WithKMSClient(newFakeKMS(t, testKeyARN)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fingerprint("a|2000-01-01|CAN"); err == nil {
		t.Error("Fingerprint with a keyset of another KMS key succeeded")
	}
}

// Without WithKMSClient, OpenKMS builds the SDK client from the default AWS
// configuration. Pointed at a local KMS stand-in over HTTP, this checks the
// real client path end to end and that it, too, makes no call at init.
func TestOpenKMSDefaultClientOverHTTP(t *testing.T) {
	f := newFakeKMS(t, testKeyARN)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_KMS":        srv.URL,
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "1",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	blob, err := seal.GenerateKeysets(ctx, "aws-kms://"+testKeyARN)
	if err != nil {
		t.Fatalf("GenerateKeysets: %v", err)
	}
	requests.Store(0)

	s, err := seal.OpenKMS(ctx, testKeyARN, blob)
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
