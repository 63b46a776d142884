package seal_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/seal"
)

func openTemp(t *testing.T) (*seal.Sealer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyset.json")
	s, err := seal.OpenLocal(path)
	if err != nil {
		t.Fatalf("OpenLocal(%q): %v", path, err)
	}
	return s, path
}

// backends are the two ways to get a Sealer; the behaviour tests run on both.
var backends = []struct {
	name string
	open func(t *testing.T) *seal.Sealer
}{
	{"local", func(t *testing.T) *seal.Sealer { s, _ := openTemp(t); return s }},
	{"kms", func(t *testing.T) *seal.Sealer { s, _ := openFakeKMS(t); return s }},
}

func TestSealOpenRoundTrip(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testSealOpenRoundTrip(t, b.open(t)) })
	}
}

func testSealOpenRoundTrip(t *testing.T, s *seal.Sealer) {
	big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 16<<10)
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"ascii", []byte("Minh Khai Nguyen"), []byte("referral/01J/given_name")},
		{"unicode", []byte("Nguyễn Thị Đặng — +84 912 345 678"), []byte("referral/01J/phone")},
		{"empty plaintext", []byte{}, []byte("referral/01J/notes")},
		{"binary 64 KiB", big, []byte("referral/01J/attachment")},
		{"empty associated data", []byte("x"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := s.Seal(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			// Short plaintexts occur in random bytes by chance; check the rest.
			if len(tt.plaintext) >= 8 && bytes.Contains(ct, tt.plaintext) {
				t.Errorf("ciphertext contains the plaintext")
			}
			got, err := s.Open(ct, tt.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(tt.plaintext, got, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("Open(Seal(p)) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testOpenRejects(t, b.open(t), b.open(t)) })
	}
}

func testOpenRejects(t *testing.T, s, other *seal.Sealer) {
	ad := []byte("referral/01JAAA/given_name")
	ct, err := s.Seal([]byte("Minh Khai"), ad)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(ct)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name   string
		sealer *seal.Sealer
		ct     []byte
		ad     []byte
	}{
		{"other field of the same referral", s, ct, []byte("referral/01JAAA/family_name")},
		{"same field of another referral", s, ct, []byte("referral/01JBBB/given_name")},
		{"no associated data", s, ct, nil},
		{"flipped bit", s, flipped, ad},
		{"truncated", s, ct[:len(ct)/2], ad},
		{"empty", s, nil, ad},
		{"garbage", s, []byte("not a ciphertext at all"), ad},
		{"another keyset", other, ct, ad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.sealer.Open(tt.ct, tt.ad); err == nil {
				t.Errorf("Open succeeded with %q, want error", got)
			}
		})
	}
}

// A ciphertext copied from one field into another must not open there: the
// swap attack associated data exists to stop.
func TestFieldSwapRejected(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testFieldSwapRejected(t, b.open(t)) })
	}
}

func testFieldSwapRejected(t *testing.T, s *seal.Sealer) {
	given, err := s.Seal([]byte("Minh"), []byte("referral/r1/given_name"))
	if err != nil {
		t.Fatal(err)
	}
	family, err := s.Seal([]byte("Nguyen"), []byte("referral/r1/family_name"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(given, []byte("referral/r1/family_name")); err == nil {
		t.Error("given-name ciphertext opened as family_name")
	}
	if _, err := s.Open(family, []byte("referral/r1/given_name")); err == nil {
		t.Error("family-name ciphertext opened as given_name")
	}
}

func TestSealIsRandomised(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testSealIsRandomised(t, b.open(t)) })
	}
}

func testSealIsRandomised(t *testing.T, s *seal.Sealer) {
	ad := []byte("referral/r1/nationality")
	a, err := s.Seal([]byte("VNM"), ad)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Seal([]byte("VNM"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are equal; equal values would show as equal ciphertexts")
	}
}

func TestZeroSealerFails(t *testing.T) {
	var s seal.Sealer
	if _, err := s.Seal([]byte("x"), nil); err == nil {
		t.Error("Seal on zero Sealer: want error")
	}
	if _, err := s.Open([]byte("x"), nil); err == nil {
		t.Error("Open on zero Sealer: want error")
	}
	if _, err := s.Fingerprint("x"); err == nil {
		t.Error("Fingerprint on zero Sealer: want error")
	}
}

func TestFingerprint(t *testing.T) {
	s, path := openTemp(t)
	other, _ := openTemp(t)
	a := seal.NormaliseIdentity("Minh Khai", "Nguyễn Thị", "1980-02-03", "VNM")
	b := seal.NormaliseIdentity("Minh Khai", "Nguyễn Thị", "1980-02-04", "VNM")

	fa, err := s.Fingerprint(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa) != 43 {
		t.Errorf("len(Fingerprint) = %d, want 43 (32 bytes base64url)", len(fa))
	}
	if again, _ := s.Fingerprint(a); again != fa {
		t.Errorf("Fingerprint not stable: %q then %q", fa, again)
	}
	if fb, _ := s.Fingerprint(b); fb == fa {
		t.Error("different identities have the same fingerprint")
	}
	if fo, _ := other.Fingerprint(a); fo == fa {
		t.Error("different keys give the same fingerprint; it is not keyed")
	}
	reopened, err := seal.OpenLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	if fr, _ := reopened.Fingerprint(a); fr != fa {
		t.Errorf("Fingerprint after reopen = %q, want %q", fr, fa)
	}
	if _, err := s.Fingerprint(""); err == nil {
		t.Error("Fingerprint(\"\"): want error")
	}
}

// Run with -race: a Sealer is shared by every request of a warm Lambda.
func TestConcurrentUse(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testConcurrentUse(t, b.open(t)) })
	}
}

func testConcurrentUse(t *testing.T, s *seal.Sealer) {
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			ad := fmt.Appendf(nil, "referral/r%d/given_name", i)
			pt := fmt.Appendf(nil, "name %d", i)
			ct, err := s.Seal(pt, ad)
			if err != nil {
				errs <- err
				return
			}
			got, err := s.Open(ct, ad)
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(got, pt) {
				errs <- fmt.Errorf("goroutine %d: got %q", i, got)
				return
			}
			if _, err := s.Fingerprint(string(pt)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOpenLocalCreatesPrivateFileAndReusesIt(t *testing.T) {
	s, path := openTemp(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("keyset file mode = %#o, want 0600", got)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("referral/r1/email")
	ct, err := s.Seal([]byte("defender@example.org"), ad)
	if err != nil {
		t.Fatal(err)
	}

	reopened, err := seal.OpenLocal(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	got, err := reopened.Open(ct, ad)
	if err != nil {
		t.Fatalf("Open after reopen: %v", err)
	}
	if diff := cmp.Diff("defender@example.org", string(got)); diff != "" {
		t.Errorf("Open after reopen (-want +got):\n%s", diff)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("reopening rewrote the keyset file")
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the keyset file (temporary file left behind?)", len(entries))
	}
}

func TestOpenLocalCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "keys", "keyset.json")
	if _, err := seal.OpenLocal(path); err != nil {
		t.Fatalf("OpenLocal(%q): %v", path, err)
	}
	info, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("created directory mode = %#o, want 0700", got)
	}
}

// Processes starting together must agree on one set of keys.
func TestOpenLocalConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyset.json")
	const n = 8
	sealers := make([]*seal.Sealer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { sealers[i], errs[i] = seal.OpenLocal(path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("OpenLocal #%d: %v", i, err)
		}
	}
	ad := []byte("referral/r1/phone")
	ct, err := sealers[0].Seal([]byte("+1 555 0100"), ad)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sealers[1:] {
		if _, err := s.Open(ct, ad); err != nil {
			t.Errorf("sealer #%d cannot open #0's ciphertext: %v", i+1, err)
		}
	}
}

func TestOpenLocalRejects(t *testing.T) {
	tests := []struct {
		name    string
		content func(t *testing.T) string
		mode    os.FileMode
	}{
		{"readable by others", func(t *testing.T) string { return validFile(t, false) }, 0o644},
		{"not JSON", func(*testing.T) string { return "hello" }, 0o600},
		{"missing fingerprint keyset", func(t *testing.T) string {
			return replaceOnce(t, validFile(t, false), `"fingerprint":`, `"unused":`)
		}, 0o600},
		{"unknown member", func(t *testing.T) string {
			return replaceOnce(t, validFile(t, false), `"comment":`, `"extra": 1, "comment":`)
		}, 0o600},
		{"keysets swapped", func(t *testing.T) string { return validFile(t, true) }, 0o600},
		{"Tink keysets of an older Haven", func(t *testing.T) string {
			return `{"comment": "", "aead": {"primaryKeyId": 1}, "fingerprint": {"primaryKeyId": 2}}`
		}, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyset.json")
			if err := os.WriteFile(path, []byte(tt.content(t)), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // WriteFile honours umask
				t.Fatal(err)
			}
			if _, err := seal.OpenLocal(path); err == nil {
				t.Error("OpenLocal succeeded, want error")
			}
		})
	}
	if _, err := seal.OpenLocal(""); err == nil {
		t.Error("OpenLocal(\"\") succeeded, want error")
	}
}

// validFile returns the content of a freshly made keyset file, optionally
// with its two keysets swapped (an AEAD keyset where the PRF belongs).
func validFile(t *testing.T, swap bool) string {
	t.Helper()
	_, path := openTemp(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !swap {
		return string(data)
	}
	s := string(data)
	s = replaceOnce(t, s, `"data":`, `"tmp":`)
	s = replaceOnce(t, s, `"fingerprint":`, `"data":`)
	return replaceOnce(t, s, `"tmp":`, `"fingerprint":`)
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	i := strings.Index(s, old)
	if i < 0 {
		t.Fatalf("%q not in keyset file", old)
	}
	return s[:i] + new + s[i+len(old):]
}
