// Package testenv gives tests a fresh, real-protocol environment: an embedded
// DynamoDB API server (or the external one named by HAVEN_TEST_DYNAMODB_ENDPOINT,
// such as moto_server for the cross-check) with the tables of template.yaml,
// an embedded S3 server with its buckets, and Haven's dependencies wired to
// them through the real AWS SDK. FunctionDeps wires one function with its own
// IAM policy from the template (infra/iam), as it runs in AWS.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/samtemplate"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/cursor"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/s3store"
	"github.com/haven-hrd/haven/shared/seal"
)

// Root is the repository root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

var (
	clockOnce sync.Once
	testClock clock.Clock
)

// ClockVariable names the environment variable that sets the tests' clock
// (see Clock). Only test helpers read it: make test runs the date-sensitive
// packages with it set to several dates (infra/ci/test.sh).
const ClockVariable = "HAVEN_TEST_CLOCK"

// Clock is the one clock of a test process: the machine's, or, when
// HAVEN_TEST_CLOCK is set (clock.Parse's forms, such as
// "2026-12-31T23:59 America/Toronto"), a clock that starts there and
// advances as time passes. Tests and fixtures that need "now", "today" or
// "this year" take it from here, never from the machine; a value that does
// not parse panics, so a sweep can never run silently at today's date.
func Clock() clock.Clock {
	clockOnce.Do(func() {
		v := os.Getenv(ClockVariable)
		if v == "" {
			testClock = clock.System
			return
		}
		start, err := clock.Parse(v)
		if err != nil {
			panic(ClockVariable + ": " + err.Error())
		}
		testClock = clock.From(start)
	})
	return testClock
}

// Now is Clock's reading.
func Now() time.Time { return Clock()() }

// Year is the quota year of Clock's reading (quota.YearOf: Toronto's), the
// default quota year of tests that do not name one.
func Year() int { return quota.YearOf(Now()) }

var (
	tplOnce sync.Once
	tpl     *samtemplate.Template
	tplErr  error
)

// Template is the parsed template.yaml.
func Template(t testing.TB) *samtemplate.Template {
	t.Helper()
	root := Root(t)
	tplOnce.Do(func() { tpl, tplErr = samtemplate.Load(filepath.Join(root, "template.yaml")) })
	if tplErr != nil {
		t.Fatal(tplErr)
	}
	return tpl
}

// Env is one test's environment.
type Env struct {
	DB      *dynamodb.Client
	Clients *awsconn.Clients
	// Dynamo is the embedded server (nil when an external one is used); its
	// Server field emulates failures.
	Dynamo *embedded.DynamoDB
	S3     *embedded.S3
	Table  string
	// KeyTable holds the referrals' own data keys (dynamostore.WithKeyTable).
	KeyTable string
	Sealer   *seal.Sealer
	Store    *dynamostore.Store
	// Now is the environment's clock: Seed, SetCapacity and Deps take the
	// time from it.
	Now clock.Clock
	// IAM enforces each function's policy on the clients FunctionDeps
	// builds; New sets it from template.yaml (recording into
	// HAVEN_IAM_RECORD when set), and a test may replace it.
	IAM *iam.Enforcer
	// APIOptions are added to the clients FunctionDeps builds, after the
	// IAM check (a test counting calls).
	APIOptions []func(*middleware.Stack) error

	conn awsconn.Options
}

// External reports whether tests run against an external DynamoDB (moto).
func External() bool { return os.Getenv("HAVEN_TEST_DYNAMODB_ENDPOINT") != "" }

// Options tune New.
type Options struct {
	// MaxAttempts bounds SDK retries (1 for failure tests).
	MaxAttempts int
	// S3 starts an embedded S3 server too.
	S3 bool
	// Now is the clock of the environment (nil: Clock). A test that fixes
	// its own times gives its clock here, so that what the helpers write
	// is dated as the test's own records are.
	Now clock.Clock
}

// New starts a fresh environment, torn down when the test ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	e := &Env{Now: o.Now}
	if e.Now == nil {
		e.Now = Clock()
	}
	endpoint := os.Getenv("HAVEN_TEST_DYNAMODB_ENDPOINT")
	table, keyTable := "HavenTable", "KeyTable"
	if endpoint == "" {
		d, err := embedded.StartDynamoDB("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		e.Dynamo, endpoint = d, d.URL
	} else {
		// A shared external server: a table of its own per test.
		b := make([]byte, 6)
		rand.Read(b)
		table = "HavenTable-" + hex.EncodeToString(b)
		keyTable = "KeyTable-" + hex.EncodeToString(b)
	}
	s3URL := ""
	if o.S3 {
		s, err := embedded.StartS3("127.0.0.1:0", "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		e.S3, s3URL = s, s.URL
	}
	clients, err := awsconn.New(ctx, awsconn.Options{DynamoDBEndpoint: endpoint, S3Endpoint: s3URL, MaxAttempts: o.MaxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	e.Clients, e.DB, e.Table, e.KeyTable = clients, clients.DynamoDB, table, keyTable
	e.conn = awsconn.Options{DynamoDBEndpoint: endpoint, S3Endpoint: s3URL, MaxAttempts: o.MaxAttempts}
	physical := map[string]string{"HavenTable": table, "KeyTable": keyTable}
	if e.IAM, err = iam.Local(Template(t), physical); err != nil {
		t.Fatal(err)
	}
	for _, tb := range Template(t).Tables() {
		if err := embedded.CreateTable(ctx, e.DB, tb, physical[tb.LogicalID]); err != nil {
			t.Fatal(err)
		}
	}
	if o.S3 {
		if err := embedded.CreateBuckets(ctx, s3store.NewClient(clients.Config, s3URL), Template(t).Buckets()); err != nil {
			t.Fatal(err)
		}
	}
	if e.Sealer, err = seal.OpenLocal(filepath.Join(t.TempDir(), "keyset.json")); err != nil {
		t.Fatal(err)
	}
	e.Store = dynamostore.New(e.DB, table, e.Sealer).WithKeyTable(keyTable)
	return e
}

// Partners of the seeded hrd stream.
var Partners = []string{"unhcr", "front-line-defenders", "protectdefenders-eu"}

// Seed creates the streams hrd (open) and closed-stream (closed), and the
// period hrd/year with capacity.
func (e *Env) Seed(t testing.TB, year, capacity int) {
	t.Helper()
	ctx := context.Background()
	for _, st := range []dynamostore.Stream{
		{ID: "hrd", Name: "HRD", Open: true, Partners: Partners},
		{ID: "closed-stream", Name: "Closed", Open: false, Partners: Partners},
	} {
		if err := e.Store.PutStream(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	e.SetCapacity(t, "hrd", year, capacity)
}

// SetCapacity sets a period's capacity directly, recorded at the
// environment's clock.
func (e *Env) SetCapacity(t testing.TB, stream string, year, capacity int) {
	t.Helper()
	c := dynamostore.CapacityChange{Stream: stream, Year: year, Capacity: capacity, ActorRole: "admin", Actor: "test", Nonce: randHex()}
	if _, _, err := e.Store.SetCapacity(context.Background(), c, func(quota.Period) (dynamostore.Idem, error) { return nil, nil }, e.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestCallerKey keys the request log's caller hash in tests.
const TestCallerKey = "test caller key, 32 bytes or more"

// Deps wires Haven's steps to the environment. Logs go to w (nil: discarded);
// now is the steps' clock (nil: the environment's).
func (e *Env) Deps(w io.Writer, now func() time.Time) *api.Deps {
	if w == nil {
		w = io.Discard
	}
	if now == nil {
		now = e.Now
	}
	d := &api.Deps{
		Store: e.Store, Finger: e.Sealer, Cursors: cursor.NewSigner([]byte("test cursor key, 32 bytes or more")),
		Log: slog.New(slog.NewJSONHandler(w, nil)), Claims: apigw.DefaultClaims, Now: now,
		CallerHash: apigw.CallerHash([]byte(TestCallerKey)),
	}
	if e.Clients != nil {
		d.AWS = e.Clients.Config
		if e.S3 != nil {
			d.S3Endpoint = e.S3.URL
		}
		d.ReportsBucket = embedded.BucketName("ReportsBucket")
		d.ExportsBucket = embedded.BucketName("ExportsBucket")
	}
	return d.WithDefaults()
}

// FunctionDeps wires the step of the function whose code is functions/<dir>
// as Deps does, with AWS clients that carry that function's IAM policy
// (e.IAM): a call its role may not make fails as it would in AWS, and so
// does the use of a sealing keyset it is not granted.
func (e *Env) FunctionDeps(t testing.TB, dir string, w io.Writer, now func() time.Time) *api.Deps {
	t.Helper()
	conn := e.conn
	conn.APIOptions = append(e.IAM.APIOptions(LogicalID(t, dir)), e.APIOptions...)
	clients, err := awsconn.New(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	d := e.Deps(w, now)
	// The sealer asks the function's policy before each keyset's use, as
	// KMS asks it before unwrapping the keyset in AWS.
	sealer := e.Sealer.Guarded(e.IAM.KeysetCheck(LogicalID(t, dir)))
	d.Store = dynamostore.New(clients.DynamoDB, e.Table, sealer).WithKeyTable(e.KeyTable)
	d.Finger = sealer
	d.AWS = clients.Config
	return d
}

// LogicalID is the logical id of the function whose code is functions/<dir>.
func LogicalID(t testing.TB, dir string) string {
	t.Helper()
	for _, fn := range Template(t).Functions() {
		if fn.CodeDir == dir {
			return fn.LogicalID
		}
	}
	t.Fatalf("no function with CodeUri functions/%s in template.yaml", dir)
	return ""
}

func randHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
