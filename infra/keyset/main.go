// Command keyset makes the SealingKeysets parameter of a deployed stack: a
// fresh keyset per purpose (data: AES-256-GCM field encryption;
// fingerprint: HMAC-SHA256 identities; session, cursor and caller: the web
// form's cookies, list cursors and the log's caller hash), each wrapped by
// the stack's SealingKey, printed as base64. Run it from the default AWS
// configuration (profile, environment or SSO):
//
//	go run ./infra/keyset -key-arn arn:aws:kms:ca-central-1:123456789012:key/…
//
// Making keysets needs kms:Encrypt only. New keysets cannot open what old
// ones sealed: make them once per environment.
//
// To rotate, pass the deployed value: the data keyset gains a new primary
// and keeps every old key (old data still opens); the session and cursor
// keysets gain one and keep only the previous (a cookie or cursor of the
// previous key is accepted until it expires or the next rotation); a keyset
// the value lacks (session, cursor, caller in values made before them) is
// added. The SealingKey's policy lets only the sealing functions and the
// break-glass role (SealingBreakGlassRoleArn) decrypt, so rotate as that
// role:
//
//	go run ./infra/keyset -key-arn arn:… -rotate "$CURRENT_SEALING_KEYSETS"
//
// To move keysets wrapped by the stack's DataKey (before the SealingKey
// existed) to the SealingKey, keys unchanged, with a role that may decrypt
// with the DataKey:
//
//	go run ./infra/keyset -from-key-arn <DataKey ARN> -key-arn <SealingKey ARN> -rewrap "$CURRENT_SEALING_KEYSETS"
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/haven-hrd/haven/shared/seal"
)

func main() {
	arn := flag.String("key-arn", "", "ARN of the stack's SealingKey (output SealingKeyArn of the stack)")
	rotate := flag.String("rotate", "", "the current SealingKeysets value: print it rotated (see the package documentation)")
	rewrap := flag.String("rewrap", "", "the current SealingKeysets value, wrapped by -from-key-arn: print it wrapped by -key-arn instead")
	from := flag.String("from-key-arn", "", "with -rewrap: the KMS key that wraps the current value (the stack's DataKey)")
	flag.Parse()
	if *arn == "" || (*rotate != "" && *rewrap != "") || (*rewrap != "") != (*from != "") {
		fmt.Fprintln(os.Stderr, "usage: keyset -key-arn <SealingKey ARN> [-rotate <current SealingKeysets> | -from-key-arn <old key ARN> -rewrap <current SealingKeysets>]")
		os.Exit(2)
	}
	if err := run(context.Background(), *arn, *rotate, *from, *rewrap); err != nil {
		fmt.Fprintln(os.Stderr, "keyset:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, arn, rotate, from, rewrap string) error {
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
	current := func(flagName, v string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("-%s: not base64: %w", flagName, err)
		}
		return b, nil
	}
	var blob []byte
	switch {
	case rotate != "":
		old, err := current("rotate", rotate)
		if err != nil {
			return err
		}
		blob, err = seal.RotateKeysets(ctx, arn, old, client)
		if err != nil {
			return err
		}
	case rewrap != "":
		old, err := current("rewrap", rewrap)
		if err != nil {
			return err
		}
		blob, err = seal.RewrapKeysets(ctx, from, arn, old, client)
		if err != nil {
			return err
		}
	default:
		if blob, err = seal.GenerateKeysets(ctx, arn, client); err != nil {
			return err
		}
	}
	if len(blob) == 0 {
		return errors.New("no keysets made")
	}
	fmt.Println(base64.StdEncoding.EncodeToString(blob))
	return nil
}
