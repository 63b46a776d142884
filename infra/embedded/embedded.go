package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/truora/minidyn/server"
	bolt "go.etcd.io/bbolt"

	"github.com/haven-hrd/haven/infra/samtemplate"
)

// DynamoDB is a running embedded DynamoDB API server.
type DynamoDB struct {
	URL string
	// Server gives tests the failure emulation of minidyn.
	Server *server.Server
	srv    *http.Server
	ln     net.Listener
}

// StartDynamoDB serves the DynamoDB API on addr ("127.0.0.1:0" for a free
// port). Each wrap (such as a Journal's Wrap) is put in front of the server,
// the last outermost.
func StartDynamoDB(addr string, wraps ...func(http.Handler) http.Handler) (*DynamoDB, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for dynamodb on %s: %w", addr, err)
	}
	s := server.NewServer()
	// The wraps (the runner's journal) sit right on minidyn, so they see
	// exactly the writes minidyn applies, in its order — a refused write
	// never reaches them, and the writes the limits make themselves (putting
	// back an item an update grew past 400 KB) are journaled too. DynamoDB's
	// limits and table calls, which minidyn lacks, come first (limits.go).
	var h http.Handler = s
	for _, wrap := range wraps {
		h = wrap(h)
	}
	hs := &http.Server{Handler: withLimits(h), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return &DynamoDB{URL: "http://" + ln.Addr().String(), Server: s, srv: hs, ln: ln}, nil
}

// Close stops the server.
func (d *DynamoDB) Close() error { return d.srv.Close() }

// S3 is a running embedded S3 API server.
type S3 struct {
	URL string
	srv *http.Server
	// closeBackend releases the bolt file, when there is one.
	closeBackend func() error
}

// StartS3 serves the S3 API on addr. With a non-empty file, objects persist
// in that bolt file across restarts; otherwise they live in memory.
func StartS3(addr, file string) (*S3, error) {
	var backend gofakes3.Backend
	closeBackend := func() error { return nil }
	if file != "" {
		// Opened here rather than with s3bolt.NewFile so the file can be
		// closed: a restart in the same process must be able to reopen it.
		db, err := bolt.Open(file, 0o600, &bolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("open s3 data %s: %w", file, err)
		}
		backend, closeBackend = s3bolt.New(db), db.Close
	} else {
		backend = s3mem.New()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		closeBackend()
		return nil, fmt.Errorf("listen for s3 on %s: %w", addr, err)
	}
	faker := gofakes3.New(backend, gofakes3.WithIntegrityCheck(true))
	hs := &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return &S3{URL: "http://" + ln.Addr().String(), srv: hs, closeBackend: closeBackend}, nil
}

// Close stops the server and releases its data file.
func (s *S3) Close() error {
	err := s.srv.Close()
	return errors.Join(err, s.closeBackend())
}

// TableName is the local name of a template table: its logical id.
func TableName(logicalID string) string { return logicalID }

// BucketName is the local name of a template bucket: S3 bucket names must be
// lower case.
func BucketName(logicalID string) string { return strings.ToLower(logicalID) }

// CreateTables creates every table of the template that does not exist yet,
// each ACTIVE when it returns.
func CreateTables(ctx context.Context, db *dynamodb.Client, tables []samtemplate.Table) error {
	for _, t := range tables {
		if err := CreateTable(ctx, db, t, TableName(t.LogicalID)); err != nil {
			return err
		}
	}
	return nil
}

// CreateTable creates t under name unless a table of that name exists.
func CreateTable(ctx context.Context, db *dynamodb.Client, t samtemplate.Table, name string) error {
	{
		if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err == nil {
			return nil
		}
		in := &dynamodb.CreateTableInput{
			TableName:   aws.String(name),
			BillingMode: ddb.BillingModePayPerRequest,
			KeySchema:   keySchema(t.HashKey, t.RangeKey),
		}
		for attr, typ := range t.AttributeTypes {
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddb.AttributeDefinition{
				AttributeName: aws.String(attr), AttributeType: ddb.ScalarAttributeType(typ),
			})
		}
		for _, g := range t.GSIs {
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddb.GlobalSecondaryIndex{
				IndexName:  aws.String(g.Name),
				KeySchema:  keySchema(g.HashKey, g.RangeKey),
				Projection: &ddb.Projection{ProjectionType: ddb.ProjectionTypeAll},
			})
		}
		if _, err := db.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("create table %s: %w", name, err)
		}
		// The embedded server creates tables ACTIVE, so the waiter's first
		// look (immediate) suffices there; DynamoDB takes seconds.
		if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 5*time.Minute); err != nil {
			return fmt.Errorf("wait for table %s: %w", name, err)
		}
	}
	return nil
}

func keySchema(hash, rng string) []ddb.KeySchemaElement {
	ks := []ddb.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddb.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, ddb.KeySchemaElement{AttributeName: aws.String(rng), KeyType: ddb.KeyTypeRange})
	}
	return ks
}

// CreateBuckets creates the template's buckets that do not exist yet.
func CreateBuckets(ctx context.Context, c *s3.Client, logicalIDs []string) error {
	for _, id := range logicalIDs {
		name := BucketName(id)
		if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
			continue
		}
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}
