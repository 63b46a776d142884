package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The request line says who asked, as a keyed hash: the hash is there, the
// subject never is, and another key gives another hash.
func TestRequestLineCallerHash(t *testing.T) {
	const subject = "3f9c2a71-subject-of-an-officer"
	key := []byte("a fixed test key of 32 bytes....")
	tests := []struct {
		name     string
		claims   map[string]string
		wantHash bool
	}{
		{"authenticated", map[string]string{"sub": subject, "custom:role": "officer"}, true},
		{"unauthenticated", map[string]string{"sub": subject}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := Wrap(Options{Log: slog.New(slog.NewJSONHandler(&logs, nil)), CallerHash: CallerHash(key)},
				func(ctx context.Context, r *Request) (Response, error) {
					r.Log.Info("step ran")
					return JSON(200, map[string]string{})
				})
			ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /x", RequestContext: rc(tt.claims)}
			if _, err := h(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(logs.String(), subject) {
				t.Errorf("the log holds the subject: %s", logs.String())
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			var line map[string]any
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
				t.Fatal(err)
			}
			got, _ := line["caller"].(string)
			want := ""
			if tt.wantHash {
				want = CallerHash(key)(subject)
			}
			if got != want {
				t.Errorf("caller %q, want %q (line %v)", got, want, line)
			}
		})
	}
	if a, b := CallerHash(key)(subject), CallerHash([]byte("another key"))(subject); a == b || len(a) != 32 {
		t.Errorf("hashes %q and %q", a, b)
	}
}
