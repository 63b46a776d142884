package export_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/s3store"
	"github.com/haven-hrd/haven/shared/steps"
)

// The fixed clock: 03:00 in Toronto on 27 November 2026.
var now = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// pii are the distinctive personal data the fixtures carry; none may
// appear in any exported object.
var pii = []string{
	"Zyxwvutsa", "Qponmlkj", "1981-07-23", "2011-02-14", "zyx.defender@example.org", "+66 9 8765 4321",
	"zzsignalhandle", "Secret summary of persecution", "MMR", "THA-asylum-marker",
}

func person(given, family, dob string) referral.Person {
	return referral.Person{GivenName: given, FamilyName: family, DateOfBirth: dob, Sex: "F", Nationality: "MMR"}
}

type fix struct {
	id, partner, ref string
	status           referral.Status
	urgency          referral.Urgency
	family           int
	period           int
	reasons          []string
	created          time.Time
}

var fixtures = []fix{
	{"01KAAAAAAAAAAAAAAAAAAAAA01", "unhcr", "UNHCR-1", referral.Submitted, referral.Normal, 0, 0, nil, now.Add(-72 * time.Hour)},
	{"01KAAAAAAAAAAAAAAAAAAAAA02", "unhcr", "UNHCR-2", referral.Allocated, referral.Emergency, 3, 2026, nil, now.Add(-48 * time.Hour)},
	{"01KAAAAAAAAAAAAAAAAAAAAA03", "unhcr", "UNHCR-3", referral.Ineligible, referral.Urgent, 1, 0, []string{"not-a-human-rights-defender"}, now.Add(-24 * time.Hour)},
	{"01KAAAAAAAAAAAAAAAAAAAAA04", "front-line-defenders", "FLD-1", referral.Arrived, referral.Urgent, 2, 2026, nil, now.Add(-96 * time.Hour)},
	{"01KAAAAAAAAAAAAAAAAAAAAA05", "front-line-defenders", "FLD-2", referral.Waitlisted, referral.Normal, 0, 2026, nil, now.Add(-12 * time.Hour)},
}

func seed(t testing.TB, env *testenv.Env) {
	t.Helper()
	env.Seed(t, 2026, 500)
	ctx := context.Background()
	for _, f := range fixtures {
		var in referral.Input
		in.Stream, in.PartnerReference, in.Urgency = "hrd", f.ref, f.urgency
		in.Principal = person("Zyxwvutsa", "Qponmlkj", "1981-07-23")
		for i := 0; i < f.family; i++ {
			in.FamilyMembers = append(in.FamilyMembers, referral.Person{GivenName: "Zyxwvutsa", FamilyName: "Qponmlkj", DateOfBirth: "2011-02-14", Sex: "M", Relationship: "child"})
		}
		in.CountryOfAsylum = "THA-asylum-marker"
		in.DefenderProfile = referral.Profile{RightsAreas: []string{"land"}, Summary: "Secret summary of persecution"}
		in.Contact = referral.Contact{Email: "zyx.defender@example.org", Phone: "+66 9 8765 4321", PreferredChannel: "zzsignalhandle"}
		in.PreferredLanguage, in.Consent = "en", referral.Consent{Given: true, Date: "2026-11-01"}
		r := referral.Referral{Input: in, ID: f.id, Partner: f.partner, Status: f.status, Persons: in.Persons(),
			Period: f.period, Reasons: f.reasons, CreatedAt: f.created, UpdatedAt: f.created.Add(time.Hour), Version: 1}
		ev := referral.Event{At: f.created, Action: referral.ActionCreated, ToStatus: f.status, ActorRole: "partner", Actor: f.partner}
		if _, err := env.Store.Create(ctx, r, ev, nil, f.created); err != nil {
			t.Fatalf("create %s: %v", f.id, err)
		}
	}
}

func invoke(t testing.TB, deps *api.Deps, dir string) []byte {
	t.Helper()
	payload, err := os.ReadFile(filepath.Join("testdata", "scheduled-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(steps.ByDir[dir](deps)).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return out
}

// objects reads every object of a bucket.
func objects(t testing.TB, b *s3store.Bucket) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := b.Keys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, k := range keys {
		body, err := b.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		m[k] = string(body)
	}
	return m
}

// setupEnv returns the partner-export function's deps, the exports bucket
// and the environment (whose own store and clients the test uses).
func setupEnv(t *testing.T) (*api.Deps, *s3store.Bucket, *testenv.Env) {
	env := testenv.New(t, testenv.Options{S3: true, Now: clock.Fixed(now)})
	seed(t, env)
	deps := env.FunctionDeps(t, "partner-export", nil, func() time.Time { return now })
	// The test reads back with the environment's own client, not the function's.
	return deps, s3store.New(jobs.S3Client(env.Deps(nil, nil)), deps.ExportsBucket), env
}

func TestExportEndToEnd(t *testing.T) {
	deps, bucket, env := setupEnv(t)
	out := invoke(t, deps, "partner-export")
	var res jobs.ExportResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	wantRes := jobs.ExportResult{Date: "2026-11-27", Partners: []jobs.ExportPartner{
		{Partner: "front-line-defenders", Rows: 2, Manifest: "front-line-defenders/2026-11-27/manifest.json"},
		{Partner: "protectdefenders-eu", Rows: 0, Manifest: "protectdefenders-eu/2026-11-27/manifest.json"},
		{Partner: "unhcr", Rows: 3, Manifest: "unhcr/2026-11-27/manifest.json"},
	}}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	objs := objects(t, bucket)
	var keys []string
	for k := range objs {
		keys = append(keys, k)
	}
	wantKeys := []string{}
	for _, p := range []string{"front-line-defenders", "protectdefenders-eu", "unhcr"} {
		for _, f := range []string{"manifest.json", "referrals.csv", "referrals.jsonl"} {
			wantKeys = append(wantKeys, p+"/2026-11-27/"+f)
		}
	}
	if diff := cmp.Diff(wantKeys, keys, cmpSorted); diff != "" {
		t.Fatalf("keys (-want +got):\n%s", diff)
	}

	t.Run("golden", func(t *testing.T) {
		for _, f := range []string{"referrals.csv", "referrals.jsonl", "manifest.json"} {
			export.Golden(t, filepath.Join("testdata", "e2e", "unhcr-"+f), []byte(objs["unhcr/2026-11-27/"+f]))
		}
	})

	t.Run("manifests verify against re-read objects", func(t *testing.T) {
		for _, p := range res.Partners {
			var m export.Manifest
			if err := json.Unmarshal([]byte(objs[p.Manifest]), &m); err != nil {
				t.Fatal(err)
			}
			if m.Partner != p.Partner || m.SchemaVersion != export.SchemaVersion || !m.GeneratedAt.Equal(now) || len(m.Files) != 2 {
				t.Errorf("%s: manifest %+v", p.Partner, m)
			}
			if err := export.Verify(context.Background(), m, bucket.Open); err != nil {
				t.Errorf("%s: %v", p.Partner, err)
			}
		}
	})

	t.Run("no personal data in any object", func(t *testing.T) {
		for k, body := range objs {
			for _, s := range pii {
				if strings.Contains(body, s) {
					t.Errorf("%s holds personal data %q", k, s)
				}
			}
		}
	})

	t.Run("partner isolation", func(t *testing.T) {
		for _, f := range fixtures {
			for _, p := range []string{"unhcr", "front-line-defenders", "protectdefenders-eu"} {
				for _, name := range []string{"referrals.csv", "referrals.jsonl"} {
					has := strings.Contains(objs[p+"/2026-11-27/"+name], f.id) || strings.Contains(objs[p+"/2026-11-27/"+name], f.ref)
					if has != (p == f.partner) {
						t.Errorf("%s of %s: holds %s (of %s) = %v", name, p, f.id, f.partner, has)
					}
				}
			}
		}
	})

	t.Run("re-run replaces with the same objects", func(t *testing.T) {
		invoke(t, deps, "partner-export")
		if diff := cmp.Diff(objs, objects(t, bucket)); diff != "" {
			t.Errorf("second run differs (-first +second):\n%s", diff)
		}
	})

	t.Run("re-run after a change rewrites files and manifest together", func(t *testing.T) {
		f := fixtures[0]
		var in referral.Input
		in.Stream, in.PartnerReference, in.Urgency = "hrd", "UNHCR-4", referral.Normal
		in.Principal = person("Zyxwvutsa", "Qponmlkj", "1981-07-23")
		in.CountryOfAsylum, in.Contact = "THA-asylum-marker", referral.Contact{Email: "zyx.defender@example.org"}
		in.Consent = referral.Consent{Given: true, Date: "2026-11-01"}
		r := referral.Referral{Input: in, ID: "01KAAAAAAAAAAAAAAAAAAAAA06", Partner: f.partner, Status: referral.Submitted, Persons: 1, CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour), Version: 1}
		if _, err := env.Store.Create(context.Background(), r, referral.Event{At: r.CreatedAt, Action: referral.ActionCreated, ToStatus: r.Status, ActorRole: "partner"}, nil, r.CreatedAt); err != nil {
			t.Fatal(err)
		}
		invoke(t, deps, "partner-export")
		after := objects(t, bucket)
		var m export.Manifest
		if err := json.Unmarshal([]byte(after["unhcr/2026-11-27/manifest.json"]), &m); err != nil {
			t.Fatal(err)
		}
		if m.Files[0].Rows != 4 || m.Files[1].Rows != 4 {
			t.Errorf("rows after adding one: %+v", m.Files)
		}
		if err := export.Verify(context.Background(), m, bucket.Open); err != nil {
			t.Error(err)
		}
		if after["front-line-defenders/2026-11-27/manifest.json"] != objs["front-line-defenders/2026-11-27/manifest.json"] {
			t.Error("another partner's export changed")
		}
	})
}

func TestReportEndToEnd(t *testing.T) {
	env := testenv.New(t, testenv.Options{S3: true, Now: clock.Fixed(now)})
	seed(t, env)
	if err := env.Store.PutStream(context.Background(), dynamostore.Stream{ID: "hrd-temporary", Name: "Temporary", Open: true, Partners: []string{"unhcr"}}); err != nil {
		t.Fatal(err)
	}
	env.SetCapacity(t, "hrd-temporary", 2026, 100)
	deps := env.FunctionDeps(t, "daily-report", nil, func() time.Time { return now })
	out := invoke(t, deps, "daily-report")
	var res jobs.ReportResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range []string{"reports/hrd/2026/2026-11-27/", "reports/hrd-temporary/2026/2026-11-27/"} {
		for _, f := range []string{"summary.json", "summary.csv", "summary.html"} {
			want = append(want, p+f)
		}
	}
	if diff := cmp.Diff(jobs.ReportResult{Date: "2026-11-27", Keys: want, Scanned: len(fixtures)}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	objs := objects(t, s3store.New(jobs.S3Client(env.Deps(nil, nil)), deps.ReportsBucket))
	if len(objs) != len(want) {
		t.Errorf("%d objects, want %d", len(objs), len(want))
	}
	for _, f := range []string{"summary.json", "summary.csv"} {
		export.Golden(t, filepath.Join("testdata", "e2e", "report-hrd-"+f), []byte(objs["reports/hrd/2026/2026-11-27/"+f]))
	}
	for k, body := range objs {
		for _, s := range pii {
			if strings.Contains(body, s) {
				t.Errorf("%s holds personal data %q", k, s)
			}
		}
	}
	// Twice: same objects.
	invoke(t, deps, "daily-report")
	if diff := cmp.Diff(objs, objects(t, s3store.New(jobs.S3Client(env.Deps(nil, nil)), deps.ReportsBucket))); diff != "" {
		t.Errorf("re-run differs:\n%s", diff)
	}
}

var cmpSorted = cmp.Transformer("sorted", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

var _ = fmt.Sprint

func lambdaHandler(h any) lambda.Handler { return lambda.NewHandler(h) }

// The scheduled jobs take their event as it comes, undecoded: nothing in it
// is used, and the date of the files is the clock's, whatever the event
// says. A payload that is not JSON is still refused.
func TestJobsIgnoreTheirEvent(t *testing.T) {
	_, _, env := setupEnv(t)
	scheduled, err := os.ReadFile(filepath.Join("testdata", "scheduled-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"scheduler's event", string(scheduled), false},
		{"event of another day", strings.Replace(string(scheduled), "2026-11-27T08:00:00Z", "2020-01-01T00:00:00Z", 1), false},
		{"empty object", `{}`, false},
		{"not JSON", `{"time":`, true},
	} {
		for _, dir := range []string{"partner-export", "daily-report"} {
			t.Run(tc.name+"/"+dir, func(t *testing.T) {
				deps := env.FunctionDeps(t, dir, nil, func() time.Time { return now })
				out, err := lambda.NewHandler(steps.ByDir[dir](deps)).Invoke(context.Background(), []byte(tc.payload))
				if tc.wantErr {
					if err == nil {
						t.Fatalf("payload accepted: %s", out)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var res struct{ Date string }
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatal(err)
				}
				if res.Date != "2026-11-27" {
					t.Errorf("date %q, want the clock's 2026-11-27", res.Date)
				}
			})
		}
	}
}

// TestExportNeutralisesFormulas follows a partner_reference a spreadsheet
// would run, accepted by validation, to the partner's CSV: there it starts
// with a single quote (and is RFC 4180-quoted), while the JSON Lines file
// keeps the reference as the partner typed it.
func TestExportNeutralisesFormulas(t *testing.T) {
	const ref = `=HYPERLINK("http://x","y")`
	deps, bucket, env := setupEnv(t)
	var in referral.Input
	in.Stream, in.PartnerReference, in.Urgency = "hrd", ref, referral.Normal
	in.Principal = person("Zyxwvutsa", "Qponmlkj", "1981-07-23")
	in.CountryOfAsylum, in.Contact = "THA", referral.Contact{Email: "zyx.defender@example.org"}
	in.DefenderProfile = referral.Profile{RightsAreas: []string{"land"}}
	in.Consent = referral.Consent{Given: true, Date: "2026-11-01"}
	if err := in.Validate(now); err != nil {
		t.Fatalf("the reference must pass validation for this test to mean anything: %v", err)
	}
	r := referral.Referral{Input: in, ID: "01KAAAAAAAAAAAAAAAAAAAAA07", Partner: "protectdefenders-eu", Status: referral.Submitted, Persons: 1, CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour), Version: 1}
	if _, err := env.Store.Create(context.Background(), r, referral.Event{At: r.CreatedAt, Action: referral.ActionCreated, ToStatus: r.Status, ActorRole: "partner"}, nil, r.CreatedAt); err != nil {
		t.Fatal(err)
	}
	invoke(t, deps, "partner-export")
	objs := objects(t, bucket)
	csvLines := strings.Split(objs["protectdefenders-eu/2026-11-27/referrals.csv"], "\r\n")
	if len(csvLines) < 2 {
		t.Fatalf("csv: %q", csvLines)
	}
	if got, want := csvLines[1], `01KAAAAAAAAAAAAAAAAAAAAA07,"'=HYPERLINK(""http://x"",""y"")",hrd,`; !strings.HasPrefix(got, want) {
		t.Errorf("csv row = %s, want it to start %s", got, want)
	}
	var row export.Row
	if err := json.Unmarshal([]byte(objs["protectdefenders-eu/2026-11-27/referrals.jsonl"]), &row); err != nil {
		t.Fatal(err)
	}
	if row.PartnerReference != ref {
		t.Errorf("jsonl partner_reference = %q, want %q", row.PartnerReference, ref)
	}
}
