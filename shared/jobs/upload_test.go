package jobs_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/s3store"
)

// failingReader gives n bytes, then fails.
type failingReader struct{ n int }

var errRead = errors.New("read failed")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errRead
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

// TestLargeUploadsUnderJobPolicy: a report or export too big for one
// PutObject goes up in parts, and a failed one is aborted, under the job's
// own role (multipart calls, and the KMS calls S3 makes for SSE-KMS).
func TestLargeUploadsUnderJobPolicy(t *testing.T) {
	e := testenv.New(t, testenv.Options{S3: true})
	for _, tc := range []struct{ dir, bucket string }{
		{"daily-report", "ReportsBucket"},
		{"partner-export", "ExportsBucket"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			d := e.FunctionDeps(t, tc.dir, nil, nil)
			name := d.ReportsBucket
			if tc.bucket == "ExportsBucket" {
				name = d.ExportsBucket
			}
			b := s3store.New(jobs.S3Client(d), name)
			ctx := context.Background()
			big := io.LimitReader(strings.NewReader(strings.Repeat("x", s3store.PartSize+1)), s3store.PartSize+1)
			if err := b.Upload(ctx, "large/ok.csv", "text/csv", struct{ io.Reader }{big}); err != nil {
				t.Fatalf("multipart upload: %v", err)
			}
			err := b.Upload(ctx, "large/failed.csv", "text/csv", &failingReader{n: s3store.PartSize + 10})
			if !errors.Is(err, errRead) || strings.Contains(err.Error(), "abort") {
				t.Fatalf("failed upload: %v, want the read error and a clean abort", err)
			}
		})
	}
}
