// Package export writes a partner's daily file of its own referrals: the
// same rows as CSV (RFC 4180) and as JSON Lines, hashed (SHA-256) on their
// way to storage (a small file in one piece, a large one streamed), then a
// manifest naming each file's key, hash, rows and bytes, written last.
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
	"hash"
	"io"
	"iter"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haven-hrd/haven/shared/csvsafe"
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
	// Every text cell goes through csvsafe.Text, not only the partner's own
	// reference: a value that cannot start a formula today is left as it is,
	// and one that someday could is caught. Numbers and dates Haven formats
	// itself stay numbers and dates.
	t := csvsafe.Text
	return []string{
		t(r.ID), t(r.PartnerReference), t(r.Stream), period, t(r.Status), t(r.Urgency), strconv.Itoa(r.Persons),
		t(strings.Join(r.Reasons, ";")), r.CreatedAt.UTC().Format(timeLayout), r.UpdatedAt.UTC().Format(timeLayout),
	}
}

// jsonRow fixes the JSON form of the dates to the CSV's.
type jsonRow struct {
	Row
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// CSVWriter writes rows as RFC 4180 CSV: a header row, CRLF line ends,
// UTF-8, fields quoted when they hold a comma, quote or line break, and a
// text cell a spreadsheet would run as a formula prefixed with a single
// quote (shared/csvsafe). The JSON Lines file carries the text as it is.
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

// flushSize is how much of a file is held in memory before it is handed to
// its upload. A file that ends within it (a partner's export of up to a few
// hundred referrals) is uploaded from memory once complete: no pipe, no
// goroutine reading it, no buffer but its own bytes, which grow with the
// file. A larger file is streamed to its upload through a pipe, flushSize
// bytes at a time, so that memory stays bounded whatever the number of
// rows: this buffer plus the uploader's (s3store: one part buffer).
const flushSize = 64 << 10

// sink is one file of an export. What is written to it is held in buf,
// then hashed, counted and handed to the upload: at the end when the whole
// file fits in buf, else by flushSize chunks through a pipe.
type sink struct {
	ctx         context.Context
	up          Uploader
	key         string
	contentType string
	// buf holds what was written and not yet handed to the upload; its
	// capacity grows with the file up to flushSize.
	buf   []byte
	hash  hash.Hash
	bytes int64
	// pw is set once the file has outgrown flushSize: the upload, started
	// then, reads from the other end and sends its outcome on done.
	pw   *io.PipeWriter
	done chan error
}

func newSink(ctx context.Context, up Uploader, key, contentType string) *sink {
	return &sink{ctx: ctx, up: up, key: key, contentType: contentType, hash: sha256.New()}
}

// Write buffers p, handing the buffer to the upload each time it is full.
func (s *sink) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(s.buf) == flushSize {
			if err := s.flush(); err != nil {
				return n, err
			}
		}
		k := min(len(p), flushSize-len(s.buf))
		if need := len(s.buf) + k; need > cap(s.buf) {
			b := make([]byte, len(s.buf), min(max(need, 2*cap(s.buf), 512), flushSize))
			copy(b, s.buf)
			s.buf = b
		}
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		n += k
	}
	return n, nil
}

// take hashes and counts the buffered bytes, which the caller hands to the
// upload, and empties the buffer.
func (s *sink) take() []byte {
	b := s.buf
	s.hash.Write(b)
	s.bytes += int64(len(b))
	s.buf = s.buf[:0]
	return b
}

// flush streams the buffer to the upload, starting it on the first flush.
func (s *sink) flush() error {
	if s.pw == nil {
		pr, pw := io.Pipe()
		s.pw, s.done = pw, make(chan error, 1)
		go func() {
			err := s.up.Upload(s.ctx, s.key, s.contentType, pr)
			// Unblock the writer whatever happened: after a failure its
			// writes fail instead of waiting for a reader that is gone.
			if err != nil {
				pr.CloseWithError(err)
			} else {
				pr.CloseWithError(errUploadEnded)
			}
			s.done <- err
		}()
	}
	_, err := s.pw.Write(s.take())
	return err
}

var errUploadEnded = errors.New("upload ended before its body")

// finish uploads the rest of the file and returns the upload's outcome: the
// whole file, from memory, if it was never flushed; else the buffered tail,
// then the end of the stream.
func (s *sink) finish() error {
	if s.pw == nil {
		b := s.take()
		return s.up.Upload(s.ctx, s.key, s.contentType, bytes.NewReader(b))
	}
	var err error
	if len(s.buf) > 0 {
		_, err = s.pw.Write(s.take())
	}
	if err != nil {
		s.pw.CloseWithError(err)
	} else {
		s.pw.Close()
	}
	if uerr := <-s.done; uerr != nil {
		return uerr
	}
	return err
}

// abort ends a streamed upload with err (its reader sees the error, not an
// end, so that no object appears) and waits for it; a file never flushed
// has no upload to end.
func (s *sink) abort(err error) {
	if s.pw != nil {
		s.pw.CloseWithError(err)
		<-s.done
	}
}

func (s *sink) file(rows int) File {
	return File{Key: s.key, SHA256: hex.EncodeToString(s.hash.Sum(nil)), Rows: rows, Bytes: s.bytes}
}

// Run writes the export of rows (the partner's referrals) and then its
// manifest, and returns the manifest. Both files are written in one pass
// over rows, so they hold the same referrals, and uploaded at once; the
// manifest is uploaded after both have been. Re-running for the same day
// replaces the three objects; the manifest always comes last. Nothing is
// uploaded for a file whose rows fail before it outgrows flushSize.
func (j Job) Run(ctx context.Context, up Uploader, rows iter.Seq2[Row, error]) (Manifest, error) {
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := Prefix(j.Partner, j.Day)
	csvSink := newSink(ctx, up, prefix+CSVName, "text/csv; charset=utf-8; header=present")
	jsonSink := newSink(ctx, up, prefix+JSONLName, "application/jsonl; charset=utf-8")
	n, werr := j.write(csvSink, jsonSink, rows, log)
	if werr != nil {
		cancel()
		csvSink.abort(werr)
		jsonSink.abort(werr)
		return Manifest{}, fmt.Errorf("export %s: %w", j.Partner, werr)
	}
	// The two uploads at once: the CSV's on a goroutine of its own, the
	// JSON Lines' on this one, which waits anyway.
	var cerr error
	var wg sync.WaitGroup
	wg.Go(func() { cerr = csvSink.finish() })
	jerr := jsonSink.finish()
	wg.Wait()
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
	cw, err := NewCSVWriter(csvSink)
	if err != nil {
		return 0, err
	}
	jw := NewJSONLWriter(jsonSink)
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
