package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/referral"
)

// PutReferralsRaw writes referral items with BatchWriteItem, bypassing the
// create transaction (no uniqueness, no audit): for read-side tests that
// need more items than transactions on the embedded server would seed fast.
func (s *Store) PutReferralsRaw(ctx context.Context, rs []referral.Referral) error {
	for len(rs) > 0 {
		n := min(25, len(rs))
		var reqs []ddb.WriteRequest
		for _, r := range rs[:n] {
			it, err := s.toItem(r, nil) // sealed by the data keyset, as before per-referral keys
			if err != nil {
				return err
			}
			m, err := attributevalue.MarshalMap(it)
			if err != nil {
				return err
			}
			reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: m}})
		}
		if _, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{s.table: reqs}}); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return nil
}

var _ = aws.String
