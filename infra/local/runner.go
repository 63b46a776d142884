package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/oklog/ulid/v2"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/samtemplate"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/lambdamain"
	"github.com/haven-hrd/haven/shared/s3store"
	"github.com/haven-hrd/haven/shared/seal"
	"github.com/haven-hrd/haven/shared/steps"
)

// Config is the runner's command line.
type Config struct {
	Addr             string
	DynamoDBAddr     string
	S3Addr           string
	DataDir          string
	DynamoDBEndpoint string
	S3Endpoint       string
	Template         string
	Seed             string
	// Log receives the functions' JSON logs.
	Log *slog.Logger
	// Now is the clock of the functions, the seed and the tokens (nil: the
	// machine's).
	Now clock.Clock
	// IAM applies each function's policy to its AWS calls; nil means the
	// template's policies (infra/iam), recorded where HAVEN_IAM_RECORD says.
	IAM *iam.Enforcer
	// ListenAnywhere allows addresses other than loopback (-listen-anywhere);
	// Warnings receives the warning it then prints (nil: standard error).
	ListenAnywhere bool
	Warnings       io.Writer
}

// Runner is a running local stack.
type Runner struct {
	URL, DynamoDBURL, S3URL string

	cfg       Config
	srv       *http.Server
	ln        net.Listener
	dynamo    *embedded.DynamoDB
	s3        *embedded.S3
	journal   *embedded.Journal
	functions map[string]*function
	auth      *authority
}

type function struct {
	fn      samtemplate.Function
	handler lambda.Handler
}

// Start brings the stack up.
func Start(ctx context.Context, cfg Config) (r *Runner, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	if cfg.Now == nil {
		cfg.Now = clock.System
	}
	if cfg.Warnings == nil {
		cfg.Warnings = os.Stderr
	}
	if err := checkAddrs(cfg); err != nil {
		return nil, err
	}
	tpl, err := samtemplate.Load(cfg.Template)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	r = &Runner{cfg: cfg, functions: map[string]*function{}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()

	r.DynamoDBURL = cfg.DynamoDBEndpoint
	if r.DynamoDBURL == "" {
		// The embedded DynamoDB keeps nothing itself: its journal and
		// snapshot in the data directory do.
		r.journal = embedded.NewJournal(cfg.DataDir, cfg.Log)
		// The referrals' data keys live in a file of their own (keys.json),
		// as in AWS in a table of their own: a copy of dynamodb.json holds
		// no key that opens it.
		r.journal.Apart = map[string]string{embedded.TableName("KeyTable"): "keys.json"}
		if r.dynamo, err = embedded.StartDynamoDB(cfg.DynamoDBAddr, r.journal.Wrap); err != nil {
			return r, err
		}
		r.DynamoDBURL = r.dynamo.URL
	}
	r.S3URL = cfg.S3Endpoint
	if r.S3URL == "" {
		if r.s3, err = embedded.StartS3(cfg.S3Addr, filepath.Join(cfg.DataDir, "s3.bolt")); err != nil {
			return r, err
		}
		r.S3URL = r.s3.URL
	}
	clients, err := awsconn.New(ctx, awsconn.Options{DynamoDBEndpoint: r.DynamoDBURL, S3Endpoint: r.S3URL})
	if err != nil {
		return r, err
	}
	tables := tpl.Tables()
	if err := embedded.CreateTables(ctx, clients.DynamoDB, tables); err != nil {
		return r, err
	}
	if err := embedded.CreateBuckets(ctx, s3store.NewClient(clients.Config, r.S3URL), tpl.Buckets()); err != nil {
		return r, err
	}
	if r.journal != nil {
		var names []string
		for _, t := range tables {
			names = append(names, embedded.TableName(t.LogicalID))
		}
		rec, err := r.journal.Recover(names)
		if err != nil {
			return r, err
		}
		cfg.Log.Info("restored the embedded DynamoDB", "items", rec.Items, "journal_records", rec.Replayed, "torn_bytes", rec.Torn)
	}

	refs := map[string]string{}
	for name, p := range tpl.Parameters {
		if p.Default != nil {
			refs[name] = fmt.Sprint(p.Default)
		}
	}
	for _, t := range tables {
		refs[t.LogicalID] = embedded.TableName(t.LogicalID)
	}
	for _, b := range tpl.Buckets() {
		refs[b] = embedded.BucketName(b)
	}
	refs["AWS::Region"], refs["AWS::AccountId"], refs["AWS::StackName"] = "ca-central-1", "000000000000", "haven-local"

	keyset := filepath.Join(cfg.DataDir, "keyset.json")
	cursorKey, err := localSecret(filepath.Join(cfg.DataDir, "cursor.key"))
	if err != nil {
		return r, err
	}
	// The web form's session cookies are sealed with a key kept like the
	// cursor key (SESSION_KEY; in AWS both are derived from the sealer's
	// PRF instead).
	sessionKey, err := localSecret(filepath.Join(cfg.DataDir, "session.key"))
	if err != nil {
		return r, err
	}
	enforcer := cfg.IAM
	if enforcer == nil {
		if enforcer, err = iam.Local(tpl, nil); err != nil {
			return r, fmt.Errorf("IAM policies of the template: %w", err)
		}
	}
	var names claimNames
	for _, fn := range tpl.Functions() {
		env := samtemplate.ResolveEnv(fn.Env, refs)
		// Locally, personal data is sealed with a keyset in the data dir
		// instead of KMS.
		env["KMS_KEY_ARN"] = ""
		env["KEYSET_FILE"] = keyset
		env["CURSOR_KEY"] = cursorKey
		env["DYNAMODB_ENDPOINT"] = r.DynamoDBURL
		env["S3_ENDPOINT"] = r.S3URL
		le := lambdamain.Env{
			Table: env["TABLE_NAME"], KeyTable: env["KEY_TABLE_NAME"], LegacySealed: env["LEGACY_SEALED_REFERRALS"], ReportsBucket: env["REPORTS_BUCKET"], ExportsBucket: env["EXPORTS_BUCKET"],
			KeysetFile: env["KEYSET_FILE"], CursorKey: env["CURSOR_KEY"],
			ClaimRole: env["CLAIM_ROLE"], ClaimPartner: env["CLAIM_PARTNER"],
			DynamoDBEndpoint: env["DYNAMODB_ENDPOINT"], S3Endpoint: env["S3_ENDPOINT"],
			// The web form signs in locally with a development sign-in that
			// picks a partner (the runner plays the identity provider).
			SessionKey: sessionKey, DevSignIn: true,
			Now: cfg.Now,
		}
		names = claimNames{Role: orDefault(le.ClaimRole, "custom:role"), Partner: orDefault(le.ClaimPartner, "custom:partner")}
		construct, ok := steps.ByDir[fn.CodeDir]
		if !ok {
			// A function in the template with no code yet: say so loudly
			// and serve the rest (a test fails the build for this).
			fmt.Fprintf(os.Stderr, "warning: %s (functions/%s) has no registered step; its routes are not served\n", fn.LogicalID, fn.CodeDir)
			continue
		}
		// Each function's clients carry its own IAM policy: a call its role
		// would be refused in AWS is refused here too.
		conn := awsconn.Options{DynamoDBEndpoint: le.DynamoDBEndpoint, S3Endpoint: le.S3Endpoint, APIOptions: enforcer.APIOptions(fn.LogicalID)}
		deps, err := lambdamain.Deps(ctx, le, cfg.Log.With("function", fn.LogicalID), conn, guarded(steps.OpenSealer(fn.CodeDir), enforcer.KeysetCheck(fn.LogicalID)))
		if err != nil {
			return r, fmt.Errorf("function %s: %w", fn.LogicalID, err)
		}
		r.functions[fn.LogicalID] = &function{fn: fn, handler: lambda.NewHandler(construct(deps))}
	}
	if r.auth, err = loadAuthority(cfg.DataDir, names, cfg.Now); err != nil {
		return r, err
	}
	r.auth.scopes = tpl.APIScopes()

	if cfg.Seed != "" {
		sealer, err := seal.OpenLocal(keyset)
		if err != nil {
			return r, err
		}
		st := dynamostore.New(clients.DynamoDB, refs["HavenTable"], sealer).WithKeyTable(refs["KeyTable"])
		if err := seed(ctx, st, cfg.Seed, cfg.Now()); err != nil {
			return r, err
		}
	}

	mux := http.NewServeMux()
	for _, f := range r.functions {
		for _, rt := range f.fn.Routes {
			pattern := rt.Method + " " + goPattern(rt.Path)
			if rt.Method == "ANY" {
				pattern = goPattern(rt.Path)
			}
			mux.Handle(pattern, r.route(f, rt))
		}
	}
	mux.Handle("POST /_local/tokens", closed(http.HandlerFunc(r.tokens)))
	mux.Handle("POST /_local/invoke/{logicalID}", closed(http.HandlerFunc(r.invoke)))
	if r.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return r, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	r.URL = "http://" + r.ln.Addr().String()
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(r.ln)
	return r, nil
}

// guarded opens a function's sealer with open and, when it is a keyset
// sealer, makes each use of a keyset ask check first: the function's IAM
// grant of that keyset's KMS encryption context (iam.Enforcer.KeysetCheck),
// which KMS would check when unwrapping it in AWS.
func guarded(open lambdamain.OpenSealer, check func(purpose string) error) lambdamain.OpenSealer {
	return func(ctx context.Context, env lambdamain.Env, cfg aws.Config, log *slog.Logger) (lambdamain.Sealer, error) {
		s, err := open(ctx, env, cfg, log)
		if err != nil {
			return nil, err
		}
		if ks, ok := s.(*seal.Sealer); ok {
			return ks.Guarded(check), nil
		}
		return s, nil
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// goPattern turns an API Gateway path into a ServeMux pattern: {id} is the
// same, a greedy {proxy+} becomes {proxy...}, and / matches only itself.
func goPattern(p string) string {
	if p == "/" {
		return "/{$}" // the root alone, not every path (the web form's GET /)
	}
	return strings.ReplaceAll(p, "+}", "...}")
}

// localSecret returns a random secret kept in path (created on first use):
// 256 bits from crypto/rand (a ULID's randomness is not meant for keys).
func localSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	s := rand.Text() + rand.Text()
	return s, os.WriteFile(path, []byte(s), 0o600)
}

// closed guards the runner's own endpoints (/_local/*), which hand out any
// role's token with no sign-in. A web page the developer visits must not
// reach them: a Host other than loopback means the request came through
// another name that resolves here (DNS rebinding), and a body that is not
// application/json is what a cross-site form or simple fetch can send
// without a CORS preflight, which the runner never grants.
func closed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !apigw.LoopbackHost(req.Host) {
			localError(w, http.StatusForbidden, "the /_local endpoints answer only to a loopback Host (localhost, 127.0.0.1, [::1])")
			return
		}
		if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			localError(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json")
			return
		}
		next.ServeHTTP(w, req)
	})
}

// checkAddrs refuses to listen beyond this machine unless asked to: the
// runner has no real sign-in and hands out tokens to whoever asks.
func checkAddrs(cfg Config) error {
	var wide []string
	for _, a := range []string{cfg.Addr, cfg.DynamoDBAddr, cfg.S3Addr} {
		if a == "" {
			continue
		}
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("address %q: %w", a, err)
		}
		if !apigw.LoopbackHost(host) {
			wide = append(wide, a)
		}
	}
	if len(wide) == 0 {
		return nil
	}
	if !cfg.ListenAnywhere {
		return fmt.Errorf("%s would be reachable from other machines; use a loopback address (127.0.0.1) or pass -listen-anywhere", strings.Join(wide, ", "))
	}
	fmt.Fprintf(cfg.Warnings, "WARNING: listening on %s: anyone who can reach it can take any role's token, read and change every local record. Never put real personal data in a local runner.\n", strings.Join(wide, ", "))
	return nil
}

func (r *Runner) route(f *function, rt samtemplate.Route) http.Handler {
	routeKey := rt.Method + " " + rt.Path
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// A public route (Auth.Authorizer NONE: the web form) reaches its
		// function with no authorizer context, as in API Gateway.
		var claims map[string]string
		var err error
		if !rt.Public {
			claims, err = r.auth.verify(req.Header.Get("Authorization"))
		}
		if errors.Is(err, errScope) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"Forbidden"}`))
			return
		}
		if err != nil {
			// What the HttpApi JWT authorizer answers: the function never runs.
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer`)
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"Unauthorized"}`))
			return
		}
		body, err := readBody(req, 1<<20)
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if len(body) > 1<<20 {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			w.Write([]byte(`{"message":"Request Entity Too Large"}`))
			return
		}
		params := map[string]string{}
		for _, name := range pathParamNames(rt.Path) {
			params[name] = req.PathValue(name)
		}
		ev := buildEvent(req, routeKey, params, claims, ulid.Make().String(), body, r.cfg.Now())
		payload, err := json.Marshal(ev)
		if err != nil {
			http.Error(w, "cannot build event", http.StatusInternalServerError)
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), timeout(f.fn))
		defer cancel()
		out, err := f.handler.Invoke(ctx, payload)
		if err != nil {
			// What API Gateway answers when the integration fails.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"message":"Internal Server Error"}`))
			return
		}
		writeResponse(w, out)
	})
}

func timeout(fn samtemplate.Function) time.Duration {
	if fn.Timeout > 0 {
		return time.Duration(fn.Timeout) * time.Second
	}
	return 3 * time.Second
}

func pathParamNames(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.Trim(seg, "{}"), "+"))
		}
	}
	return out
}

func (r *Runner) tokens(w http.ResponseWriter, req *http.Request) {
	var tr tokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr); err != nil {
		localError(w, http.StatusBadRequest, "body must be JSON like {\"role\": \"partner\", \"partner\": \"front-line-defenders\"}")
		return
	}
	tok, err := r.auth.issue(tr)
	if err != nil {
		localError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

func localError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// invoke runs a scheduled function now with the event EventBridge Scheduler
// would send, and returns the function's result.
func (r *Runner) invoke(w http.ResponseWriter, req *http.Request) {
	f, ok := r.functions[req.PathValue("logicalID")]
	if !ok {
		localError(w, http.StatusNotFound, "no such function in template.yaml")
		return
	}
	now := r.cfg.Now()
	ev := events.EventBridgeEvent{
		Version: "0", ID: ulid.Make().String(), DetailType: "Scheduled Event", Source: "aws.scheduler",
		AccountID: "000000000000", Time: now, Region: "ca-central-1",
		Resources: []string{"arn:aws:scheduler:ca-central-1:000000000000:schedule/default/" + f.fn.LogicalID},
		Detail:    json.RawMessage(`{}`),
	}
	payload, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(req.Context(), timeout(f.fn))
	defer cancel()
	out, err := f.handler.Invoke(ctx, payload)
	if err != nil {
		localError(w, http.StatusBadGateway, "function failed: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

// Close saves the data and stops everything.
func (r *Runner) Close() error {
	var errs []error
	if r.srv != nil {
		errs = append(errs, r.srv.Close())
	}
	if r.journal != nil {
		// Every acknowledged write is already on disk; folding it into the
		// snapshot makes the next start quicker.
		errs = append(errs, r.journal.Close())
	}
	if r.dynamo != nil {
		errs = append(errs, r.dynamo.Close())
	}
	if r.s3 != nil {
		errs = append(errs, r.s3.Close())
	}
	return errors.Join(errs...)
}
