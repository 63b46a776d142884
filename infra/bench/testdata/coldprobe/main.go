// Command coldprobe is the partner-export function with its SDK calls timed:
// in a fresh process, with the function's environment, it wires the
// function as lambdamain does, invokes its handler through aws-lambda-go
// (minus the runtime API) once cold and once warm, and prints what it
// measured as JSON on stdout. infra/bench's TestColdStartBreakdown builds
// and runs it; it links what the function links plus this instrumentation,
// so that its code and heap are the function's.
//
// Each SDK call is split into phases: pre (the SDK's work before the
// request leaves: serialisation, endpoint rules, checksums, signing), dial
// (waiting for a connection: a new one, or an idle one), write (request on
// the wire), server (request written to first response byte: the
// emulator's time, and the wait for a CPU of both processes), post
// (response read and deserialised).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime/metrics"
	"runtime/trace"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/lambdamain"
)

// Call is one SDK call; times are milliseconds from the invocation's start.
type Call struct {
	Op     string  `json:"op"`
	Label  string  `json:"label"` // the query's key, or the object's
	Start  float64 `json:"start"`
	Pre    float64 `json:"pre"`
	Dial   float64 `json:"dial"`
	Write  float64 `json:"write"`
	Server float64 `json:"server"`
	Post   float64 `json:"post"`
	End    float64 `json:"end"`
	Reused bool    `json:"reused"`
}

// Invocation is one invocation of the handler.
type Invocation struct {
	WallMS  float64 `json:"wall_ms"`
	CPUMS   float64 `json:"cpu_ms"` // the process's, all threads
	GCs     uint64  `json:"gcs"`
	AllocKB uint64  `json:"alloc_kb"`
	Calls   []Call  `json:"calls"`
}

// Report is what the probe prints.
type Report struct {
	// MainMS is the wiring, from main to the handler's construction.
	MainMS      float64      `json:"main_ms"`
	HeapKB      uint64       `json:"heap_kb"` // allocated before the first invocation
	Invocations []Invocation `json:"invocations"`
}

type call struct {
	op, label                                          string
	start, sent, conn, wrote, first, deserialized, end time.Time
	reused                                             bool
}

type calls struct {
	mu   sync.Mutex
	list []*call
}

type callKey struct{}

// middleware times each call: from the start of its initialize step to
// the handing of the request to the HTTP client, and back.
func (cs *calls) middleware(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("coldprobeCall", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c := &call{op: middleware.GetOperationName(ctx), start: time.Now()}
		switch p := in.Parameters.(type) {
		case *dynamodb.QueryInput:
			if v, ok := p.ExpressionAttributeValues[":pk"].(*ddb.AttributeValueMemberS); ok {
				c.label = v.Value
			}
		case *s3.PutObjectInput:
			c.label = aws.ToString(p.Key)
		}
		cs.mu.Lock()
		cs.list = append(cs.list, c)
		cs.mu.Unlock()
		out, md, err := next.HandleInitialize(context.WithValue(ctx, callKey{}, c), in)
		c.end = time.Now()
		return out, md, err
	}), middleware.Before)
	if err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("coldprobeSend", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		c, _ := ctx.Value(callKey{}).(*call)
		if c != nil {
			c.sent = time.Now()
		}
		out, md, err := next.HandleDeserialize(ctx, in)
		if c != nil {
			c.deserialized = time.Now()
		}
		return out, md, err
	}), middleware.After)
}

// tracingClient notes when a call got its connection, wrote its request
// and saw the first byte of the answer.
type tracingClient struct{ inner aws.HTTPClient }

func (t tracingClient) Do(r *http.Request) (*http.Response, error) {
	if c, _ := r.Context().Value(callKey{}).(*call); c != nil {
		r = r.WithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{
			GotConn:              func(i httptrace.GotConnInfo) { c.conn, c.reused = time.Now(), i.Reused },
			WroteRequest:         func(httptrace.WroteRequestInfo) { c.wrote = time.Now() },
			GotFirstResponseByte: func() { c.first = time.Now() },
		}))
	}
	return t.inner.Do(r)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heap() (allocBytes, gcs uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "coldprobe:", err)
		os.Exit(1)
	}
}

func run() error {
	t0 := time.Now()
	ctx := context.Background()
	env := lambdamain.FromEnviron()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	conn := awsconn.Options{DynamoDBEndpoint: env.DynamoDBEndpoint, S3Endpoint: env.S3Endpoint}
	deps, err := lambdamain.Deps(ctx, env, log, conn, lambdamain.NoPersonalData)
	if err != nil {
		return err
	}
	// The same clients, timed: DynamoDB's rebuilt from awsconn's options,
	// S3's built by the job from deps.AWS.
	clients, err := awsconn.New(ctx, conn)
	if err != nil {
		return err
	}
	cs := &calls{}
	httpClient := tracingClient{awshttp.NewBuildableClient()}
	db := dynamodb.New(clients.DynamoDB.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, cs.middleware)
		o.HTTPClient = tracingClient{awshttp.NewBuildableClient()}
	})
	sealer, _ := lambdamain.NoPersonalData(ctx, env, clients.Config, log)
	deps.Store = dynamostore.New(db, env.Table, sealer)
	deps.AWS.APIOptions = append(deps.AWS.APIOptions, cs.middleware)
	deps.AWS.HTTPClient = httpClient
	h := lambda.NewHandler(jobs.PartnerExport(deps))
	rep := Report{MainMS: ms(time.Since(t0))}
	rep.HeapKB, _ = heap()
	rep.HeapKB >>= 10
	payload := []byte(`{"version":"0","detail-type":"Scheduled Event","source":"aws.scheduler","time":"2026-11-27T08:00:00Z","detail":{}}`)
	if p := os.Getenv("COLDPROBE_TRACE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
	}
	for i := range 2 {
		cs.mu.Lock()
		cs.list = nil
		cs.mu.Unlock()
		a0, g0 := heap()
		c0, start := cpu(), time.Now()
		if _, err := h.Invoke(ctx, payload); err != nil {
			return err
		}
		wall, used := time.Since(start), cpu()-c0
		a1, g1 := heap()
		if i == 0 && os.Getenv("COLDPROBE_TRACE") != "" {
			trace.Stop()
		}
		inv := Invocation{WallMS: ms(wall), CPUMS: ms(used), GCs: g1 - g0, AllocKB: (a1 - a0) >> 10}
		cs.mu.Lock()
		for _, c := range cs.list {
			at := func(t time.Time) float64 { return ms(t.Sub(start)) }
			span := func(a, b time.Time) float64 {
				if a.IsZero() || b.IsZero() || b.Before(a) {
					return 0
				}
				return ms(b.Sub(a))
			}
			wrote := c.wrote
			if wrote.Before(c.conn) {
				wrote = c.conn
			}
			inv.Calls = append(inv.Calls, Call{
				Op: c.op, Label: c.label, Start: at(c.start), End: at(c.end), Reused: c.reused,
				Pre: span(c.start, c.sent), Dial: span(c.sent, c.conn), Write: span(c.conn, c.wrote),
				Server: span(wrote, c.first), Post: span(c.first, c.end),
			})
		}
		cs.mu.Unlock()
		rep.Invocations = append(rep.Invocations, inv)
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}
