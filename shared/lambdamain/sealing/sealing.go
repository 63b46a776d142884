// Package sealing is the entry point of the functions that seal, open or
// fingerprint personal data: functions/<dir>/main.go calls
// sealing.Run(api.CreateReferral). It opens the sealer (shared/seal, and
// under KMS a KMS client) before starting the handler; functions whose
// step handles no personal data call lambdamain.RunWithoutSealer instead, so
// that their binaries link none of it. shared/steps records which function
// uses which, and its test checks every main.go against that.
package sealing

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/lambdamain"
	"github.com/haven-hrd/haven/shared/seal"
)

// Run starts the handler construct builds, with the sealer Open opens. It
// never returns.
func Run(construct func(*api.Deps) any) {
	lambdamain.Start(construct, Open)
}

// Open opens the sealer env names: the local keyset file (KEYSET_FILE; the
// local runner and tests) or, in AWS, the keysets in SEALING_KEYSETS
// wrapped by the KMS key KMS_KEY_ARN, through a KMS client of cfg. No KMS
// call is made here: the keys are unwrapped on first use.
func Open(_ context.Context, env lambdamain.Env, cfg aws.Config, _ *slog.Logger) (lambdamain.Sealer, error) {
	var (
		s   *seal.Sealer
		err error
	)
	switch {
	case env.KeysetFile != "":
		s, err = seal.OpenLocal(env.KeysetFile)
	case env.KMSKeyARN != "":
		var blob []byte
		if blob, err = base64.StdEncoding.DecodeString(env.SealingKeysets); err == nil {
			s, err = seal.OpenKMS(env.KMSKeyARN, blob, kms.NewFromConfig(cfg))
		}
	default:
		err = errors.New("neither KEYSET_FILE nor KMS_KEY_ARN is set")
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}
