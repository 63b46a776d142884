package dynamostore

import (
	"context"
	"iter"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

// Read side of the scheduled jobs (daily report, partner export). Nothing
// here unseals personal data: the referral queries project only the
// attributes that identify no one, so the sealed ones are never even read.

// streamsGSI is the gsi1 partition listing streams (gsi1sk: the id).
// Periods are listed under periodsGSI (gsi1sk: <stream>#<year>, see
// lifecycle.go).
const streamsGSI = "STREAMS"

// ScanPageSize is how many items one query page of the scheduled jobs
// holds. It is set explicitly because not every DynamoDB implementation
// applies the 1 MB page limit; it bounds the memory of a job, whatever the
// number of referrals.
const ScanPageSize = 500

// queryAll pages through one gsi partition, oldest first, calling fn with
// each raw item.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]ddb.AttributeValue) error) error {
	in.TableName = aws.String(s.table)
	in.Limit = aws.Int32(ScanPageSize)
	in.ScanIndexForward = aws.Bool(true)
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return classify(err)
		}
		for _, raw := range out.Items {
			if err := fn(raw); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func gsi1Query(pk string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(pk)},
	}
}

// Streams lists every stream, by id.
func (s *Store) Streams(ctx context.Context) ([]Stream, error) {
	var out []Stream
	err := s.queryAll(ctx, gsi1Query(streamsGSI), func(raw map[string]ddb.AttributeValue) error {
		var it streamItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return problem.Wrap(problem.Internal, err)
		}
		out = append(out, it.Stream)
		return nil
	})
	return out, err
}

// Periods lists every period with its counters, by stream then year. The
// index is eventually consistent: a capacity change of the last second may
// not show yet (the daily report can live with that).
func (s *Store) Periods(ctx context.Context) ([]quota.Period, error) {
	var out []quota.Period
	err := s.queryAll(ctx, gsi1Query(periodsGSI), func(raw map[string]ddb.AttributeValue) error {
		p, err := decodePeriod(raw)
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// bareAttributes are the referral attributes that identify no one: the
// projection of the scheduled jobs' queries.
var bareAttributes = []string{
	"pk", "sk", "id", "partner", "stream", "partner_reference", "urgency", "status",
	"persons", "period", "reasons", "arrived_on", "created_at", "updated_at", "version",
	"holds", "disposed_at",
}

func bareProjection() (string, map[string]string) {
	names := make(map[string]string, len(bareAttributes))
	expr := ""
	for i, a := range bareAttributes {
		n := "#a" + strconv.Itoa(i)
		names[n] = a
		if i > 0 {
			expr += ", "
		}
		expr += n
	}
	return expr, names
}

// referralsBare pages through the referrals of one index partition, oldest
// first, with Bare detail.
func (s *Store) referralsBare(ctx context.Context, index, pkAttr, pkVal string, keep func(referralItem) bool) iter.Seq2[referral.Referral, error] {
	return func(yield func(referral.Referral, error) bool) {
		proj, names := bareProjection()
		names["#pk"] = pkAttr
		in := &dynamodb.QueryInput{
			IndexName:                 aws.String(index),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(pkVal)},
			ProjectionExpression:      aws.String(proj),
		}
		stop := errStop{}
		err := s.queryAll(ctx, in, func(raw map[string]ddb.AttributeValue) error {
			var it referralItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return problem.Wrap(problem.Internal, err)
			}
			if keep != nil && !keep(it) {
				return nil
			}
			r, err := s.fromItem(it, Bare, nil)
			if err != nil {
				return problem.Wrap(problem.Internal, err)
			}
			if !yield(r, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != error(stop) {
			yield(referral.Referral{}, err)
		}
	}
}

type errStop struct{}

func (errStop) Error() string { return "iteration stopped" }

// ReferralsOfPartner yields every referral of partner, oldest first, with
// Bare detail: no personal data is read, let alone unsealed. It pages, so
// memory does not grow with the number of referrals. After an error it
// yields nothing more.
func (s *Store) ReferralsOfPartner(ctx context.Context, partner string) iter.Seq2[referral.Referral, error] {
	return s.referralsBare(ctx, "gsi1", "gsi1pk", partnerGSI(partner), nil)
}

// ReferralsOfStream yields every referral of stream ("" for every stream),
// oldest first, with Bare detail. There is no per-stream index: it reads the
// all-referrals list and keeps the stream's, which suits a daily job.
func (s *Store) ReferralsOfStream(ctx context.Context, stream string) iter.Seq2[referral.Referral, error] {
	var keep func(referralItem) bool
	if stream != "" {
		keep = func(it referralItem) bool { return it.Stream == stream }
	}
	return s.referralsBare(ctx, "gsi2", "gsi2pk", allReferralsGSI, keep)
}
