package lambdamain_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/lambdamain"
)

// TestNoPersonalDataRefuses: the sealer of a function without personal data
// refuses to seal, open or fingerprint, and logs each refusal.
func TestNoPersonalDataRefuses(t *testing.T) {
	var logs bytes.Buffer
	s, err := lambdamain.NoPersonalData(context.Background(), lambdamain.Env{}, aws.Config{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if ct, err := s.Seal([]byte("Nguyễn Thị"), []byte("haven/referral/x/people")); !errors.Is(err, lambdamain.ErrNoPersonalData) || ct != nil {
		t.Errorf("Seal: %q, %v", ct, err)
	}
	if pt, err := s.Open([]byte("ciphertext"), []byte("ad")); !errors.Is(err, lambdamain.ErrNoPersonalData) || pt != nil {
		t.Errorf("Open: %q, %v", pt, err)
	}
	if fp, err := s.Fingerprint("a|b|c"); !errors.Is(err, lambdamain.ErrNoPersonalData) || fp != "" {
		t.Errorf("Fingerprint: %q, %v", fp, err)
	}
	if n := strings.Count(logs.String(), `"level":"ERROR","msg":"sealer refused"`); n != 3 {
		t.Errorf("%d refusals logged, want 3:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "Nguyễn") {
		t.Error("the refusal logged the plaintext")
	}
}

// TestDepsWithoutSealer: Deps wires the refusing sealer into the store, the
// fingerprinter and the (derived) list cursors.
func TestDepsWithoutSealer(t *testing.T) {
	env := lambdamain.Env{Table: "T", DynamoDBEndpoint: "http://127.0.0.1:1"}
	d, err := lambdamain.Deps(context.Background(), env, slog.New(slog.DiscardHandler), awsconn.Options{DynamoDBEndpoint: env.DynamoDBEndpoint}, lambdamain.NoPersonalData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Finger.Fingerprint("a|b|c"); !errors.Is(err, lambdamain.ErrNoPersonalData) {
		t.Errorf("Fingerprint: %v", err)
	}
	if c := d.Cursors.Encode("scope", map[string]string{"pk": "x"}); c != "" {
		t.Errorf("cursor %q without a key", c)
	}
	if _, err := lambdamain.Deps(context.Background(), env, nil, awsconn.Options{DynamoDBEndpoint: env.DynamoDBEndpoint}, nil); err == nil {
		t.Error("Deps without an opener: no error")
	}
	if _, err := lambdamain.Handler(context.Background(), api.GetPeriod, env, slog.New(slog.DiscardHandler), lambdamain.NoPersonalData); err != nil {
		t.Errorf("Handler: %v", err)
	}
}
