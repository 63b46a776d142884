package jobs

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"iter"
	"sort"
	"strconv"
	"time"
	// The report and export dates are Toronto's; Lambda's OS image may lack
	// the zone database, so the binary carries it.

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/report"
	"github.com/haven-hrd/haven/shared/s3store"
)

// ScheduleZone is the zone of the schedules (template.yaml) and of the dates
// in report and export keys.
const ScheduleZone = "America/Toronto"

// torontoTZ is the zone's TZif data from Go's own zoneinfo (GOROOT
// lib/time/zoneinfo.zip), so the jobs do not depend on the image having
// /usr/share/zoneinfo and do not embed every zone (time/tzdata, ~450 kB).
//
//go:embed zoneinfo/America_Toronto
var torontoTZ []byte

// scheduleLocation is the zone of the schedules: the system's copy when it
// has one (kept up to date by the OS), else the embedded one.
func scheduleLocation() (*time.Location, error) {
	if loc, err := time.LoadLocation(ScheduleZone); err == nil {
		return loc, nil
	}
	return time.LoadLocationFromTZData(ScheduleZone, torontoTZ)
}

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

// dailyReport writes, for every stream and period, summary.json, .csv and
// .html under reports/<stream>/<period>/<date>/. Counters come from the
// period items; status, urgency and month counts from one pass over the
// referrals, read bare (nothing unsealed).
func (d *job) dailyReport(ctx context.Context, _ events.EventBridgeEvent) (ReportResult, error) {
	loc, err := scheduleLocation()
	if err != nil {
		return ReportResult{}, err
	}
	day := d.Now().In(loc).Format("2006-01-02")
	streams, err := d.Store.Streams(ctx)
	if err != nil {
		return ReportResult{}, fmt.Errorf("list streams: %w", err)
	}
	byID := map[string]dynamostore.Stream{}
	for _, st := range streams {
		byID[st.ID] = st
	}
	periods, err := d.Store.Periods(ctx)
	if err != nil {
		return ReportResult{}, fmt.Errorf("list periods: %w", err)
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
	for r, err := range d.Store.ReferralsOfStream(ctx, "") {
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
		res.Scanned++
		if res.Scanned%progressEvery == 0 {
			d.Log.InfoContext(ctx, "report progress", "rows_done", res.Scanned)
		}
	}
	bucket := s3store.New(d.s3, d.ReportsBucket)
	now := d.Now()
	for _, p := range periods {
		s := builders[pk{p.Stream, p.Year}].Summary(day, now)
		prefix := "reports/" + p.Stream + "/" + strconv.Itoa(p.Year) + "/" + day + "/"
		for _, f := range []struct {
			name, contentType string
			render            func(report.Summary) ([]byte, error)
		}{
			{"summary.json", "application/json", report.JSON},
			{"summary.csv", "text/csv; charset=utf-8; header=present", report.CSV},
			{"summary.html", "text/html; charset=utf-8", report.HTML},
		} {
			b, err := f.render(s)
			if err != nil {
				return res, fmt.Errorf("render %s: %w", prefix+f.name, err)
			}
			if err := bucket.Upload(ctx, prefix+f.name, f.contentType, bytesReader(b)); err != nil {
				return res, err
			}
			res.Keys = append(res.Keys, prefix+f.name)
		}
	}
	d.Log.InfoContext(ctx, "report written", "date", day, "periods", len(periods), "rows_done", res.Scanned)
	return res, nil
}

// partnerExport writes, for every partner of any stream, its referrals as
// <partner>/<date>/referrals.csv and .jsonl, then manifest.json, in the
// exports bucket. Partners are done one after the other: memory is one
// export's buffers, whatever the number of partners or referrals.
func (d *job) partnerExport(ctx context.Context, _ events.EventBridgeEvent) (ExportResult, error) {
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
	bucket := s3store.New(d.s3, d.ExportsBucket)
	res := ExportResult{Date: day, Partners: []ExportPartner{}}
	for _, p := range partners {
		job := export.Job{Partner: p, Day: day, Now: d.Now(), Log: d.Log}
		m, err := job.Run(ctx, bucket, rowsOf(d.Store.ReferralsOfPartner(ctx, p)))
		if err != nil {
			return res, err
		}
		res.Partners = append(res.Partners, ExportPartner{Partner: p, Rows: m.Files[0].Rows, Manifest: export.Prefix(p, day) + export.ManifestName})
	}
	return res, nil
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

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
