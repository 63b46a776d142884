package awsconn

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// Options say where the clients connect. Empty endpoints mean the real AWS
// services, with the region and credentials Lambda puts in the environment.
type Options struct {
	DynamoDBEndpoint string
	// S3Endpoint only marks the run as local (fixed credentials, fixed
	// region): this package builds no S3 client, so that a binary importing
	// it does not link the S3 SDK. shared/s3store.NewClient builds one from
	// Clients.Config and the same endpoint.
	S3Endpoint string
	// MaxAttempts bounds SDK retries; 0 keeps each client's own standard
	// retryer (DynamoDB's: 4 attempts). Tests of failure handling set 1 so an
	// emulated outage surfaces at once.
	MaxAttempts int
	// APIOptions go on the configuration, so every client built from it
	// (DynamoDB here, KMS and S3 from Clients.Config) carries them: the
	// local runner and the tests put a function's IAM policy there
	// (infra/iam). Nil in Lambda.
	APIOptions []func(*middleware.Stack) error
}

// Clients are the SDK clients one process shares.
type Clients struct {
	DynamoDB *dynamodb.Client
	// Config is the configuration, for the other clients (KMS, S3).
	Config aws.Config
}

// LocalRegion is the region of local runs (any region works against the
// embedded servers; this one is Haven's).
const LocalRegion = "ca-central-1"

// New builds the configuration and the DynamoDB client without any network
// call, so it is safe in a Lambda init phase.
//
// It does not use the SDK's config.LoadDefaultConfig: that links the shared
// config files, IMDS and the STS, SSO, SSO-OIDC and sign-in clients of the
// default credential chain (about 2 MB of every binary), none of which a
// Lambda function uses. In Lambda the region is AWS_REGION and the
// credentials of the function's role are AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, valid for the life of the
// execution environment: that is what the default chain finds there first,
// and all this reads. Outside Lambda, against real AWS, export the same
// variables (aws configure export-credentials --format env).
func New(_ context.Context, o Options) (*Clients, error) {
	cfg, err := Config(o)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(cfg, func(op *dynamodb.Options) {
		if o.DynamoDBEndpoint != "" {
			op.BaseEndpoint = aws.String(o.DynamoDBEndpoint)
			// minidyn does not compute response CRC32s; without this the SDK
			// logs a warning for every response.
			op.DisableValidateResponseChecksum = true
		}
	})
	return &Clients{DynamoDB: db, Config: cfg}, nil
}

// Config is the SDK configuration of o: the values config.LoadDefaultConfig
// gives when nothing but Lambda's environment is set (standard logger,
// legacy defaults mode, checksums when supported, no retryer so that each
// client keeps its own standard retryer, DynamoDB's with 4 attempts),
// with the region and credentials described at New.
func Config(o Options) (aws.Config, error) {
	cfg := aws.Config{
		Logger:                     logging.NewStandardLogger(os.Stderr),
		DefaultsMode:               aws.DefaultsModeLegacy,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		APIOptions:                 o.APIOptions,
	}
	if o.DynamoDBEndpoint != "" || o.S3Endpoint != "" {
		// Embedded servers accept any signature; fixed credentials keep a
		// developer's real AWS credentials out of local runs entirely.
		cfg.Region = LocalRegion
		cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
	} else {
		cfg.Region = os.Getenv("AWS_REGION")
		if cfg.Region == "" {
			return aws.Config{}, errors.New("load aws config: AWS_REGION is not set (Lambda sets it)")
		}
		if _, err := (EnvCredentials{}).Retrieve(context.Background()); err != nil {
			return aws.Config{}, fmt.Errorf("load aws config: %w", err)
		}
		cfg.Credentials = EnvCredentials{}
	}
	if o.MaxAttempts > 0 {
		cfg.Retryer = func() aws.Retryer {
			return retry.AddWithMaxAttempts(retry.NewStandard(), o.MaxAttempts)
		}
	}
	return cfg, nil
}

// EnvCredentials are the credentials in the process environment, read at
// every Retrieve: in Lambda, the function role's, which Lambda sets before
// init and keeps valid for the life of the execution environment.
type EnvCredentials struct{}

// Retrieve returns AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, or an error when either of the first two is unset.
func (EnvCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	c := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		Source:          "EnvConfigCredentials",
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Credentials{}, errors.New("no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them)")
	}
	return c, nil
}

// ProviderSources names the source in the SDK's user agent, as the default
// chain does for environment credentials.
func (EnvCredentials) ProviderSources() []aws.CredentialSource {
	return []aws.CredentialSource{aws.CredentialSourceEnvVars}
}
