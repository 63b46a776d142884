package dynamostore

import (
	"context"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/referral"
)

func admitPK(stream string, year int) string { return "ADMIT#" + stream + "#" + strconv.Itoa(year) }

// admissionUpdate counts an arrival in its arrival year's admissions, in
// the arrival's transaction: persons, per partner (partner#<p>) and per
// quota year used (quota#<y>), flat for the same reason as the period's.
func (s *Store) admissionUpdate(r referral.Referral) ddb.TransactWriteItem {
	year := quota.AdmissionYear(r.ArrivedOn)
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:        aws.String(s.table),
		Key:              key(admitPK(r.Stream, year), skMain),
		UpdateExpression: aws.String("SET #st = :s, #y = :y, #n = if_not_exists(#n, :zero) + :n, #p = if_not_exists(#p, :zero) + :n, #q = if_not_exists(#q, :zero) + :n"),
		ExpressionAttributeNames: map[string]string{
			"#st": "stream", "#y": "year", "#n": "persons", "#p": "partner#" + r.Partner, "#q": "quota#" + strconv.Itoa(r.Period),
		},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":s": str(r.Stream), ":y": num(year), ":zero": num(0), ":n": num(r.Persons),
		},
	}}
}

// Admissions reads a stream's admissions of a year (zero when nobody
// arrived that year).
func (s *Store) Admissions(ctx context.Context, stream string, year int) (quota.Admissions, error) {
	a := quota.Admissions{Stream: stream, Year: year, ByPartner: map[string]int{}, ByQuotaYear: map[int]int{}}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(admitPK(stream, year), skMain), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return a, classify(err)
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		return a, problem.Wrap(problem.Internal, err)
	}
	for k, v := range m {
		n, ok := v.(float64)
		if !ok {
			continue
		}
		switch {
		case k == "persons":
			a.Persons = int(n)
		case strings.HasPrefix(k, "partner#"):
			a.ByPartner[k[len("partner#"):]] = int(n)
		case strings.HasPrefix(k, "quota#"):
			if y, err := strconv.Atoi(k[len("quota#"):]); err == nil {
				a.ByQuotaYear[y] = int(n)
			}
		}
	}
	return a, nil
}
