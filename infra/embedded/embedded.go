package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
// port).
func StartDynamoDB(addr string) (*DynamoDB, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for dynamodb on %s: %w", addr, err)
	}
	s := server.NewServer()
	// DynamoDB's limits and table calls, which minidyn lacks (limits.go).
	hs := &http.Server{Handler: withLimits(s), ReadHeaderTimeout: 10 * time.Second}
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

// Snapshot keeps the embedded DynamoDB's items in a file across restarts:
// minidyn has no persistence of its own, so the runner scans every table out
// on save and batch-writes it back on load.
type Snapshot struct {
	Path   string
	DB     *dynamodb.Client
	Tables []string
	mu     sync.Mutex
}

type snapshotFile struct {
	Tables map[string][]map[string]json.RawMessage `json:"tables"`
}

// Save writes every item of every table to the snapshot file, atomically
// (temp file then rename) so a crash mid-save never loses the old snapshot.
func (s *Snapshot) Save(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := snapshotFile{Tables: map[string][]map[string]json.RawMessage{}}
	n := 0
	for _, t := range s.Tables {
		p := dynamodb.NewScanPaginator(s.DB, &dynamodb.ScanInput{TableName: aws.String(t)})
		items := []map[string]json.RawMessage{}
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return n, fmt.Errorf("scan %s: %w", t, err)
			}
			for _, it := range page.Items {
				enc, err := encodeItem(it)
				if err != nil {
					return n, err
				}
				items = append(items, enc)
				n++
			}
		}
		f.Tables[t] = items
	}
	b, err := json.Marshal(f)
	if err != nil {
		return n, err
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return n, err
	}
	tmp := s.Path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return n, err
	}
	return n, os.Rename(tmp, s.Path)
}

// Load restores a snapshot file, if one exists, into the (new, empty) tables.
func (s *Snapshot) Load(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var f snapshotFile
	if err := json.Unmarshal(b, &f); err != nil {
		return 0, fmt.Errorf("read snapshot %s: %w", s.Path, err)
	}
	n := 0
	for table, items := range f.Tables {
		for start := 0; start < len(items); start += 25 {
			end := min(start+25, len(items))
			var reqs []ddb.WriteRequest
			for _, raw := range items[start:end] {
				it, err := decodeItem(raw)
				if err != nil {
					return n, err
				}
				reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: it}})
			}
			pending := map[string][]ddb.WriteRequest{table: reqs}
			for tries := 0; len(pending) > 0; tries++ {
				if tries > 10 {
					return n, fmt.Errorf("restore %s: items left unprocessed", table)
				}
				out, err := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					return n, fmt.Errorf("restore %s: %w", table, err)
				}
				pending = out.UnprocessedItems
			}
			n += end - start
		}
	}
	return n, nil
}
