package awsconn

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Options say where the clients connect. Empty endpoints mean the real AWS
// services with the default credential chain (Lambda's role).
type Options struct {
	DynamoDBEndpoint string
	// S3Endpoint only marks the run as local (fixed credentials, fixed
	// region): this package builds no S3 client, so that a binary importing
	// it does not link the S3 SDK. shared/s3store.NewClient builds one from
	// Clients.Config and the same endpoint.
	S3Endpoint string
	// MaxAttempts bounds SDK retries; 0 keeps the SDK default (3). Tests of
	// failure handling set 1 so an emulated outage surfaces at once.
	MaxAttempts int
}

// Clients are the SDK clients one process shares.
type Clients struct {
	DynamoDB *dynamodb.Client
	// Config is the loaded configuration, for the other clients (KMS, S3).
	Config aws.Config
}

// New loads configuration without any network call (credentials resolve
// lazily), so it is safe in a Lambda init phase.
func New(ctx context.Context, o Options) (*Clients, error) {
	opts := []func(*config.LoadOptions) error{}
	local := o.DynamoDBEndpoint != "" || o.S3Endpoint != ""
	if local {
		// Embedded servers accept any signature; fixed credentials keep a
		// developer's real AWS profile out of local runs entirely.
		opts = append(opts,
			config.WithRegion("ca-central-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		)
	}
	if o.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryer(func() aws.Retryer {
			return retry.AddWithMaxAttempts(retry.NewStandard(), o.MaxAttempts)
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
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
