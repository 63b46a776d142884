package lambdamain

import (
	"context"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/cursor"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
)

// Env is the configuration a function reads; each name is set in
// template.yaml's Globals.
type Env struct {
	Table    string
	KeyTable string
	// LegacySealed is "refuse" once every referral has a data key of its
	// own (LEGACY_SEALED_REFERRALS; dynamostore.RefusingLegacy).
	LegacySealed     string
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
	// function (SESSION_KEY, OIDC_ISSUER, OIDC_CLIENT_ID). SessionKey is
	// set by the local runner and tests only: in AWS it is empty and the
	// form takes its session keys from the sealer's session keyset on first
	// use, as list cursors take theirs from the cursor keyset (webform.Step).
	SessionKey   string
	OIDCIssuer   string
	OIDCClientID string
	// DevSignIn turns on the web form's development sign-in. Only the local
	// runner sets it: FromEnviron never does, so no deployed function can.
	DevSignIn bool
	// Now is the clock. FromEnviron leaves it nil, the machine's clock; the
	// local runner hands down its own (its -clock flag, or a test's).
	Now func() time.Time
}

// FromEnviron reads Env from the process environment.
func FromEnviron() Env {
	return Env{
		Table: os.Getenv("TABLE_NAME"), KeyTable: os.Getenv("KEY_TABLE_NAME"), LegacySealed: os.Getenv("LEGACY_SEALED_REFERRALS"), ReportsBucket: os.Getenv("REPORTS_BUCKET"),
		ExportsBucket: os.Getenv("EXPORTS_BUCKET"), KMSKeyARN: os.Getenv("KMS_KEY_ARN"),
		KeysetFile: os.Getenv("KEYSET_FILE"), SealingKeysets: os.Getenv("SEALING_KEYSETS"),
		CursorKey: os.Getenv("CURSOR_KEY"),
		ClaimRole: os.Getenv("CLAIM_ROLE"), ClaimPartner: os.Getenv("CLAIM_PARTNER"),
		DynamoDBEndpoint: os.Getenv("DYNAMODB_ENDPOINT"), S3Endpoint: os.Getenv("S3_ENDPOINT"),
		SessionKey: os.Getenv("SESSION_KEY"), OIDCIssuer: os.Getenv("OIDC_ISSUER"), OIDCClientID: os.Getenv("OIDC_CLIENT_ID"),
	}
}

// Sealer seals, opens and fingerprints personal data, and holds the keys
// of sessions, cursors and the log's caller hash (*seal.Sealer). Each key
// is unwrapped on its first use, so a function uses, and is granted, only
// the keysets its step needs.
type Sealer interface {
	dynamostore.Sealer
	api.Fingerprinter
	SessionKeys() ([][]byte, error)
	CursorKeys() ([][]byte, error)
	CallerKey() ([]byte, error)
}

// OpenSealer opens a function's sealer from its environment; cfg is the AWS
// configuration, for a KMS client, and log the function's logger. Opening
// makes no network call.
type OpenSealer func(ctx context.Context, env Env, cfg aws.Config, log *slog.Logger) (Sealer, error)

// RunWithoutSealer starts the handler construct builds for a function whose
// step handles no personal data (api.GetPeriod, jobs.DailyReport, ...): it
// opens no sealer, so the binary links neither shared/seal nor the KMS client, and
// its store's sealer refuses every call (NoPersonalData). It never returns.
// A function that seals, opens or fingerprints calls sealing.Run instead;
// shared/steps records which is which and tests each main.go against it.
func RunWithoutSealer(construct func(*api.Deps) any) {
	Start(construct, NoPersonalData)
}

// Start starts the handler construct builds, with the sealer open opens. It
// never returns. functions/<dir>/main.go calls it through RunWithoutSealer
// or sealing.Run, naming its own constructor so that its binary links that
// step only.
func Start(construct func(*api.Deps) any, open OpenSealer) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := Handler(context.Background(), construct, FromEnviron(), log, open)
	if err != nil {
		log.Error("cannot start", "function", os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}

// Handler builds the handler of construct from env. (The local runner calls
// Deps itself, to give each function's clients its IAM policy.)
func Handler(ctx context.Context, construct func(*api.Deps) any, env Env, log *slog.Logger, open OpenSealer) (any, error) {
	if construct == nil {
		return nil, fmt.Errorf("no step constructor")
	}
	deps, err := Deps(ctx, env, log, awsconn.Options{DynamoDBEndpoint: env.DynamoDBEndpoint, S3Endpoint: env.S3Endpoint}, open)
	if err != nil {
		return nil, err
	}
	return construct(deps), nil
}

// Deps wires the clients and keys described by env, with the sealer open
// opens.
func Deps(ctx context.Context, env Env, log *slog.Logger, conn awsconn.Options, open OpenSealer) (*api.Deps, error) {
	if open == nil {
		return nil, fmt.Errorf("no sealer opener (sealing.Open or lambdamain.NoPersonalData)")
	}
	clients, err := awsconn.New(ctx, conn)
	if err != nil {
		return nil, err
	}
	sealer, err := open(ctx, env, clients.Config, log)
	if err != nil {
		return nil, fmt.Errorf("open sealer: %w", err)
	}
	store := dynamostore.New(clients.DynamoDB, env.Table, sealer).WithKeyTable(env.KeyTable)
	if env.LegacySealed == "refuse" {
		store = store.RefusingLegacy()
	}
	d := &api.Deps{
		Store:         store,
		Finger:        sealer,
		Cursors:       cursors(env.CursorKey, sealer.CursorKeys),
		CallerHash:    callerHash(env.CursorKey, sealer),
		AWS:           clients.Config,
		S3Endpoint:    env.S3Endpoint,
		ReportsBucket: env.ReportsBucket,
		ExportsBucket: env.ExportsBucket,
		Log:           log,
		Now:           env.Now,
		Claims:        apigw.ClaimNames{Role: env.ClaimRole, Partner: env.ClaimPartner},
		Web: api.WebConfig{
			SessionKey: []byte(env.SessionKey), SessionKeys: sealer.SessionKeys, DevSignIn: env.DevSignIn,
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

// ErrNoPersonalData is what the sealer of a function wired with
// RunWithoutSealer answers to every call: its step was declared to handle no
// personal data, so a call means the declaration is wrong. The sealer logs
// the refusal at ERROR level (the step's own log shows only an internal
// error) and the store answers 500; nothing is written or read in clear.
var ErrNoPersonalData = errors.New("this function does not handle personal data: it has no sealer (its main.go must call sealing.Run to seal, open or fingerprint)")

// NoPersonalData is the OpenSealer of functions that handle no personal
// data: a sealer that refuses every call with ErrNoPersonalData.
func NoPersonalData(_ context.Context, _ Env, _ aws.Config, log *slog.Logger) (Sealer, error) {
	if log == nil {
		log = slog.Default()
	}
	return refusingSealer{log: log}, nil
}

type refusingSealer struct{ log *slog.Logger }

func (s refusingSealer) refuse(op string) error {
	s.log.Error("sealer refused", "operation", op, "error", ErrNoPersonalData.Error())
	return ErrNoPersonalData
}

func (s refusingSealer) Seal(_, _ []byte) ([]byte, error)   { return nil, s.refuse("seal") }
func (s refusingSealer) Open(_, _ []byte) ([]byte, error)   { return nil, s.refuse("open") }
func (s refusingSealer) Fingerprint(string) (string, error) { return "", s.refuse("fingerprint") }
func (s refusingSealer) SessionKeys() ([][]byte, error)     { return nil, s.refuse("session keys") }
func (s refusingSealer) NewRecordKey([]byte) (cipher.AEAD, []byte, error) {
	return nil, nil, s.refuse("new record key")
}
func (s refusingSealer) OpenRecordKey(_, _ []byte) (cipher.AEAD, error) {
	return nil, s.refuse("open record key")
}
func (s refusingSealer) CursorKeys() ([][]byte, error) { return nil, s.refuse("cursor keys") }
func (s refusingSealer) CallerKey() ([]byte, error)    { return nil, s.refuse("caller key") }

// cursors returns the list-cursor signer. Locally the key is a file in the
// data directory; in AWS the keys are the cursor keyset's (the current one
// signs, the one a rotation retired still checks), taken lazily because
// unwrapping the keyset calls KMS once.
func cursors(key string, keys func() ([][]byte, error)) api.Cursors {
	if key != "" {
		return cursor.NewSigner([]byte(key))
	}
	return &lazyCursors{derive: func() (*cursor.Signer, error) {
		ks, err := keys()
		if err != nil {
			return nil, err
		}
		return cursor.NewSigner(ks[0], ks[1:]...), nil
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

// callerHash is the request log's keyed hash of callers' subjects. Locally
// its key is derived from the cursor key file; in AWS it is the caller
// keyset's, taken lazily (unwrapping it calls KMS once), like the cursor
// keys. A function without a sealer has no key: its request lines carry no
// caller hash (it serves no personal data).
func callerHash(key string, sealer Sealer) func(string) string {
	if key != "" {
		k := sha256.Sum256([]byte("haven/caller-key/v1\x00" + key))
		return apigw.CallerHash(k[:])
	}
	if _, none := sealer.(refusingSealer); none {
		return nil
	}
	var mu sync.Mutex
	var hash func(string) string
	return func(subject string) string {
		mu.Lock()
		defer mu.Unlock()
		if hash == nil {
			k, err := sealer.CallerKey()
			if err != nil {
				// Tried again on the next request; this line goes without.
				return ""
			}
			hash = apigw.CallerHash(k)
		}
		return hash(subject)
	}
}
