// Package export writes a partner's daily file of its own referrals: the
// same rows as CSV (RFC 4180) and as JSON Lines, streamed to storage while
// their SHA-256 is computed, then a manifest naming each file's key, hash,
// rows and bytes, written last.
//
// A row carries only what identifies no one: ids, the partner's own
// reference, stream, period, status, urgency, persons, reason codes and
// dates. Row has no field for a name, contact, summary, date of birth or
// country of asylum, so none can reach a file.
package export

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hrd/haven/shared/referral"
)

// SchemaVersion is the version of the row and manifest layout. Bump it when
// a column changes meaning or disappears; adding a column at the end is
// version-compatible.
const SchemaVersion = 1

// Row is one referral as a partner's export shows it.
type Row struct {
	ID               string `json:"id"`
	PartnerReference string `json:"partner_reference"`
	Stream           string `json:"stream"`
	// Period is the quota year the referral holds or waits for; null before.
	Period    *int      `json:"period"`
	Status    string    `json:"status"`
	Urgency   string    `json:"urgency"`
	Persons   int       `json:"persons"`
	Reasons   []string  `json:"reasons"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// FromReferral keeps the fields of r an export may carry.
func FromReferral(r referral.Referral) Row {
	row := Row{
		ID: r.ID, PartnerReference: r.PartnerReference, Stream: r.Stream,
		Status: string(r.Status), Urgency: string(r.Urgency), Persons: r.Persons,
		Reasons: r.Reasons, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Period != 0 {
		p := r.Period
		row.Period = &p
	}
	if row.Reasons == nil {
		row.Reasons = []string{}
	}
	return row
}

// Columns is the CSV header, in order.
var Columns = []string{"id", "partner_reference", "stream", "period", "status", "urgency", "persons", "reasons", "created_at", "updated_at"}

// timeLayout is RFC 3339 in UTC with fixed millisecond precision, so that
// the text sorts as the time does.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func (r Row) record() []string {
	period := ""
	if r.Period != nil {
		period = strconv.Itoa(*r.Period)
	}
	return []string{
		r.ID, r.PartnerReference, r.Stream, period, r.Status, r.Urgency, strconv.Itoa(r.Persons),
		strings.Join(r.Reasons, ";"), r.CreatedAt.UTC().Format(timeLayout), r.UpdatedAt.UTC().Format(timeLayout),
	}
}

// jsonRow fixes the JSON form of the dates to the CSV's.
type jsonRow struct {
	Row
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// CSVWriter writes rows as RFC 4180 CSV: a header row, CRLF line ends,
// UTF-8, fields quoted when they hold a comma, quote or line break.
type CSVWriter struct{ w *csv.Writer }

// NewCSVWriter writes the header to w.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	c := csv.NewWriter(w)
	c.UseCRLF = true
	if err := c.Write(Columns); err != nil {
		return nil, err
	}
	return &CSVWriter{w: c}, nil
}

// Write writes one row.
func (c *CSVWriter) Write(r Row) error { return c.w.Write(r.record()) }

// Flush writes any buffered data.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// JSONLWriter writes rows as JSON Lines: one object per line, LF ends.
type JSONLWriter struct{ e *json.Encoder }

// NewJSONLWriter writes to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return &JSONLWriter{e: e}
}

// Write writes one row.
func (j *JSONLWriter) Write(r Row) error {
	return j.e.Encode(jsonRow{Row: r, CreatedAt: r.CreatedAt.UTC().Format(timeLayout), UpdatedAt: r.UpdatedAt.UTC().Format(timeLayout)})
}

// File is a manifest entry.
type File struct {
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
}

// Manifest describes one partner's files of one day. It is written after
// the files, so a manifest names only complete files; a partner that finds
// a file whose hash differs from its manifest is looking at a re-run in
// progress and should read again.
type Manifest struct {
	Partner       string    `json:"partner"`
	GeneratedAt   time.Time `json:"generated_at"`
	SchemaVersion int       `json:"schema_version"`
	Files         []File    `json:"files"`
}

// Uploader stores a streamed object, replacing any object at key.
type Uploader interface {
	Upload(ctx context.Context, key, contentType string, body io.Reader) error
}

// Keys of a partner's files of a day.
func Prefix(partner, day string) string { return partner + "/" + day + "/" }

// File names under Prefix.
const (
	CSVName      = "referrals.csv"
	JSONLName    = "referrals.jsonl"
	ManifestName = "manifest.json"
)

// ProgressEvery is how many rows pass between two progress log lines.
const ProgressEvery = 10_000

// Job is one partner's export of one day.
type Job struct {
	Partner string
	// Day is the date of the export, YYYY-MM-DD (America/Toronto).
	Day string
	// Now stamps the manifest.
	Now time.Time
	// Log receives progress (counts only, never a row).
	Log *slog.Logger
}

// sink is one file being uploaded: what is written to it goes into the
// upload's pipe and the hash, and is counted.
type sink struct {
	key   string
	pw    *io.PipeWriter
	buf   *bufio.Writer
	hash  hashWriter
	bytes int64
	done  chan error
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func (s *sink) Write(p []byte) (int, error) {
	n, err := s.pw.Write(p)
	s.hash.Write(p[:n])
	s.bytes += int64(n)
	return n, err
}

func (s *sink) file(rows int) File {
	return File{Key: s.key, SHA256: hex.EncodeToString(s.hash.Sum(nil)), Rows: rows, Bytes: s.bytes}
}

// start begins uploading what is written to the returned sink. The upload
// reads from a pipe: memory is the uploader's part buffers, not the file.
func start(ctx context.Context, up Uploader, key, contentType string) *sink {
	pr, pw := io.Pipe()
	s := &sink{key: key, pw: pw, hash: sha256.New(), done: make(chan error, 1)}
	s.buf = bufio.NewWriterSize(s, 64<<10)
	go func() {
		err := up.Upload(ctx, key, contentType, pr)
		// Unblock the writer whatever happened: after a failure its writes
		// fail instead of waiting for a reader that is gone.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(errUploadEnded)
		}
		s.done <- err
	}()
	return s
}

var errUploadEnded = errors.New("upload ended before its body")

// wait returns the upload's outcome.
func (s *sink) wait() error { return <-s.done }

// Run writes the export of rows (the partner's referrals) and then its
// manifest, and returns the manifest. Both files are written in one pass
// over rows, so they hold the same referrals. Re-running for the same day
// replaces the three objects; the manifest always comes last.
func (j Job) Run(ctx context.Context, up Uploader, rows iter.Seq2[Row, error]) (Manifest, error) {
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := Prefix(j.Partner, j.Day)
	csvSink := start(ctx, up, prefix+CSVName, "text/csv; charset=utf-8; header=present")
	jsonSink := start(ctx, up, prefix+JSONLName, "application/jsonl; charset=utf-8")
	n, werr := j.write(csvSink, jsonSink, rows, log)
	if werr != nil {
		// Abort both uploads: their readers see the error, not an end.
		csvSink.pw.CloseWithError(werr)
		jsonSink.pw.CloseWithError(werr)
		cancel()
	} else {
		csvSink.pw.Close()
		jsonSink.pw.Close()
	}
	cerr, jerr := csvSink.wait(), jsonSink.wait()
	if werr != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", j.Partner, werr)
	}
	if err := errors.Join(cerr, jerr); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", j.Partner, err)
	}
	m := Manifest{
		Partner: j.Partner, GeneratedAt: j.Now.UTC(), SchemaVersion: SchemaVersion,
		Files: []File{csvSink.file(n), jsonSink.file(n)},
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	b = append(b, '\n')
	if err := up.Upload(ctx, prefix+ManifestName, "application/json", bytes.NewReader(b)); err != nil {
		return Manifest{}, fmt.Errorf("export %s: manifest: %w", j.Partner, err)
	}
	log.Info("export written", "partner", j.Partner, "day", j.Day, "rows", n, "csv_bytes", csvSink.bytes, "jsonl_bytes", jsonSink.bytes)
	return m, nil
}

func (j Job) write(csvSink, jsonSink *sink, rows iter.Seq2[Row, error], log *slog.Logger) (int, error) {
	cw, err := NewCSVWriter(csvSink.buf)
	if err != nil {
		return 0, err
	}
	jw := NewJSONLWriter(jsonSink.buf)
	n := 0
	for row, err := range rows {
		if err != nil {
			return n, err
		}
		if err := cw.Write(row); err != nil {
			return n, err
		}
		if err := jw.Write(row); err != nil {
			return n, err
		}
		n++
		if n%ProgressEvery == 0 {
			log.Info("export progress", "partner", j.Partner, "day", j.Day, "rows_done", n)
		}
	}
	if err := cw.Flush(); err != nil {
		return n, err
	}
	if err := csvSink.buf.Flush(); err != nil {
		return n, err
	}
	if err := jsonSink.buf.Flush(); err != nil {
		return n, err
	}
	return n, nil
}

// Verify checks files against a manifest by re-reading and re-hashing them
// (and counting their rows); open reads an object.
func Verify(ctx context.Context, m Manifest, open func(ctx context.Context, key string) (io.ReadCloser, error)) error {
	for _, f := range m.Files {
		if err := verifyFile(ctx, f, open); err != nil {
			return err
		}
	}
	return nil
}

func verifyFile(ctx context.Context, f File, open func(ctx context.Context, key string) (io.ReadCloser, error)) error {
	rc, err := open(ctx, f.Key)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	c := &countWriter{w: h}
	r := io.TeeReader(rc, c)
	rows := 0
	if path.Ext(f.Key) == ".csv" {
		cr := csv.NewReader(r)
		cr.ReuseRecord = true
		for {
			if _, err := cr.Read(); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
			rows++
		}
		rows-- // the header
	} else {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			rows++
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", f.Key, err)
		}
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("%s: %w", f.Key, err)
	}
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case got != f.SHA256:
		return fmt.Errorf("%s: sha256 %s, manifest says %s", f.Key, got, f.SHA256)
	case c.n != f.Bytes:
		return fmt.Errorf("%s: %d bytes, manifest says %d", f.Key, c.n, f.Bytes)
	case rows != f.Rows:
		return fmt.Errorf("%s: %d rows, manifest says %d", f.Key, rows, f.Rows)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}
