package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/report"
	"github.com/haven-hrd/haven/shared/s3store"
)

// ScheduleZone is the zone of the schedules (template.yaml) and of the dates
// in report and export keys.
const ScheduleZone = quota.Zone

// scheduleLocation is the zone of the schedules: quota's, the one zone
// Haven reckons years and dates in.
func scheduleLocation() (*time.Location, error) { return quota.Location(), nil }

// progressEvery is how many referrals pass between two progress log lines.
const progressEvery = 10_000

// ReportResult is what the daily report returns (and the local runner shows).
type ReportResult struct {
	Date    string   `json:"date"`
	Keys    []string `json:"keys"`
	Scanned int      `json:"referrals_scanned"`
}

// ExportResult is what the partner export returns.
type ExportResult struct {
	Date     string          `json:"date"`
	Partners []ExportPartner `json:"partners"`
}

// ExportPartner is one partner's export of the day.
type ExportPartner struct {
	Partner  string `json:"partner"`
	Rows     int    `json:"rows"`
	Manifest string `json:"manifest"`
}

// scheduledEvent is the event EventBridge Scheduler sends the jobs. Nothing
// in it is used (the date is the clock's, see today), so it is taken as it
// comes, not decoded: decoding it into a struct (events.EventBridgeEvent)
// costs the first invocation of each process about 0.1 ms of reflection for
// nothing.
type scheduledEvent = json.RawMessage

// DailyReport is the daily-report function: reports of every stream and
// period in the reports bucket.
func DailyReport(d *api.Deps) any {
	j := &job{Deps: d, s3: S3Client(d)}
	return j.dailyReport
}

// PartnerExport is the partner-export function: each partner's referrals in
// the exports bucket.
func PartnerExport(d *api.Deps) any {
	j := &job{Deps: d, s3: S3Client(d)}
	return j.partnerExport
}

// S3Client is the S3 client of d's configuration: path-style on the embedded
// server when d.S3Endpoint is set, the real S3 otherwise. Building it makes
// no network call.
func S3Client(d *api.Deps) *s3.Client {
	return s3store.NewClient(d.AWS, d.S3Endpoint)
}

// job is one scheduled function's dependencies.
type job struct {
	*api.Deps
	s3 *s3.Client
}

// today is the date in Toronto, from the injected clock; the event's time is
// ignored so that a retried or late event writes the day it runs.
func (d *job) today() (string, error) {
	loc, err := scheduleLocation()
	if err != nil {
		return "", err
	}
	return d.Now().In(loc).Format("2006-01-02"), nil
}

// Work done at once. A job's calls are round trips to DynamoDB and S3 (tens
// of milliseconds each in AWS), most of them independent of one another, so
// independent ones overlap, within small bounds.
const (
	// periodLimit is how many periods' reports are written at once; each
	// period's three files are uploaded together, so at most 12 PUTs are in
	// flight, of bodies already in memory (a summary's few kB each, which
	// s3store sends without a part buffer).
	periodLimit = 4
	// partnerLimit is how many partners are exported at once. A partner's
	// export holds one page of its referral query and two files, each in a
	// buffer of at most 64 kB (export's): a file that ends within it is
	// uploaded from there; a larger one is streamed to s3store, which then
	// takes one part buffer (5 MiB) for it. Peak memory is therefore
	// bounded by partnerLimit × 2 × s3store.PartSize = 40 MiB of part
	// buffers (s3store keeps as many for reuse) plus partnerLimit query
	// pages and small buffers, whatever the number of partners or
	// referrals.
	partnerLimit = 4
)

// forEach calls fn(0) … fn(n-1), at most limit at a time, and waits for
// them all. A failure stops nothing: each call writes files of its own, and
// one partner's or period's failure must not hide (or prevent) another's
// outcome. The errors come back joined, in index order.
func forEach(n, limit int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			defer func() {
				// A panic on a goroutine of our own would end the
				// process, taking the others' work with it.
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
				}
			}()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// The daily report's referral query reads ahead of the counting by at
// most prefetchAhead batches of prefetchBatch referrals (read bare: ids,
// status, counts, dates), plus the one being filled: a few hundred kB
// whatever the number of referrals.
const (
	prefetchBatch = 128
	prefetchAhead = 2
)

// prefetch starts the iteration of the sequence open returns on a goroutine
// of its own, so that its first round trips overlap the caller's, and gives
// the same elements, in order, through the returned sequence, which can be
// ranged over once. The goroutine runs at most ahead batches of batch
// elements ahead of the consumer. stop cancels the source's context and
// waits for the goroutine to end (nothing is left running once the
// invocation has returned); the caller defers it. An error of the source
// ends the sequence after the elements before it.
func prefetch[T any](ctx context.Context, open func(context.Context) iter.Seq2[T, error], batch, ahead int) (seq iter.Seq2[T, error], stop func()) {
	type chunk struct {
		items []T
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan chunk, ahead)
	done := make(chan struct{})
	// complete is set, before ch is closed, when every element and any
	// error have been handed over; a sequence cut short by the context
	// must not look complete (a report would then count too few).
	complete := false
	go func() {
		defer close(done)
		defer close(ch)
		send := func(c chunk) bool {
			select {
			case ch <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		items := make([]T, 0, batch)
		for v, err := range open(ctx) {
			if err != nil {
				if len(items) > 0 && !send(chunk{items: items}) {
					return
				}
				complete = send(chunk{err: err})
				return
			}
			items = append(items, v)
			if len(items) == batch {
				if !send(chunk{items: items}) {
					return
				}
				items = make([]T, 0, batch)
			}
		}
		complete = len(items) == 0 || send(chunk{items: items})
	}()
	stop = func() {
		cancel()
		<-done
	}
	seq = func(yield func(T, error) bool) {
		for c := range ch {
			if c.err != nil {
				var zero T
				yield(zero, c.err)
				return
			}
			for _, v := range c.items {
				if !yield(v, nil) {
					return
				}
			}
		}
		if !complete {
			var zero T
			err := ctx.Err()
			if err == nil {
				err = errors.New("prefetch ended early")
			}
			yield(zero, err)
		}
	}
	return seq, stop
}

// dailyReport writes, for every stream and period, summary.json, .csv and
// .html under reports/<stream>/<period>/<date>/. Counters come from the
// period items; status, urgency and month counts from one pass over the
// referrals, read bare (nothing unsealed).
func (d *job) dailyReport(ctx context.Context, _ scheduledEvent) (ReportResult, error) {
	loc, err := scheduleLocation()
	if err != nil {
		return ReportResult{}, err
	}
	day := d.Now().In(loc).Format("2006-01-02")
	// Neither the streams, the periods nor the referrals depend on one
	// another: the three queries start at once. The referrals are counted
	// once the periods are known; until then their query reads ahead, a
	// bounded number of them (see prefetch).
	refs, stopRefs := prefetch(ctx, func(ctx context.Context) iter.Seq2[referral.Referral, error] {
		return d.Store.ReferralsOfStream(ctx, "")
	}, prefetchBatch, prefetchAhead)
	defer stopRefs()
	var (
		streams    []dynamostore.Stream
		periods    []quota.Period
		serr, perr error
		wg         sync.WaitGroup
	)
	wg.Go(func() { streams, serr = d.Store.Streams(ctx) })
	periods, perr = d.Store.Periods(ctx)
	wg.Wait()
	if serr != nil {
		serr = fmt.Errorf("list streams: %w", serr)
	}
	if perr != nil {
		perr = fmt.Errorf("list periods: %w", perr)
	}
	if err := errors.Join(serr, perr); err != nil {
		return ReportResult{}, err
	}
	byID := map[string]dynamostore.Stream{}
	for _, st := range streams {
		byID[st.ID] = st
	}
	type pk struct {
		stream string
		year   int
	}
	builders := map[pk]*report.Builder{}
	for _, p := range periods {
		st, ok := byID[p.Stream]
		if !ok {
			st = dynamostore.Stream{ID: p.Stream, Name: p.Stream}
		}
		builders[pk{p.Stream, p.Year}] = report.NewBuilder(p, st.Name, st.Partners, loc)
	}
	res := ReportResult{Date: day, Keys: []string{}}
	for r, err := range refs {
		if err != nil {
			return res, fmt.Errorf("read referrals: %w", err)
		}
		year := r.Period
		if year == 0 {
			year = r.CreatedAt.In(loc).Year()
		}
		if b := builders[pk{r.Stream, year}]; b != nil {
			b.Add(r)
		}
		// The admissions view counts an arrival in its arrival year's report.
		if day, ok := report.ArrivalDay(r, loc); ok {
			if b := builders[pk{r.Stream, day.Year()}]; b != nil {
				b.Admit(r)
			}
		}
		res.Scanned++
		if res.Scanned%progressEvery == 0 {
			d.Log.InfoContext(ctx, "report progress", "rows_done", res.Scanned)
		}
	}
	now := d.Now()
	sums := make([]report.Summary, len(periods))
	for i, p := range periods {
		sums[i] = builders[pk{p.Stream, p.Year}].Summary(day, now)
	}
	res.Keys, err = writeReports(ctx, s3store.New(d.s3, d.ReportsBucket), sums)
	if err != nil {
		return res, err
	}
	d.Log.InfoContext(ctx, "report written", "date", day, "periods", len(periods), "rows_done", res.Scanned)
	return res, nil
}

// reportFiles are the files of one summary, in the order of
// ReportResult.Keys.
var reportFiles = []struct {
	name, contentType string
	render            func(report.Summary) ([]byte, error)
}{
	{"summary.json", "application/json", report.JSON},
	{"summary.csv", "text/csv; charset=utf-8; header=present", report.CSV},
	{"summary.html", "text/html; charset=utf-8", report.HTML},
}

// writeReports renders and uploads the files of each summary under
// reports/<stream>/<period>/<date>/: periodLimit summaries at a time, the
// three files of each at once. Each file is rendered by itself from the
// summary, so its bytes do not depend on the order the uploads run in. It
// returns the keys written, in summary then file order, and the joined
// errors of the others.
func writeReports(ctx context.Context, up export.Uploader, sums []report.Summary) ([]string, error) {
	written := make([][]string, len(sums))
	err := forEach(len(sums), periodLimit, func(i int) error {
		s := sums[i]
		prefix := "reports/" + s.Stream + "/" + strconv.Itoa(s.Period) + "/" + s.Date + "/"
		keys := make([]string, len(reportFiles))
		written[i] = keys
		return forEach(len(reportFiles), len(reportFiles), func(j int) error {
			f := reportFiles[j]
			b, err := f.render(s)
			if err != nil {
				return fmt.Errorf("render %s: %w", prefix+f.name, err)
			}
			if err := up.Upload(ctx, prefix+f.name, f.contentType, bytes.NewReader(b)); err != nil {
				return err
			}
			keys[j] = prefix + f.name
			return nil
		})
	})
	keys := []string{}
	for _, ks := range written {
		for _, k := range ks {
			if k != "" {
				keys = append(keys, k)
			}
		}
	}
	return keys, err
}

// partnerExport writes, for every partner of any stream, its referrals as
// <partner>/<date>/referrals.csv and .jsonl, then manifest.json, in the
// exports bucket, partnerLimit partners at a time.
func (d *job) partnerExport(ctx context.Context, _ scheduledEvent) (ExportResult, error) {
	day, err := d.today()
	if err != nil {
		return ExportResult{}, err
	}
	streams, err := d.Store.Streams(ctx)
	if err != nil {
		return ExportResult{}, fmt.Errorf("list streams: %w", err)
	}
	seen := map[string]bool{}
	var partners []string
	for _, st := range streams {
		for _, p := range st.Partners {
			if !seen[p] {
				seen[p] = true
				partners = append(partners, p)
			}
		}
	}
	sort.Strings(partners)
	x := exporter{
		up: s3store.New(d.s3, d.ExportsBucket), day: day, now: d.Now(), log: d.Log,
		rows: func(ctx context.Context, partner string) iter.Seq2[export.Row, error] {
			return rowsOf(d.Store.ReferralsOfPartner(ctx, partner))
		},
	}
	done, err := x.run(ctx, partners)
	return ExportResult{Date: day, Partners: done}, err
}

// exporter runs the exports of one day.
type exporter struct {
	up  export.Uploader
	day string
	// now stamps the manifests: one time for the whole run, so that the
	// clock is not called from several goroutines.
	now  time.Time
	log  *slog.Logger
	rows func(ctx context.Context, partner string) iter.Seq2[export.Row, error]
}

// run exports each partner, partnerLimit at a time (see partnerLimit for
// the memory this bounds). Each partner's manifest is written only after
// both its files (export.Job.Run): a partner that fails gets no manifest,
// and fails nobody else. It returns the partners exported, in the order of
// partners, and the joined errors of the others.
func (x exporter) run(ctx context.Context, partners []string) ([]ExportPartner, error) {
	done := make([]*ExportPartner, len(partners))
	err := forEach(len(partners), partnerLimit, func(i int) error {
		p := partners[i]
		job := export.Job{Partner: p, Day: x.day, Now: x.now, Log: x.log}
		m, err := job.Run(ctx, x.up, x.rows(ctx, p))
		if err != nil {
			return err
		}
		done[i] = &ExportPartner{Partner: p, Rows: m.Files[0].Rows, Manifest: export.Prefix(p, x.day) + export.ManifestName}
		return nil
	})
	out := []ExportPartner{}
	for _, e := range done {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out, err
}

// rowsOf keeps, of each referral, what an export may carry.
func rowsOf(refs iter.Seq2[referral.Referral, error]) iter.Seq2[export.Row, error] {
	return func(yield func(export.Row, error) bool) {
		for r, err := range refs {
			if !yield(export.FromReferral(r), err) || err != nil {
				return
			}
		}
	}
}
