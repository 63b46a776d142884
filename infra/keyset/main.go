// Command keyset makes the SealingKeysets parameter of a deployed stack: a
// fresh data keyset (AES-256-GCM, field encryption) and fingerprint keyset
// (HMAC-SHA256), each wrapped by the stack's KMS key, printed as base64.
// Run it once per environment with credentials that may use the key
// (kms:Encrypt; -rotate also kms:Decrypt), from the default AWS configuration
// (profile, environment or SSO):
//
//	go run ./infra/keyset -key-arn arn:aws:kms:ca-central-1:123456789012:key/…
//
// New keysets cannot open what old ones sealed: make them once per
// environment. To rotate the data key, pass the deployed value; the output
// keeps every old key (so old data still opens) and seals with a new one:
//
//	go run ./infra/keyset -key-arn arn:… -rotate "$CURRENT_SEALING_KEYSETS"
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/haven-hrd/haven/shared/seal"
)

func main() {
	arn := flag.String("key-arn", "", "ARN of the stack's DataKey (output of the stack or the KMS console)")
	rotate := flag.String("rotate", "", "the current SealingKeysets value: print it with a new data key added instead of making new keysets")
	flag.Parse()
	if *arn == "" {
		fmt.Fprintln(os.Stderr, "usage: keyset -key-arn <KMS key ARN> [-rotate <current SealingKeysets>]")
		os.Exit(2)
	}
	if err := run(context.Background(), *arn, *rotate); err != nil {
		fmt.Fprintln(os.Stderr, "keyset:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, arn, current string) error {
	// The key's region, whatever the profile's default region is.
	var opts []func(*config.LoadOptions) error
	if parts := strings.Split(arn, ":"); len(parts) > 3 && parts[3] != "" {
		opts = append(opts, config.WithRegion(parts[3]))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	client := kms.NewFromConfig(cfg)
	var blob []byte
	if current == "" {
		blob, err = seal.GenerateKeysets(ctx, arn, client)
	} else {
		var old []byte
		if old, err = base64.StdEncoding.DecodeString(strings.TrimSpace(current)); err != nil {
			return fmt.Errorf("-rotate: not base64: %w", err)
		}
		blob, err = seal.RotateDataKeyset(ctx, arn, old, client)
	}
	if err != nil {
		return err
	}
	fmt.Println(base64.StdEncoding.EncodeToString(blob))
	return nil
}
