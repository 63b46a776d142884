package lambdamain

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/cursor"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/seal"
)

// Env is the configuration a function reads; each name is set in
// template.yaml's Globals.
type Env struct {
	Table            string
	ReportsBucket    string
	ExportsBucket    string
	KMSKeyARN        string
	KeysetFile       string
	SealingKeysets   string
	CursorKey        string
	ClaimRole        string
	ClaimPartner     string
	DynamoDBEndpoint string
	S3Endpoint       string
	// SessionKey, OIDCIssuer and OIDCClientID configure the web-form
	// function (SESSION_KEY, OIDC_ISSUER, OIDC_CLIENT_ID).
	SessionKey   string
	OIDCIssuer   string
	OIDCClientID string
	// DevSignIn turns on the web form's development sign-in. Only the local
	// runner sets it: FromEnviron never does, so no deployed function can.
	DevSignIn bool
}

// FromEnviron reads Env from the process environment.
func FromEnviron() Env {
	return Env{
		Table: os.Getenv("TABLE_NAME"), ReportsBucket: os.Getenv("REPORTS_BUCKET"),
		ExportsBucket: os.Getenv("EXPORTS_BUCKET"), KMSKeyARN: os.Getenv("KMS_KEY_ARN"),
		KeysetFile: os.Getenv("KEYSET_FILE"), SealingKeysets: os.Getenv("SEALING_KEYSETS"),
		CursorKey: os.Getenv("CURSOR_KEY"),
		ClaimRole: os.Getenv("CLAIM_ROLE"), ClaimPartner: os.Getenv("CLAIM_PARTNER"),
		DynamoDBEndpoint: os.Getenv("DYNAMODB_ENDPOINT"), S3Endpoint: os.Getenv("S3_ENDPOINT"),
		SessionKey: os.Getenv("SESSION_KEY"), OIDCIssuer: os.Getenv("OIDC_ISSUER"), OIDCClientID: os.Getenv("OIDC_CLIENT_ID"),
	}
}

// Run starts the handler construct builds (a step constructor such as
// api.GetPeriod, jobs.DailyReport or webform.Step). It never returns. Each
// functions/<dir>/main.go names its own constructor, so its binary links
// that step only.
func Run(construct func(*api.Deps) any) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := Handler(context.Background(), construct, FromEnviron(), log)
	if err != nil {
		log.Error("cannot start", "function", os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}

// Handler builds the handler of construct from env (the local runner calls
// it with the constructor shared/steps maps the function's directory to).
func Handler(ctx context.Context, construct func(*api.Deps) any, env Env, log *slog.Logger) (any, error) {
	if construct == nil {
		return nil, fmt.Errorf("no step constructor")
	}
	deps, err := Deps(ctx, env, log, awsconn.Options{DynamoDBEndpoint: env.DynamoDBEndpoint, S3Endpoint: env.S3Endpoint})
	if err != nil {
		return nil, err
	}
	return construct(deps), nil
}

// Deps wires the clients and keys described by env.
func Deps(ctx context.Context, env Env, log *slog.Logger, conn awsconn.Options) (*api.Deps, error) {
	clients, err := awsconn.New(ctx, conn)
	if err != nil {
		return nil, err
	}
	var sealer *seal.Sealer
	switch {
	case env.KeysetFile != "":
		sealer, err = seal.OpenLocal(env.KeysetFile)
	case env.KMSKeyARN != "":
		var blob []byte
		if blob, err = base64.StdEncoding.DecodeString(env.SealingKeysets); err == nil {
			sealer, err = seal.OpenKMS(ctx, env.KMSKeyARN, blob, seal.WithKMSClient(kms.NewFromConfig(clients.Config)))
		}
	default:
		err = fmt.Errorf("neither KEYSET_FILE nor KMS_KEY_ARN is set")
	}
	if err != nil {
		return nil, fmt.Errorf("open sealer: %w", err)
	}
	d := &api.Deps{
		Store:         dynamostore.New(clients.DynamoDB, env.Table, sealer),
		Finger:        sealer,
		Cursors:       cursors(env.CursorKey, sealer),
		AWS:           clients.Config,
		S3Endpoint:    env.S3Endpoint,
		ReportsBucket: env.ReportsBucket,
		ExportsBucket: env.ExportsBucket,
		Log:           log,
		Claims:        apigw.ClaimNames{Role: env.ClaimRole, Partner: env.ClaimPartner},
		Web: api.WebConfig{
			SessionKey: []byte(env.SessionKey), DevSignIn: env.DevSignIn,
			OIDCIssuer: env.OIDCIssuer, OIDCClientID: env.OIDCClientID,
		},
	}
	if d.Claims.Role == "" {
		d.Claims.Role = apigw.DefaultClaims.Role
	}
	if d.Claims.Partner == "" {
		d.Claims.Partner = apigw.DefaultClaims.Partner
	}
	return d.WithDefaults(), nil
}

// cursors returns the list-cursor signer. Locally the key is a file in the
// data directory; in AWS it is derived from the fingerprint PRF (no extra
// secret to deploy), lazily, because deriving it calls KMS once.
func cursors(key string, sealer *seal.Sealer) api.Cursors {
	if key != "" {
		return cursor.NewSigner([]byte(key))
	}
	return &lazyCursors{derive: func() (*cursor.Signer, error) {
		k, err := sealer.Fingerprint("haven/cursor-key/v1")
		if err != nil {
			return nil, err
		}
		return cursor.NewSigner([]byte(k)), nil
	}}
}

type lazyCursors struct {
	mu     sync.Mutex
	signer *cursor.Signer
	derive func() (*cursor.Signer, error)
}

func (l *lazyCursors) get() (*cursor.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signer == nil {
		s, err := l.derive()
		if err != nil {
			return nil, err
		}
		l.signer = s
	}
	return l.signer, nil
}

func (l *lazyCursors) Encode(scope string, key map[string]string) string {
	s, err := l.get()
	if err != nil {
		// Without a key no cursor can be made; an empty one ends the list
		// early rather than leaking an unsigned key.
		return ""
	}
	return s.Encode(scope, key)
}

func (l *lazyCursors) Decode(scope, token string) (map[string]string, error) {
	s, err := l.get()
	if err != nil {
		return nil, problem.Wrap(problem.Unavailable, err)
	}
	return s.Decode(scope, token)
}
