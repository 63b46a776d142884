// Package s3store is Haven's S3 adapter: streaming uploads of reports and
// exports, and the reads tests and operators use to check them. It knows
// nothing of what the files hold.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// PartSize is the size of an upload's buffer, and of every part of a
// multipart upload but the last: 5 MiB, the smallest part S3 accepts.
//
// Memory is fixed, whatever the size of the object: a streamed upload that
// outgrows SmallSize holds one part buffer, fills it from the stream, sends
// it (one part in flight, the stream waits meanwhile), and fills it again.
// An object that ends within the first buffer is sent with one PUT from that
// same buffer. (The SDK's transfer manager was used before; it buffers by
// the size of the object, up to its first part, and allocates
// (concurrency + 1) parts afresh for each multipart upload, so its peak
// depended on the size of the export.)
const PartSize = 5 << 20

// SmallSize is what a streamed upload reads before it takes a part buffer:
// an object that ends within it is sent with one PUT from this small
// buffer, without taking, let alone faulting in, 5 MiB. (shared/export
// streams only files that outgrow its own 64 kB buffer; smaller ones come
// in memory.) A larger object is copied into a part buffer and goes
// on as above, so the memory of an export of any size past SmallSize is
// still one part buffer per upload.
const SmallSize = 64 << 10

// maxIdleParts is how many part buffers the process keeps for reuse: the
// partner export (shared/jobs) runs up to 4 partners at once, each with two
// streamed uploads (CSV and JSON Lines), so at most 8 part buffers (40 MiB)
// are in use at once and all of them can be reused by the next partners and
// the next warm invocation. The daily report's bodies, the manifests and
// the exports' small files are in memory already and take none (see Upload).
const maxIdleParts = 8

// parts holds the idle part buffers of the process, shared by every Bucket.
var parts = make(chan []byte, maxIdleParts)

// getPart returns an idle part buffer, or a new one. A new buffer is written
// once (zeroed) so that its pages are resident from the start: the process's
// peak memory is then the buffers' full size whether an object fills them or
// not, the ceiling Lambda's memory setting must allow for anyway, instead of
// a figure that creeps up with the size of the files.
func getPart() []byte {
	select {
	case b := <-parts:
		return b
	default:
		b := make([]byte, PartSize)
		clear(b) // memory fresh from the OS is not resident until written
		return b
	}
}

func putPart(b []byte) {
	select {
	case parts <- b:
	default:
	}
}

// abortTimeout bounds the abort of a failed multipart upload, which runs
// even when the upload's context is done.
const abortTimeout = 30 * time.Second

// Bucket uploads to and reads from one bucket. It is safe for concurrent use.
type Bucket struct {
	s3   *s3.Client
	name string
}

// NewClient builds the S3 client of cfg without any network call. A
// non-empty endpoint is the embedded server of the local runner and the
// tests, addressed path-style; empty means the real S3.
func NewClient(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(op *s3.Options) {
		if endpoint != "" {
			op.BaseEndpoint = aws.String(endpoint)
			op.UsePathStyle = true
		}
	})
}

// New returns a Bucket over the named bucket; the client is shared.
func New(client *s3.Client, name string) *Bucket {
	return &Bucket{s3: client, name: name}
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Upload streams body to key, replacing any object there: one PUT if body
// ends within PartSize bytes, otherwise a multipart upload of PartSize
// parts; each part carries a CRC32 that S3 checks. Encryption is the
// bucket's default (SSE-KMS with Haven's key in AWS). A multipart upload
// that fails is aborted, so that no object appears; the bucket's lifecycle
// rule removes any part an abort could not.
//
// A body already in memory (a *bytes.Reader or *strings.Reader of at most
// PartSize bytes, read from its current position) is sent as it is, with
// one PUT and no copy; a streamed body that ends within SmallSize bytes
// takes a small buffer, not a part buffer.
func (b *Bucket) Upload(ctx context.Context, key, contentType string, body io.Reader) error {
	if r, ok := body.(inMemory); ok && r.Len() <= PartSize {
		return b.put(ctx, key, contentType, r, r.Len())
	}
	small := make([]byte, SmallSize)
	n, err := io.ReadFull(body, small)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return b.put(ctx, key, contentType, bytes.NewReader(small[:n]), n)
	}
	if err != nil {
		return fmt.Errorf("upload s3://%s/%s: read: %w", b.name, key, err)
	}
	buf := getPart()
	defer putPart(buf)
	copy(buf, small)
	m, err := io.ReadFull(body, buf[n:])
	n += m
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return b.put(ctx, key, contentType, bytes.NewReader(buf[:n]), n)
	}
	if err != nil {
		return fmt.Errorf("upload s3://%s/%s: read: %w", b.name, key, err)
	}
	if err := b.multipart(ctx, key, contentType, body, buf); err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", b.name, key, err)
	}
	return nil
}

// inMemory is a body whose bytes are all in memory: the SDK can hash it,
// and rewind it to retry, without a copy.
type inMemory interface {
	io.ReadSeeker
	Len() int
}

var (
	_ inMemory = (*bytes.Reader)(nil)
	_ inMemory = (*strings.Reader)(nil)
)

// put sends body, n bytes, with one PutObject.
func (b *Bucket) put(ctx context.Context, key, contentType string, body io.ReadSeeker, n int) error {
	_, err := b.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(key), ContentType: aws.String(contentType),
		Body: body, ContentLength: aws.Int64(int64(n)),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", b.name, key, err)
	}
	return nil
}

// multipart uploads buf (a full first part) and the rest of body.
func (b *Bucket) multipart(ctx context.Context, key, contentType string, body io.Reader, buf []byte) error {
	created, err := b.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(key), ContentType: aws.String(contentType),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return err
	}
	var done []types.CompletedPart
	err = func() error {
		n := len(buf)
		for num := int32(1); ; num++ {
			out, err := b.s3.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: aws.String(b.name), Key: aws.String(key), UploadId: created.UploadId,
				PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
				ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
			})
			if err != nil {
				return fmt.Errorf("part %d: %w", num, err)
			}
			done = append(done, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
			n, err = io.ReadFull(body, buf)
			switch {
			case err == io.EOF:
				return nil
			case err == io.ErrUnexpectedEOF:
				// A last, shorter part follows.
			case err != nil:
				return fmt.Errorf("read: %w", err)
			}
		}
	}()
	if err == nil {
		_, err = b.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(b.name), Key: aws.String(key), UploadId: created.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
		})
		if err == nil {
			return nil
		}
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if _, aerr := b.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(key), UploadId: created.UploadId,
	}); aerr != nil {
		return errors.Join(err, fmt.Errorf("abort: %w", aerr))
	}
	return err
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
