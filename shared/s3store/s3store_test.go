package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/s3store"
)

func bucket(t *testing.T) (*s3store.Bucket, *s3.Client) {
	t.Helper()
	srv, err := embedded.StartS3("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	clients, err := awsconn.New(context.Background(), awsconn.Options{S3Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := embedded.CreateBuckets(context.Background(), s3store.NewClient(clients.Config, srv.URL), []string{"Test"}); err != nil {
		t.Fatal(err)
	}
	c := s3store.NewClient(clients.Config, srv.URL)
	return s3store.New(c, "test"), c
}

// onlyReader hides bytes.Reader's Seek and WriteTo: the upload sees a stream,
// as it does from the export's pipe.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// Objects of every size around the part boundaries arrive whole, in one PUT
// or in parts.
func TestUploadSizes(t *testing.T) {
	b, _ := bucket(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 4096, s3store.SmallSize - 1, s3store.SmallSize, s3store.SmallSize + 1, s3store.PartSize - 1, s3store.PartSize, s3store.PartSize + 1, 2*s3store.PartSize + 12345} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(rng.Uint32())
		}
		// A key of its own per size: the embedded S3 keeps a replaced
		// object's CRC32 when the new one comes by multipart upload, and the
		// SDK would then refuse the read (AWS S3 replaces the whole object).
		key := fmt.Sprintf("sizes/%d", size)
		if err := b.Upload(ctx, key, "application/octet-stream", onlyReader{bytes.NewReader(want)}); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		got, err := b.Get(ctx, key)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: got %d bytes back, different", size, len(got))
		}
	}
}

type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// A stream that fails, before or after the first part, leaves no object and
// no multipart upload behind, and the error is the stream's.
func TestUploadStreamFailure(t *testing.T) {
	b, client := bucket(t)
	ctx := context.Background()
	boom := errors.New("boom")
	for _, n := range []int{100, s3store.PartSize + 100} {
		err := b.Upload(ctx, "fail/obj", "text/plain", &failAfter{n: n, err: boom})
		if !errors.Is(err, boom) {
			t.Fatalf("after %d bytes: err %v, want boom", n, err)
		}
		keys, err := b.Keys(ctx, "fail/")
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 0 {
			t.Fatalf("after %d bytes: objects %v", n, keys)
		}
		ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("test")})
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload" {
			// The embedded S3's answer for a bucket that never had one.
			ups, err = &s3.ListMultipartUploadsOutput{}, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(ups.Uploads) != 0 {
			t.Fatalf("after %d bytes: %d multipart uploads left", n, len(ups.Uploads))
		}
	}
}

// A body in memory is sent from where it has been read to, with one PUT,
// whatever its size up to a part; a larger one is streamed in parts.
func TestUploadInMemory(t *testing.T) {
	b, _ := bucket(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), s3store.PartSize/16+100)
	for _, tc := range []struct {
		name string
		body func() io.Reader
		want []byte
	}{
		{"bytes.Reader", func() io.Reader { return bytes.NewReader([]byte("a report")) }, []byte("a report")},
		{"strings.Reader", func() io.Reader { return strings.NewReader("a manifest") }, []byte("a manifest")},
		{"empty", func() io.Reader { return bytes.NewReader(nil) }, []byte{}},
		{"partly read", func() io.Reader {
			r := strings.NewReader("skipped|kept")
			r.Seek(8, io.SeekStart)
			return r
		}, []byte("kept")},
		{"larger than a part", func() io.Reader { return bytes.NewReader(big) }, big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "mem/" + tc.name
			if err := b.Upload(ctx, key, "text/plain", tc.body()); err != nil {
				t.Fatal(err)
			}
			got, err := b.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got %d bytes back, want %d", len(got), len(tc.want))
			}
		})
	}
}

// Re-uploading replaces the object.
func TestUploadReplaces(t *testing.T) {
	b, _ := bucket(t)
	ctx := context.Background()
	for _, body := range []string{"first, longer body", "second"} {
		if err := b.Upload(ctx, "k", "text/plain", strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "second" {
		t.Fatalf("got %q", got)
	}
}
