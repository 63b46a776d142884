package steps_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
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
// sealer unwraps through KMS, under its own role's policy, exactly the
// keysets steps.Keysets gives it (the encryption context seal sends meets
// the policy's condition), and is refused every other keyset; a function
// that handles no personal data is refused all of them.
func TestSealingUnwrapsUnderFunctionPolicy(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{})
	srv := fakeKMS(t)
	keyARN := e.IAM.Stack.Refs["SealingKey.Arn"]
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
	for _, dir := range slices.Sorted(maps.Keys(steps.ByDir)) {
		for _, purpose := range seal.Purposes {
			granted := slices.Contains(steps.Keysets[dir], purpose)
			t.Run(dir+"/"+purpose, func(t *testing.T) {
				enforcer := e.IAM
				if !granted {
					enforcer = quiet
				}
				s, err := sealing.Open(ctx, env, config(enforcer.APIOptions(testenv.LogicalID(t, dir))), nil)
				if err != nil {
					t.Fatal(err)
				}
				err = useKeyset(s, purpose)
				if granted {
					if err != nil {
						t.Fatalf("unwrap under %s's policy: %v", dir, err)
					}
					return
				}
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
					t.Fatalf("%s is not given the %s keyset, yet unwrapping it under its policy gave %v, want AccessDeniedException", dir, purpose, err)
				}
			})
		}
	}
}

// useKeyset makes s unwrap the keyset of purpose.
func useKeyset(s lambdamain.Sealer, purpose string) error {
	var err error
	switch purpose {
	case seal.PurposeData:
		_, err = s.Seal([]byte("unwrap test"), []byte("aad"))
	case seal.PurposeFingerprint:
		_, err = s.Fingerprint("unwrap test")
	case seal.PurposeSession:
		_, err = s.SessionKeys()
	case seal.PurposeCursor:
		_, err = s.CursorKeys()
	case seal.PurposeCaller:
		_, err = s.CallerKey()
	default:
		err = fmt.Errorf("no use for keyset %s", purpose)
	}
	return err
}
