package awsconn

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Options say where the clients connect. Empty endpoints mean the real AWS
// services with the default credential chain (Lambda's role).
type Options struct {
	DynamoDBEndpoint string
	S3Endpoint       string
	// MaxAttempts bounds SDK retries; 0 keeps the SDK default (3). Tests of
	// failure handling set 1 so an emulated outage surfaces at once.
	MaxAttempts int
}

// Clients are the SDK clients one process shares.
type Clients struct {
	DynamoDB *dynamodb.Client
	S3       *s3.Client
	Config   aws.Config
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
	s3c := s3.NewFromConfig(cfg, func(op *s3.Options) {
		if o.S3Endpoint != "" {
			op.BaseEndpoint = aws.String(o.S3Endpoint)
			op.UsePathStyle = true
		}
	})
	return &Clients{DynamoDB: db, S3: s3c, Config: cfg}, nil
}
