package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Journal keeps the embedded DynamoDB's data across restarts and crashes:
// minidyn holds everything in memory. Every item write the server applies is
// appended to an append-only journal and fsynced before its response leaves,
// so a write a client saw acknowledged survives a kill -9 or a power loss.
// Writes go through one lock, so the journal's order is the order they were
// applied in; replaying it against the same starting state (the snapshot)
// gives the same results, conditions included, because every time value is
// inside the requests. When the journal grows past FoldBytes, and on Close,
// it is folded into the snapshot (dynamodb.json) and emptied.
//
// Tables are the template's, created at each start: CreateTable, UpdateTable
// and DeleteTable through the endpoint are served but not kept.
type Journal struct {
	// FoldBytes is the journal size past which it is folded into the
	// snapshot: it bounds the journal a start replays.
	FoldBytes int64
	// Apart names tables whose items the snapshot keeps in a file of their
	// own in the data directory (table → file name), away from
	// dynamodb.json: the runner keeps the referrals' data keys (KeyTable) in
	// keys.json, so that a copy of the referrals' snapshot holds no key, as
	// in AWS the key table is a table of its own with its own backups. Set
	// it before Recover.
	Apart map[string]string

	snapshotPath, journalPath string
	log                       *slog.Logger
	next                      http.Handler
	ready                     chan struct{} // closed once Recover has run
	readyOnce, stopOnce       sync.Once
	foldc                     chan struct{}
	stop                      chan struct{}
	wg                        sync.WaitGroup

	mu     sync.Mutex // held while a write is applied and journaled, and while folding
	f      *os.File
	seq    uint64 // last record written (or folded)
	size   int64
	tables []string
	err    error // once the journal cannot be written, every write fails
}

// journaled are the operations that change items. A failed BatchWriteItem is
// journaled too: the server applies a batch's requests one by one, so one
// that fails part way has changed the items before it (replay fails it at
// the same place).
var journaled = map[string]bool{
	"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true,
}

const (
	// maxRecord bounds one record (DynamoDB's largest request is a 16 MB
	// BatchWriteItem); a larger length in the journal is damage.
	maxRecord    = 32 << 20
	recordHeader = 8 // payload length, CRC-32C of the payload
	defaultFold  = 8 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errClosed = errors.New("the DynamoDB journal is closed")

// NewJournal returns the journal of the data directory dir. It does nothing
// until the server is started with its Wrap option and Recover has run.
func NewJournal(dir string, log *slog.Logger) *Journal {
	if log == nil {
		log = slog.Default()
	}
	return &Journal{
		FoldBytes:    defaultFold,
		snapshotPath: filepath.Join(dir, "dynamodb.json"),
		journalPath:  filepath.Join(dir, "dynamodb.journal"),
		log:          log,
		ready:        make(chan struct{}),
		foldc:        make(chan struct{}, 1),
		stop:         make(chan struct{}),
	}
}

// Wrap is the StartDynamoDB option that puts the journal in front of the
// server. Item writes wait until Recover has run.
func (j *Journal) Wrap(h http.Handler) http.Handler {
	j.next = h
	return http.HandlerFunc(j.serve)
}

// Recovery says what a start found in the data directory.
type Recovery struct {
	Items    int // restored from the snapshot
	Replayed int // journal records applied on top
	// Torn is the size of an incomplete record dropped from the journal's
	// end: a write that was cut off, and so never acknowledged.
	Torn int
	// Skipped counts journal records for tables the template no longer has.
	Skipped int
}

// Recover loads the snapshot into tables (which exist and are empty),
// replays the journal on top, and opens the journal for the writes to come.
// A snapshot that cannot be read, or a journal damaged anywhere but at its
// end, is an error: starting anyway would lose data silently.
func (j *Journal) Recover(tables []string) (Recovery, error) {
	var rec Recovery
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.next == nil {
		return rec, errors.New("journal: the DynamoDB server was not started with its Wrap option")
	}
	j.tables = tables
	snap, err := readSnapshot(j.snapshotPath)
	if err != nil {
		return rec, err
	}
	snaps := map[string]snapshotFile{j.snapshotPath: snap}
	for _, path := range j.apartPaths() {
		if snaps[path], err = j.readApart(path, snap.Journal); err != nil {
			return rec, err
		}
	}
	for path, sn := range snaps {
		for table, items := range sn.Tables {
			if err := j.restore(table, items); err != nil {
				return rec, fmt.Errorf("restore %s from %s: %w", table, path, err)
			}
			rec.Items += len(items)
		}
	}
	j.seq = snap.Journal

	f, err := os.OpenFile(j.journalPath, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return rec, err
	}
	j.f = f
	b, err := io.ReadAll(f)
	if err != nil {
		return rec, err
	}
	records, end, err := parseJournal(b)
	if err != nil {
		return rec, fmt.Errorf("%s: %w (move it aside to start from the snapshot alone)", j.journalPath, err)
	}
	for _, r := range records {
		if r.seq <= j.seq {
			continue // already in the snapshot: the journal was not emptied after the last fold
		}
		if r.seq != j.seq+1 {
			return rec, fmt.Errorf("%s: record %d follows %d: records are missing (move it aside to start from the snapshot alone)", j.journalPath, r.seq, j.seq)
		}
		skipped, err := j.replay(r)
		if err != nil {
			return rec, fmt.Errorf("%s: %w", j.journalPath, err)
		}
		if skipped {
			rec.Skipped++
		}
		rec.Replayed++
		j.seq = r.seq
	}
	if end < len(b) {
		rec.Torn = len(b) - end
		j.log.Warn("journal: dropped an incomplete record at its end, a write cut off by the crash and never acknowledged",
			"file", j.journalPath, "offset", end, "bytes", rec.Torn, "records_kept", len(records))
		if err := f.Truncate(int64(end)); err != nil {
			return rec, err
		}
	}
	if err := f.Sync(); err != nil {
		return rec, err
	}
	if err := syncDir(filepath.Dir(j.journalPath)); err != nil {
		return rec, err
	}
	j.size = int64(end)
	if rec.Skipped > 0 {
		j.log.Warn("journal: records for tables outside the template were not replayed", "records", rec.Skipped)
	}
	j.readyOnce.Do(func() { close(j.ready) })
	j.wg.Add(1)
	go j.folder()
	if j.size >= j.FoldBytes {
		j.kickFold()
	}
	return rec, nil
}

// serve applies a request; an item write is applied under the lock, and
// answered only once its journal record is on disk.
func (j *Journal) serve(w http.ResponseWriter, r *http.Request) {
	op := operation(r)
	if !journaled[op] {
		j.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRecord+1))
	if err != nil || len(body) > maxRecord {
		writeDynamoError(w, http.StatusBadRequest, "ValidationException", "request too large or unreadable")
		return
	}
	<-j.ready
	resp, err := j.apply(op, body, r)
	if err != nil {
		j.log.Error("journal: write failed; the embedded DynamoDB refuses writes until restarted", "error", err.Error())
		writeDynamoError(w, http.StatusInternalServerError, "InternalServerError", "the local journal cannot be written: "+err.Error())
		return
	}
	resp.writeTo(w)
}

func (j *Journal) apply(op string, body []byte, r *http.Request) (*recorder, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return nil, j.err
	}
	if j.f == nil {
		return nil, errClosed
	}
	resp := &recorder{header: http.Header{}}
	r.Body = io.NopCloser(bytes.NewReader(body))
	j.next.ServeHTTP(resp, r)
	ok := resp.ok()
	if !ok && op != "BatchWriteItem" {
		return resp, nil // a failed write changed nothing
	}
	rec := encodeRecord(record{seq: j.seq + 1, op: op, ok: ok, body: body})
	if _, err := j.f.Write(rec); err != nil {
		j.err = fmt.Errorf("append to %s: %w", j.journalPath, err)
		return nil, j.err
	}
	if err := j.f.Sync(); err != nil {
		j.err = fmt.Errorf("fsync %s: %w", j.journalPath, err)
		return nil, j.err
	}
	j.seq++
	j.size += int64(len(rec))
	if j.size >= j.FoldBytes {
		j.kickFold()
	}
	return resp, nil
}

func (j *Journal) kickFold() {
	select {
	case j.foldc <- struct{}{}:
	default:
	}
}

// folder folds the journal into the snapshot when asked, off the write path.
func (j *Journal) folder() {
	defer j.wg.Done()
	for {
		select {
		case <-j.stop:
			return
		case <-j.foldc:
			j.mu.Lock()
			if j.err == nil && j.f != nil {
				if err := j.fold(); err != nil {
					j.log.Error("journal: folding into the snapshot failed; the journal keeps growing", "error", err.Error())
				}
			}
			j.mu.Unlock()
		}
	}
}

// Fold writes the snapshot now and empties the journal.
func (j *Journal) Fold() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if j.f == nil {
		return errClosed
	}
	return j.fold()
}

// fold runs with the lock held, so the snapshot is exactly the state after
// record j.seq. The snapshot is durable before the journal is emptied; a
// crash in between leaves records the snapshot already holds, which replay
// skips by their sequence numbers.
func (j *Journal) fold() error {
	if err := j.writeSnapshots(); err != nil {
		return err
	}
	if err := j.f.Truncate(0); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return err
	}
	j.size = 0
	return nil
}

// Close folds the journal into the snapshot and closes it. Writes that
// arrive later fail.
func (j *Journal) Close() error {
	j.readyOnce.Do(func() { close(j.ready) }) // never recovered: waiting writes fail rather than hang
	j.stopOnce.Do(func() { close(j.stop) })
	j.wg.Wait()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	var err error
	if j.err == nil && j.size > 0 {
		err = j.fold()
	}
	err = errors.Join(err, j.f.Close())
	j.f = nil
	return err
}

// replay applies one record and checks it has the outcome it first had. A
// record for a table that no longer exists (outside the template) is
// skipped.
func (j *Journal) replay(r record) (skipped bool, err error) {
	if r.op == "TransactWriteItems" && r.ok {
		return j.replayTransaction(r)
	}
	resp := j.call(r.op, r.body)
	if resp.ok() == r.ok {
		return false, nil
	}
	if !resp.ok() && strings.Contains(resp.body.String(), "ResourceNotFoundException") {
		return true, nil
	}
	return false, fmt.Errorf("record %d (%s) replayed with status %d where it first had ok=%t: %s (the data directory is inconsistent; move the journal aside to start from the snapshot alone)",
		r.seq, r.op, resp.status, r.ok, truncate(resp.body.String(), 300))
}

// replayTransaction applies a transaction that succeeded as its writes, one
// by one. The result is the same: no two of its writes touch one item, so
// each condition sees what it saw the first time, and held then. It is far
// quicker: the server copies every table a transaction touches, so replaying
// thousands of transactions on a large table would take minutes.
func (j *Journal) replayTransaction(r record) (skipped bool, err error) {
	var in struct{ TransactItems []map[string]json.RawMessage }
	if err := json.Unmarshal(r.body, &in); err != nil {
		return false, fmt.Errorf("record %d (%s): %w", r.seq, r.op, err)
	}
	ops := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
	for _, item := range in.TransactItems {
		for kind, body := range item {
			op, ok := ops[kind]
			if !ok {
				continue // a ConditionCheck: it held, and changes nothing
			}
			if skipped, err := j.replay(record{seq: r.seq, op: op, ok: true, body: body}); skipped || err != nil {
				return skipped, err
			}
		}
	}
	return false, nil
}

// restore puts a snapshot's items back, 25 to a request.
func (j *Journal) restore(table string, items []json.RawMessage) error {
	name, _ := json.Marshal(table)
	for start := 0; start < len(items); start += 25 {
		var b bytes.Buffer
		b.WriteString(`{"RequestItems":{`)
		b.Write(name)
		b.WriteString(":[")
		for i, it := range items[start:min(start+25, len(items))] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"PutRequest":{"Item":`)
			b.Write(it)
			b.WriteString(`}}`)
		}
		b.WriteString("]}}")
		resp := j.call("BatchWriteItem", b.Bytes())
		if !resp.ok() {
			return fmt.Errorf("status %d: %s", resp.status, truncate(resp.body.String(), 300))
		}
		var out struct{ UnprocessedItems map[string][]json.RawMessage }
		if err := json.Unmarshal(resp.body.Bytes(), &out); err != nil {
			return err
		}
		if len(out.UnprocessedItems[table]) > 0 {
			return fmt.Errorf("%d items left unprocessed", len(out.UnprocessedItems[table]))
		}
	}
	return nil
}

// scan emits every item of a table, a page at a time.
func (j *Journal) scan(table string, emit func(json.RawMessage) error) error {
	var start json.RawMessage
	for {
		in := map[string]any{"TableName": table, "Limit": 1000}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		body, _ := json.Marshal(in)
		resp := j.call("Scan", body)
		if !resp.ok() {
			return fmt.Errorf("scan: status %d: %s", resp.status, truncate(resp.body.String(), 300))
		}
		var page struct {
			Items            []json.RawMessage
			LastEvaluatedKey json.RawMessage
		}
		if err := json.Unmarshal(resp.body.Bytes(), &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := emit(it); err != nil {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 || string(page.LastEvaluatedKey) == "null" || string(page.LastEvaluatedKey) == "{}" {
			return nil
		}
		start = page.LastEvaluatedKey
	}
}

// call hands one request to the server in process, as the SDK would send
// it, bypassing the journal.
func (j *Journal) call(op string, body []byte) *recorder {
	req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp := &recorder{header: http.Header{}}
	j.next.ServeHTTP(resp, req)
	return resp
}

func operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	return t[strings.LastIndexByte(t, '.')+1:]
}

// A recorder (limits.go) holds minidyn's answer until the write it reports
// is durable.
func (r *recorder) ok() bool { return r.status == http.StatusOK || r.status == 0 }

func (r *recorder) writeTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(max(r.status, http.StatusOK))
	w.Write(r.body.Bytes())
}

func writeDynamoError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": msg})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// A record is one applied write. On disk: payload length (4 bytes, little
// endian), CRC-32C of the payload (4), then the payload: sequence number (8),
// outcome (1: 1 if the server answered 200), operation name length (1), the
// operation name, and the request body as the client sent it.
type record struct {
	seq  uint64
	op   string
	ok   bool
	body []byte
}

func encodeRecord(r record) []byte {
	n := 8 + 1 + 1 + len(r.op) + len(r.body)
	b := make([]byte, recordHeader+n)
	p := b[recordHeader:]
	binary.LittleEndian.PutUint64(p, r.seq)
	if r.ok {
		p[8] = 1
	}
	p[9] = byte(len(r.op))
	copy(p[10:], r.op)
	copy(p[10+len(r.op):], r.body)
	binary.LittleEndian.PutUint32(b, uint32(n))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(p, castagnoli))
	return b
}

// parseJournal returns the complete records of b and where they end. An
// incomplete last record (a write cut off by a crash: its header or payload
// runs past the end, or it fails its checksum with nothing but zeros after
// it) ends the journal there. Damage followed by more data is an error:
// that is not a cut-off write, and dropping what follows would lose
// acknowledged writes without a word.
func parseJournal(b []byte) ([]record, int, error) {
	var recs []record
	off := 0
	for off < len(b) {
		rest := b[off:]
		if len(rest) < recordHeader {
			return recs, off, nil
		}
		n := int(binary.LittleEndian.Uint32(rest))
		sum := binary.LittleEndian.Uint32(rest[4:])
		if n < 10 || n > maxRecord {
			if allZero(rest) {
				return recs, off, nil
			}
			return recs, off, fmt.Errorf("damaged record length at byte %d", off)
		}
		if n > len(rest)-recordHeader {
			return recs, off, nil
		}
		p := rest[recordHeader : recordHeader+n]
		if crc32.Checksum(p, castagnoli) != sum {
			if allZero(rest[recordHeader+n:]) {
				return recs, off, nil
			}
			return recs, off, fmt.Errorf("damaged record at byte %d (checksum mismatch, more records follow)", off)
		}
		opLen := int(p[9])
		if 10+opLen > n {
			return recs, off, fmt.Errorf("damaged record at byte %d (operation name)", off)
		}
		recs = append(recs, record{
			seq: binary.LittleEndian.Uint64(p), ok: p[8] == 1,
			op: string(p[10 : 10+opLen]), body: p[10+opLen:],
		})
		off += recordHeader + n
	}
	return recs, off, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// apartPaths are the files of the tables kept apart, sorted.
func (j *Journal) apartPaths() []string {
	var out []string
	for _, name := range j.Apart {
		out = append(out, filepath.Join(filepath.Dir(j.snapshotPath), name))
	}
	sort.Strings(out)
	return out
}

// readApart reads the snapshot of tables kept apart at path, which must be
// of the same journal record as the main snapshot: the one written with it
// (path) or, after a crash between replacing the two, the one it replaced
// (path.prev). A missing file is empty (a data directory from before the
// tables were kept apart holds them in the main snapshot).
func (j *Journal) readApart(path string, seq uint64) (snapshotFile, error) {
	for _, p := range []string{path, path + ".prev"} {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		sn, err := readSnapshot(p)
		if err != nil {
			return snapshotFile{}, err
		}
		if sn.Journal == seq {
			return sn, nil
		}
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return snapshotFile{}, nil
	}
	return snapshotFile{}, fmt.Errorf("%s is not of journal record %d, as %s is (move the data directory aside to start without it)", path, seq, j.snapshotPath)
}

// writeSnapshots writes the main snapshot and those of the tables kept
// apart, all of record j.seq, so that a crash at any point leaves a set
// readApart finds consistent: each apart file is written to a temporary
// file, the file it replaces kept as .prev until the main snapshot is in
// place, then removed.
func (j *Journal) writeSnapshots() error {
	apart := map[string][]string{} // file → tables
	var main []string
	for _, t := range j.tables {
		if name, ok := j.Apart[t]; ok {
			path := filepath.Join(filepath.Dir(j.snapshotPath), name)
			apart[path] = append(apart[path], t)
		} else {
			main = append(main, t)
		}
	}
	paths := j.apartPaths()
	for _, path := range paths {
		if _, err := writeSnapshot(path+".tmp-apart", j.seq, apart[path], j.scan); err != nil {
			return err
		}
	}
	for _, path := range paths {
		if err := os.Rename(path, path+".prev"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Rename(path+".tmp-apart", path); err != nil {
			return err
		}
	}
	if len(paths) > 0 {
		if err := syncDir(filepath.Dir(j.snapshotPath)); err != nil {
			return err
		}
	}
	if _, err := writeSnapshot(j.snapshotPath, j.seq, main, j.scan); err != nil {
		return err
	}
	for _, path := range paths {
		if err := os.Remove(path + ".prev"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
