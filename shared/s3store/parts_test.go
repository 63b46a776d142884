package s3store

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/embedded"
	"github.com/haven-hrd/haven/shared/awsconn"
)

// onlyReader hides the reader's Len and Seek: the upload sees a stream.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// Only a streamed object larger than SmallSize takes a part buffer: a body
// in memory or a small stream (a report, a manifest, a small partner's
// export) does not allocate, let alone fault in, 5 MiB.
func TestUploadTakesPartBufferOnlyWhenNeeded(t *testing.T) {
	srv, err := embedded.StartS3("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	clients, err := awsconn.New(ctx, awsconn.Options{S3Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := embedded.CreateBuckets(ctx, NewClient(clients.Config, srv.URL), []string{"Test"}); err != nil {
		t.Fatal(err)
	}
	b := New(NewClient(clients.Config, srv.URL), "test")
	small := strings.Repeat("x", SmallSize)
	for _, tc := range []struct {
		name     string
		body     func() io.Reader
		size     int
		wantPart bool
	}{
		{"bytes.Reader", func() io.Reader { return bytes.NewReader([]byte(small + small)) }, 2 * SmallSize, false},
		{"strings.Reader", func() io.Reader { return strings.NewReader(small + small) }, 2 * SmallSize, false},
		{"empty stream", func() io.Reader { return onlyReader{strings.NewReader("")} }, 0, false},
		{"stream of SmallSize-1", func() io.Reader { return onlyReader{strings.NewReader(small[1:])} }, SmallSize - 1, false},
		{"stream of SmallSize", func() io.Reader { return onlyReader{strings.NewReader(small)} }, SmallSize, true},
		{"stream of SmallSize+1", func() io.Reader { return onlyReader{strings.NewReader(small + "y")} }, SmallSize + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for len(parts) > 0 {
				<-parts
			}
			key := "parts/" + tc.name
			if err := b.Upload(ctx, key, "text/plain", tc.body()); err != nil {
				t.Fatal(err)
			}
			// A part buffer taken goes back to the (emptied) pool.
			if got := len(parts) > 0; got != tc.wantPart {
				t.Errorf("took a part buffer: %v, want %v", got, tc.wantPart)
			}
			got, err := b.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := io.ReadAll(tc.body()); !bytes.Equal(got, want) || len(got) != tc.size {
				t.Errorf("got %d bytes back, want %d", len(got), tc.size)
			}
		})
	}
}
