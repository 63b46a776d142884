package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
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
	// inMemory records, for each key uploaded, whether its body came whole
	// in memory (a *bytes.Reader) rather than streamed.
	inMemory map[string]bool
}

func (m *memBucket) Upload(_ context.Context, key, _ string, body io.Reader) error {
	_, mem := body.(*bytes.Reader)
	m.mu.Lock()
	if m.inMemory == nil {
		m.inMemory = map[string]bool{}
	}
	m.inMemory[key] = mem
	m.mu.Unlock()
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
	{ID: "01JDCCCCCCCCCCCCCCCCCCCCCC", PartnerReference: "Réf\nmulti-ligne", Stream: "hrd-temporary", Status: "ineligible", Urgency: "urgent", Persons: 3, Reasons: []string{"not-a-human-rights-defender", "outside-referral-criteria"}, CreatedAt: ts("2026-05-01T15:00:00Z"), UpdatedAt: ts("2026-05-09T15:00:00Z")},
	// A reference a spreadsheet would run: quoted in the CSV, as typed in JSON Lines.
	{ID: "01JDDDDDDDDDDDDDDDDDDDDDDD", PartnerReference: "-1+cmd|' /C calc'!A0", Stream: "hrd", Status: "submitted", Urgency: "normal", Persons: 1, Reasons: []string{}, CreatedAt: ts("2026-11-26T16:00:00Z"), UpdatedAt: ts("2026-11-26T16:00:00Z")},
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
		rows   []Row
		fail   string
		rowErr error
	}{
		{"source fails", fixtureRows, "", errors.New("query failed")},
		{"csv upload fails", fixtureRows, "p/d/referrals.csv", nil},
		{"jsonl upload fails", fixtureRows, "p/d/referrals.jsonl", nil},
		// Files past flushSize are being streamed when the failure comes.
		{"source fails while streaming", manyRows(2000), "", errors.New("query failed")},
		{"streamed csv upload fails", manyRows(2000), "p/d/referrals.csv", nil},
		{"streamed jsonl upload fails", manyRows(2000), "p/d/referrals.jsonl", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := memBucket{fail: tc.fail}
			done := make(chan error, 1)
			go func() {
				_, err := Job{Partner: "p", Day: "d", Now: ts("2026-11-27T08:00:00Z")}.Run(context.Background(), &b, seq(tc.rows, tc.rowErr))
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
			// A failed source leaves no file either: a streamed upload
			// sees the error, not the end of its body.
			if tc.rowErr != nil {
				for _, name := range []string{CSVName, JSONLName} {
					if _, ok := b.objects["p/d/"+name]; ok {
						t.Errorf("%s written though its rows failed", name)
					}
				}
			}
		})
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	var b memBucket
	m, err := Job{Partner: "p", Day: "d", Now: ts("2026-11-27T08:00:00Z")}.Run(context.Background(), &b, seq(fixtureRows, nil))
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

// manyRows returns n distinct rows like the fixture's.
func manyRows(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		r := fixtureRows[i%len(fixtureRows)]
		r.ID = fmt.Sprintf("01JD%022d", i)
		rows[i] = r
	}
	return rows
}

// files renders rows as the export's two files.
func files(t *testing.T, rows []Row) (csvFile, jsonlFile []byte) {
	t.Helper()
	var c, j bytes.Buffer
	cw, err := NewCSVWriter(&c)
	if err != nil {
		t.Fatal(err)
	}
	jw := NewJSONLWriter(&j)
	for _, r := range rows {
		if err := cw.Write(r); err != nil {
			t.Fatal(err)
		}
		if err := jw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	return c.Bytes(), j.Bytes()
}

// A file that ends within flushSize is uploaded whole from memory (no pipe,
// no goroutine, no uploader buffer); a larger one is streamed. Either way
// the uploaded bytes, their hash and count in the manifest, and the
// manifest's coming last are the same.
func TestExportSmallFilesFromMemory(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		rows                       int
		csvStreamed, jsonlStreamed bool
	}{
		{"no rows", 0, false, false},
		{"a few rows", 3, false, false},
		{"the JSON Lines outgrow the buffer", 300, false, true},
		{"both outgrow the buffer several times", 2000, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := manyRows(tc.rows)
			wantCSV, wantJSONL := files(t, rows)
			// The case covers what it says, whatever the size of a row.
			if got := len(wantCSV) > flushSize; got != tc.csvStreamed {
				t.Fatalf("CSV of %d bytes: streamed %v, case says %v", len(wantCSV), got, tc.csvStreamed)
			}
			if got := len(wantJSONL) > flushSize; got != tc.jsonlStreamed {
				t.Fatalf("JSON Lines of %d bytes: streamed %v, case says %v", len(wantJSONL), got, tc.jsonlStreamed)
			}
			var b memBucket
			m, err := Job{Partner: "p", Day: "d", Now: ts("2026-11-27T08:00:00Z")}.Run(context.Background(), &b, seq(rows, nil))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				key      string
				want     []byte
				streamed bool
			}{
				{"p/d/" + CSVName, wantCSV, tc.csvStreamed},
				{"p/d/" + JSONLName, wantJSONL, tc.jsonlStreamed},
				{"p/d/" + ManifestName, nil, false},
			} {
				if f.want != nil && !bytes.Equal(b.objects[f.key], f.want) {
					t.Errorf("%s: %d bytes uploaded, want %d", f.key, len(b.objects[f.key]), len(f.want))
				}
				if got := !b.inMemory[f.key]; got != f.streamed {
					t.Errorf("%s: streamed %v, want %v", f.key, got, f.streamed)
				}
			}
			if got := b.order[len(b.order)-1]; got != "p/d/"+ManifestName {
				t.Errorf("last upload %s, want the manifest", got)
			}
			for i, want := range [][]byte{wantCSV, wantJSONL} {
				f := m.Files[i]
				if f.Bytes != int64(len(want)) || f.Rows != tc.rows || f.SHA256 != fmt.Sprintf("%x", sha256.Sum256(want)) {
					t.Errorf("manifest entry %+v does not describe the %d bytes, %d rows uploaded", f, len(want), tc.rows)
				}
			}
			if err := Verify(context.Background(), m, b.open); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// The sink hands the upload exactly what was written, however it was
// written: whole from memory up to flushSize bytes, streamed past it.
func TestSinkSizes(t *testing.T) {
	for _, tc := range []struct {
		size, chunk int
		streamed    bool
	}{
		{0, 1, false},
		{1, 1, false},
		{flushSize - 1, 1000, false},
		{flushSize, flushSize, false},
		{flushSize, 7, false},
		{flushSize + 1, flushSize + 1, true},
		{flushSize + 1, 4096, true},
		{3*flushSize + 5, 10_000, true},
	} {
		t.Run(fmt.Sprintf("%d bytes by %d", tc.size, tc.chunk), func(t *testing.T) {
			want := make([]byte, tc.size)
			for i := range want {
				want[i] = byte(i % 251)
			}
			var b memBucket
			s := newSink(context.Background(), &b, "k", "application/octet-stream")
			for p := want; len(p) > 0; {
				k := min(tc.chunk, len(p))
				if n, err := s.Write(p[:k]); n != k || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
				p = p[k:]
			}
			if err := s.finish(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.objects["k"], want) {
				t.Errorf("uploaded %d bytes, want the %d written", len(b.objects["k"]), len(want))
			}
			if got := !b.inMemory["k"]; got != tc.streamed {
				t.Errorf("streamed %v, want %v", got, tc.streamed)
			}
			if f := s.file(0); f.Bytes != int64(tc.size) || f.SHA256 != fmt.Sprintf("%x", sha256.Sum256(want)) {
				t.Errorf("file %+v does not describe the bytes written", f)
			}
			if cap(s.buf) > flushSize {
				t.Errorf("buffer of %d bytes, want at most %d", cap(s.buf), flushSize)
			}
		})
	}
}
