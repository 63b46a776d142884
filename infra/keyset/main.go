// Command keyset makes the SealingKeysets parameter of a deployed stack:
// fresh Tink keysets (field encryption, fingerprints) wrapped by the stack's
// KMS key, printed as base64.
// Run it once per environment with credentials that may use the key:
//
//	go run ./infra/keyset -key-arn arn:aws:kms:ca-central-1:123456789012:key/…
//
// New keysets cannot open what old ones sealed: make them once per environment.
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"

	"github.com/haven-hrd/haven/shared/seal"
)

func main() {
	arn := flag.String("key-arn", "", "ARN of the stack's DataKey (output of the stack or the KMS console)")
	flag.Parse()
	if *arn == "" {
		fmt.Fprintln(os.Stderr, "usage: keyset -key-arn <KMS key ARN>")
		os.Exit(2)
	}
	blob, err := seal.GenerateKeysets(context.Background(), *arn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyset:", err)
		os.Exit(1)
	}
	fmt.Println(base64.StdEncoding.EncodeToString(blob))
}
