package rie

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/samtemplate"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/clock"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/s3store"
	"github.com/haven-hrd/haven/shared/seal"
)

// Partners of the seeded stream "hrd".
var Partners = []string{"unhcr", "front-line-defenders", "protectdefenders-eu"}

// Stack is the embedded DynamoDB and S3 the functions run against, with the
// template's table and buckets, the stream "hrd" and its period for the
// current year.
type Stack struct {
	Template *samtemplate.Template
	DynamoDB *embedded.DynamoDB
	S3       *embedded.S3
	Store    *dynamostore.Store
	// Now is when the stack started, by the machine's clock; Year the
	// seeded period and Today the date, both Toronto's (quota.YearOf), as
	// the functions reckon them.
	Now   time.Time
	Year  int
	Today string
	// KeysetFile is the local keyset file every function opens.
	KeysetFile string
	refs       map[string]string
	// iam answers each function's calls through a proxy of its own in
	// front of the servers (the built binaries carry no IAM middleware).
	iam     *iam.Enforcer
	proxies []*http.Server
}

// StartStack starts the servers; dir holds the keyset. Close stops them.
func StartStack(ctx context.Context, root, dir string, capacity int) (*Stack, error) {
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	// The functions under the emulator are the deployable binaries, which
	// read the machine's clock: the stack's dates must agree with theirs.
	now := clock.System()
	s := &Stack{Template: tpl, Now: now, Year: quota.YearOf(now), Today: now.In(quota.Location()).Format(time.DateOnly), KeysetFile: filepath.Join(dir, "keyset.json")}
	if s.DynamoDB, err = embedded.StartDynamoDB("127.0.0.1:0"); err != nil {
		return nil, err
	}
	if s.S3, err = embedded.StartS3("127.0.0.1:0", ""); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.seed(ctx, capacity); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Stack) seed(ctx context.Context, capacity int) error {
	clients, err := awsconn.New(ctx, awsconn.Options{DynamoDBEndpoint: s.DynamoDB.URL, S3Endpoint: s.S3.URL})
	if err != nil {
		return err
	}
	tables := s.Template.Tables()
	if err := embedded.CreateTables(ctx, clients.DynamoDB, tables); err != nil {
		return err
	}
	if err := embedded.CreateBuckets(ctx, s3store.NewClient(clients.Config, s.S3.URL), s.Template.Buckets()); err != nil {
		return err
	}
	// The functions open this keyset file; create it once here rather than
	// have several processes race to create it.
	sealer, err := seal.OpenLocal(s.KeysetFile)
	if err != nil {
		return err
	}
	s.Store = dynamostore.New(clients.DynamoDB, embedded.TableName("HavenTable"), sealer).WithKeyTable(embedded.TableName("KeyTable"))
	if err := s.Store.PutStream(ctx, dynamostore.Stream{ID: "hrd", Name: "HRD", Open: true, Partners: Partners}); err != nil {
		return err
	}
	c := dynamostore.CapacityChange{Stream: "hrd", Year: s.Year, Capacity: capacity, ActorRole: "admin", Actor: "seed", Nonce: randHex()}
	if _, _, err := s.Store.SetCapacity(ctx, c, func(quota.Period) (dynamostore.Idem, error) { return nil, nil }, s.Now); err != nil {
		return err
	}
	s.refs = refs(s.Template)
	s.iam, err = iam.Local(s.Template, nil)
	return err
}

// proxy serves function's calls to the server at target through its IAM
// policy, and returns the proxy's URL.
func (s *Stack) proxy(function, service, target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: s.iam.Proxy(function, service, u), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.proxies = append(s.proxies, srv)
	return "http://" + ln.Addr().String(), nil
}

// refs are the values Ref and Fn::GetAtt give locally, as in infra/local.
func refs(tpl *samtemplate.Template) map[string]string {
	r := map[string]string{}
	for name, v := range tpl.ParameterDefaults() {
		r[name] = v
	}
	for _, t := range tpl.Tables() {
		r[t.LogicalID] = embedded.TableName(t.LogicalID)
	}
	for _, b := range tpl.Buckets() {
		r[b] = embedded.BucketName(b)
	}
	r["AWS::Region"], r["AWS::AccountId"], r["AWS::StackName"] = "ca-central-1", "000000000000", "haven-rie"
	return r
}

// CursorKey is the list-cursor key the functions get (CURSOR_KEY).
const CursorKey = "rie test cursor key, 32 bytes or more"

// Env is the whole process environment of a function under the emulator:
// its variables from the template (Globals merged, intrinsics resolved),
// pointed at the embedded servers, with a local keyset instead of KMS.
//
// The function reaches the servers directly, as the benchmarks want it;
// EnforcedEnv puts its IAM policy in between.
func (s *Stack) Env(fn samtemplate.Function) []string {
	return s.env(fn, s.DynamoDB.URL, s.S3.URL)
}

// EnforcedEnv is Env with the function reaching the servers through a proxy
// that applies its IAM policy (infra/iam), so a call its role could not make
// in AWS fails as it would there.
func (s *Stack) EnforcedEnv(fn samtemplate.Function) ([]string, error) {
	dynamo, err := s.proxy(fn.LogicalID, "DynamoDB", s.DynamoDB.URL)
	if err != nil {
		return nil, err
	}
	objects, err := s.proxy(fn.LogicalID, "S3", s.S3.URL)
	if err != nil {
		return nil, err
	}
	return s.env(fn, dynamo, objects), nil
}

func (s *Stack) env(fn samtemplate.Function, dynamo, objects string) []string {
	vars := samtemplate.ResolveEnv(fn.Env, s.refs)
	vars["KMS_KEY_ARN"] = ""
	vars["SEALING_KEYSETS"] = ""
	vars["KEYSET_FILE"] = s.KeysetFile
	vars["CURSOR_KEY"] = CursorKey
	vars["DYNAMODB_ENDPOINT"] = dynamo
	vars["S3_ENDPOINT"] = objects
	// No SESSION_KEY: as in AWS, the web form derives its session keys from
	// the sealer on first use.
	vars["AWS_REGION"] = "ca-central-1"
	vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"] = "local", "local"
	vars["AWS_LAMBDA_FUNCTION_NAME"] = fn.LogicalID
	if fn.MemorySize > 0 {
		vars["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = fmt.Sprint(fn.MemorySize)
	}
	if fn.Timeout > 0 {
		vars["AWS_LAMBDA_FUNCTION_TIMEOUT"] = fmt.Sprint(fn.Timeout)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TZ=UTC"}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// Close stops the servers.
func (s *Stack) Close() {
	for _, p := range s.proxies {
		p.Close()
	}
	if s.DynamoDB != nil {
		s.DynamoDB.Close()
	}
	if s.S3 != nil {
		s.S3.Close()
	}
}

func randHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
