package steps_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/haven-hrd/haven/infra/iam"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/awsconn"
	"github.com/haven-hrd/haven/shared/lambdamain"
	"github.com/haven-hrd/haven/shared/lambdamain/sealing"
	"github.com/haven-hrd/haven/shared/seal"
	"github.com/haven-hrd/haven/shared/steps"
)

// fakeKMS answers Encrypt and Decrypt over KMS's JSON protocol; a
// ciphertext is the plaintext with its encryption context, which Decrypt
// must be given again, as KMS requires.
func fakeKMS(t *testing.T) *httptest.Server {
	type blob struct {
		Context   map[string]string
		Plaintext []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			KeyId             string
			Plaintext         []byte
			CiphertextBlob    []byte
			EncryptionContext map[string]string
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch r.Header.Get("X-Amz-Target") {
		case "TrentService.Encrypt":
			b, _ := json.Marshal(blob{in.EncryptionContext, in.Plaintext})
			json.NewEncoder(w).Encode(map[string]any{"CiphertextBlob": b, "KeyId": in.KeyId})
		case "TrentService.Decrypt":
			var b blob
			if json.Unmarshal(in.CiphertextBlob, &b) != nil || !reflect.DeepEqual(b.Context, in.EncryptionContext) {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"__type":"InvalidCiphertextException","message":"bad ciphertext or context"}`))
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"Plaintext": b.Plaintext, "KeyId": in.KeyId})
		default:
			http.Error(w, "unsupported", http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSealingUnwrapsUnderFunctionPolicy: every function that opens the
// sealer unwraps both keysets through KMS under its own role's policy (the
// encryption context seal sends meets the policy's condition), and a
// function that handles no personal data would be refused.
func TestSealingUnwrapsUnderFunctionPolicy(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{})
	srv := fakeKMS(t)
	keyARN := e.IAM.Stack.Refs["DataKey.Arn"]
	config := func(apiOptions []func(*middleware.Stack) error) aws.Config {
		t.Helper()
		cfg, err := awsconn.Config(awsconn.Options{DynamoDBEndpoint: aws.ToString(e.Clients.DynamoDB.Options().BaseEndpoint), APIOptions: apiOptions})
		if err != nil {
			t.Fatal(err)
		}
		cfg.BaseEndpoint = aws.String(srv.URL)
		return cfg
	}
	blob, err := seal.GenerateKeysets(ctx, keyARN, kms.NewFromConfig(config(nil)))
	if err != nil {
		t.Fatal(err)
	}
	env := lambdamain.Env{KMSKeyARN: keyARN, SealingKeysets: base64.StdEncoding.EncodeToString(blob)}
	// A denial provoked on purpose is not recorded for the least-privilege
	// test: it checks the other enforcer with a log of its own.
	quiet := &iam.Enforcer{Stack: e.IAM.Stack}
	unwrap := func(dir string) error {
		enforcer := e.IAM
		if steps.WithoutSealer[dir] {
			enforcer = quiet
		}
		s, err := sealing.Open(ctx, env, config(enforcer.APIOptions(testenv.LogicalID(t, dir))), nil)
		if err != nil {
			return err
		}
		if _, err := s.Fingerprint("unwrap test"); err != nil {
			return err
		}
		_, err = s.Seal([]byte("unwrap test"), []byte("aad"))
		return err
	}
	var dirs []string
	for dir := range steps.ByDir {
		dirs = append(dirs, dir)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			err := unwrap(dir)
			if !steps.WithoutSealer[dir] {
				if err != nil {
					t.Fatalf("unwrap under %s's policy: %v", dir, err)
				}
				return
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
				t.Fatalf("%s handles no personal data, yet unwrapping under its policy gave %v, want AccessDeniedException", dir, err)
			}
		})
	}
}
