// Package s3store is Haven's S3 adapter: streaming uploads of reports and
// exports through the SDK's transfer manager, and the reads tests and
// operators use to check them. It knows nothing of what the files hold.
package s3store

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Upload buffers. A streamed upload holds at most Threshold bytes while it
// decides between one PUT and a multipart upload, then (Concurrency+1) parts
// of PartSize: a fixed bound, whatever the size of the object. 5 MiB is the
// smallest part S3 accepts. The threshold is low so that every export big
// enough to matter takes the same (multipart) path and the same memory.
const (
	PartSize    = 5 << 20
	Threshold   = 1 << 20
	Concurrency = 2
)

// Bucket uploads to and reads from one bucket. It is safe for concurrent use.
type Bucket struct {
	s3   *s3.Client
	tm   *transfermanager.Client
	name string
}

// New returns a Bucket over the named bucket; the client is shared.
func New(client *s3.Client, name string) *Bucket {
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = PartSize
		o.MultipartUploadThreshold = Threshold
		o.Concurrency = Concurrency
	})
	return &Bucket{s3: client, tm: tm, name: name}
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Upload streams body to key, replacing any object there. Encryption is the
// bucket's default (SSE-KMS with Haven's key in AWS). A failed multipart
// upload is aborted by the transfer manager; the bucket's lifecycle rule
// removes any part left behind.
func (b *Bucket) Upload(ctx context.Context, key, contentType string, body io.Reader) error {
	_, err := b.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(key), Body: body,
		ContentType: aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", b.name, key, err)
	}
	return nil
}

// Get reads a whole object. It is meant for small objects (manifests) and
// for tests.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.name, key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// Open streams an object; the caller closes it.
func (b *Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.name, key, err)
	}
	return out.Body, nil
}

// Keys lists the keys under prefix, sorted.
func (b *Bucket) Keys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(b.s3, &s3.ListObjectsV2Input{Bucket: aws.String(b.name), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", b.name, prefix, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys, nil
}
