// Command referralkeys re-seals the referrals sealed before per-referral
// data keys under keys of their own (dynamostore.MigrateReferralKeys), a
// page at a time, printing after each page where it is. It is resumable:
// run it again (from the start, or with -from the last "next" it printed)
// until it reports no more referrals migrated.
//
// In AWS it unwraps the data keyset, so run it as the break-glass role
// (SealingBreakGlassRoleArn: the SealingKey denies kms:Decrypt to everyone
// else), with the stack's outputs and the deployed SealingKeysets value:
//
//	SEALING_KEYSETS=$(cat keyset.b64) go run ./infra/referralkeys \
//	  -table <TableName> -key-table <KeyTableName> -key-arn <SealingKeyArn>
//
// Locally, against a running runner's data directory:
//
//	go run ./infra/referralkeys -table HavenTable -key-table KeyTable \
//	  -keyset-file .haven/keyset.json -endpoint http://127.0.0.1:<dynamodb port>
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/seal"
)

func main() {
	table := flag.String("table", "", "the referral table (stack output TableName)")
	keyTable := flag.String("key-table", "", "the key table (stack output KeyTableName)")
	keyARN := flag.String("key-arn", "", "the SealingKey's ARN; the keysets come from SEALING_KEYSETS")
	keysetFile := flag.String("keyset-file", "", "instead of -key-arn: a local keyset file (the runner's data directory)")
	endpoint := flag.String("endpoint", "", "with -keyset-file: the embedded DynamoDB's URL")
	from := flag.String("from", "", `resume after this key (the "next" a previous run printed)`)
	page := flag.Int("page", 100, "referrals per page")
	flag.Parse()
	if *table == "" || *keyTable == "" || (*keyARN == "") == (*keysetFile == "") || *page < 1 {
		fmt.Fprintln(os.Stderr, "usage: referralkeys -table <name> -key-table <name> (-key-arn <SealingKey ARN> | -keyset-file <path> -endpoint <url>) [-from <next>] [-page n]")
		os.Exit(2)
	}
	if err := run(context.Background(), *table, *keyTable, *keyARN, *keysetFile, *endpoint, *from, *page); err != nil {
		fmt.Fprintln(os.Stderr, "referralkeys:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, table, keyTable, keyARN, keysetFile, endpoint, fromJSON string, page int) error {
	var (
		db     *dynamodb.Client
		sealer *seal.Sealer
	)
	if keysetFile != "" {
		clients, err := awsconn.New(ctx, awsconn.Options{DynamoDBEndpoint: endpoint})
		if err != nil {
			return err
		}
		if sealer, err = seal.OpenLocal(keysetFile); err != nil {
			return err
		}
		db = clients.DynamoDB
	} else {
		var opts []func(*config.LoadOptions) error
		if parts := strings.Split(keyARN, ":"); len(parts) > 3 && parts[3] != "" {
			opts = append(opts, config.WithRegion(parts[3]))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return fmt.Errorf("AWS configuration: %w", err)
		}
		blob, err := base64.StdEncoding.DecodeString(strings.TrimSpace(os.Getenv("SEALING_KEYSETS")))
		if err != nil {
			return fmt.Errorf("SEALING_KEYSETS: not base64: %w", err)
		}
		if sealer, err = seal.OpenKMS(keyARN, blob, kms.NewFromConfig(cfg)); err != nil {
			return err
		}
		db = dynamodb.NewFromConfig(cfg)
	}
	store := dynamostore.New(db, table, sealer).WithKeyTable(keyTable)
	var from map[string]string
	if fromJSON != "" {
		if err := json.Unmarshal([]byte(fromJSON), &from); err != nil {
			return fmt.Errorf("-from: %w", err)
		}
	}
	var total dynamostore.Migration
	for {
		m, err := store.MigrateReferralKeys(ctx, from, page)
		if err != nil {
			return err
		}
		total.Seen, total.Migrated, total.Skipped = total.Seen+m.Seen, total.Migrated+m.Migrated, total.Skipped+m.Skipped
		next, _ := json.Marshal(m.Next)
		fmt.Printf("seen %d, migrated %d, skipped %d (changed meanwhile: run again); next %s\n", total.Seen, total.Migrated, total.Skipped, next)
		if m.Next == nil {
			return nil
		}
		from = m.Next
	}
}
