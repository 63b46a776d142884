package export

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"iter"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/infra/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// memBucket is an in-memory Uploader.
type memBucket struct {
	mu      sync.Mutex
	objects map[string][]byte
	order   []string
	fail    string // a key whose upload fails after reading a little
}

func (m *memBucket) Upload(_ context.Context, key, _ string, body io.Reader) error {
	if key == m.fail {
		io.CopyN(io.Discard, body, 10)
		return errors.New("injected upload failure")
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects == nil {
		m.objects = map[string][]byte{}
	}
	m.objects[key] = b
	m.order = append(m.order, key)
	return nil
}

func (m *memBucket) open(_ context.Context, key string) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.objects[key])), nil
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func intp(n int) *int { return &n }

// fixtureRows covers the CSV edge cases: commas, quotes, line breaks and
// non-ASCII in the partner's own reference, no period, several reasons.
var fixtureRows = []Row{
	{ID: "01JDAAAAAAAAAAAAAAAAAAAAAA", PartnerReference: "UNHCR-2026-001", Stream: "hrd", Period: intp(2026), Status: "allocated", Urgency: "emergency", Persons: 5, Reasons: []string{}, CreatedAt: ts("2026-03-03T15:00:00Z"), UpdatedAt: ts("2026-03-05T14:00:00.123456Z")},
	{ID: "01JDBBBBBBBBBBBBBBBBBBBBBB", PartnerReference: `ref, with "quotes"`, Stream: "hrd", Status: "submitted", Urgency: "normal", Persons: 1, Reasons: []string{}, CreatedAt: ts("2026-11-26T15:00:00Z"), UpdatedAt: ts("2026-11-26T15:00:00Z")},
	{ID: "01JDCCCCCCCCCCCCCCCCCCCCCC", PartnerReference: "Réf\nmulti-ligne", Stream: "hrd-temporary", Status: "ineligible", Urgency: "urgent", Persons: 3, Reasons: []string{"not-a-defender", "outside-mandate"}, CreatedAt: ts("2026-05-01T15:00:00Z"), UpdatedAt: ts("2026-05-09T15:00:00Z")},
}

func seq(rows []Row, err error) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
		if err != nil {
			yield(Row{}, err)
		}
	}
}

func TestExportGolden(t *testing.T) {
	var b memBucket
	job := Job{Partner: "unhcr", Day: "2026-11-27", Now: ts("2026-11-27T08:00:00Z")}
	m, err := job.Run(context.Background(), &b, seq(fixtureRows, nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"unhcr/2026-11-27/manifest.json"}, b.order[2:]); diff != "" {
		t.Errorf("the manifest must be written last (-want +got):\n%s", diff)
	}
	for _, name := range []string{CSVName, JSONLName, ManifestName} {
		t.Run(name, func(t *testing.T) {
			golden(t, filepath.Join("testdata", name), b.objects["unhcr/2026-11-27/"+name])
		})
	}
	if err := Verify(context.Background(), m, b.open); err != nil {
		t.Errorf("verify: %v", err)
	}
	for _, f := range m.Files {
		if f.Rows != len(fixtureRows) {
			t.Errorf("%s: rows %d, want %d", f.Key, f.Rows, len(fixtureRows))
		}
	}
}

func TestExportEmpty(t *testing.T) {
	var b memBucket
	m, err := Job{Partner: "p", Day: "2026-11-27", Now: ts("2026-11-27T08:00:00Z")}.Run(context.Background(), &b, seq(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Key: "p/2026-11-27/referrals.csv", SHA256: "", Rows: 0, Bytes: int64(len(strings.Join(Columns, ",")) + 2)},
		{Key: "p/2026-11-27/referrals.jsonl", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Rows: 0, Bytes: 0},
	}
	if diff := cmp.Diff(want, m.Files, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".SHA256" && p.Index(-2).String() == "[0]" }, cmp.Ignore())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := Verify(context.Background(), m, b.open); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// A failure anywhere leaves no manifest: a partner never sees a manifest
// that names a file that was not completely written.
func TestExportFailureWritesNoManifest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   string
		rowErr error
	}{
		{"source fails", "", errors.New("query failed")},
		{"csv upload fails", "p/d/referrals.csv", nil},
		{"jsonl upload fails", "p/d/referrals.jsonl", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := memBucket{fail: tc.fail}
			done := make(chan error, 1)
			go func() {
				_, err := Job{Partner: "p", Day: "d", Now: time.Now()}.Run(context.Background(), &b, seq(fixtureRows, tc.rowErr))
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("Run succeeded")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run hangs after a failure")
			}
			if _, ok := b.objects["p/d/manifest.json"]; ok {
				t.Error("manifest written after a failure")
			}
		})
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	var b memBucket
	m, err := Job{Partner: "p", Day: "d", Now: time.Now()}.Run(context.Background(), &b, seq(fixtureRows, nil))
	if err != nil {
		t.Fatal(err)
	}
	b.objects["p/d/referrals.jsonl"] = append(b.objects["p/d/referrals.jsonl"], "{}\n"...)
	if err := Verify(context.Background(), m, b.open); err == nil {
		t.Error("Verify accepted a changed file")
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	testenv.Golden(t, path, got, *update)
}

// Golden lets the end-to-end tests (package export_test) share golden and
// its -update flag.
func Golden(t *testing.T, path string, got []byte) { t.Helper(); golden(t, path, got) }
