package steps

import (
	"github.com/haven-hrd/haven/shared/access"
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/lambdamain"
	"github.com/haven-hrd/haven/shared/lambdamain/sealing"
	"github.com/haven-hrd/haven/shared/seal"
	"github.com/haven-hrd/haven/shared/webform"
	"github.com/haven-hrd/haven/shared/workspace"
)

// ByDir maps functions/<dir> (a function's CodeUri in template.yaml) to the
// constructor of its handler, ready for lambda.Start or lambda.NewHandler.
var ByDir = map[string]func(*api.Deps) any{
	"create-referral":   api.CreateReferral,
	"web-form":          webform.Step,
	"officer-workspace": workspace.Step,
	"get-referral":      api.GetReferral,
	"list-referrals":    api.ListReferrals,
	"referral-history":  api.ReferralHistory,
	"get-period":        api.GetPeriod,
	"put-period":        api.PutPeriod,
	"close-period":      api.ClosePeriod,
	"get-admissions":    api.GetAdmissions,
	"screen-referral":   api.ScreenReferral,
	"allocate-referral": api.AllocateReferral,
	"decide-referral":   api.DecideReferral,
	"record-arrival":    api.RecordArrival,
	"withdraw-referral": api.WithdrawReferral,
	"change-family":     api.ChangeFamily,
	"revise-urgency":    api.ReviseUrgency,
	"hold-referral":     api.HoldReferral,
	"personal-data":     access.PersonalData,
	"waitlist-sweep":    api.WaitlistSweep,
	"daily-report":      jobs.DailyReport,
	"partner-export":    jobs.PartnerExport,
	"disposition":       api.Disposition,
}

// WithoutSealer are the functions whose steps handle no personal data: they
// never seal, open or fingerprint on any path (no sealed attribute read, no
// Idempotency-Key — whose stored response the store seals — and no list
// cursor, whose key in AWS is the cursor keyset's). Their
// main.go calls lambdamain.RunWithoutSealer, so their binaries link neither
// shared/seal nor a KMS client, and their sealer refuses every call. Every other
// function's main.go calls sealing.Run. The test checks each main.go
// against this, and the local runner wires each function the same way.
var WithoutSealer = map[string]bool{
	"get-period":       true, // reads a period item
	"get-admissions":   true, // reads the stream and an admissions item
	"referral-history": true, // reads the referral bare and its events
	"waitlist-sweep":   true, // periods, waitlist entries, unconditional-key transactions
	"daily-report":     true, // periods and referrals read bare
	"partner-export":   true, // referrals read bare
	"disposition":      true, // referrals read bare; sealed attributes deleted, never opened
}

// Keysets are the sealing keysets (seal.Purpose*) each function that opens
// the sealer uses, and so the only KMS encryption contexts its IAM policy
// grants it to unwrap (template.yaml; a test holds the two equal, and the
// local runner and the tests refuse a keyset's use the policy does not
// grant). Every sealing step stores idempotency responses, which are
// sealed, and logs a caller hash; only the create steps fingerprint, only
// the list signs cursors, only the web form keeps sessions.
var Keysets = map[string][]string{
	"create-referral":   {seal.PurposeData, seal.PurposeFingerprint, seal.PurposeCaller},
	"web-form":          {seal.PurposeData, seal.PurposeFingerprint, seal.PurposeSession, seal.PurposeCaller},
	"get-referral":      {seal.PurposeData, seal.PurposeCaller},
	"list-referrals":    {seal.PurposeData, seal.PurposeCursor, seal.PurposeCaller},
	"put-period":        {seal.PurposeData, seal.PurposeCaller},
	"close-period":      {seal.PurposeData, seal.PurposeCaller},
	"screen-referral":   {seal.PurposeData, seal.PurposeCaller},
	"allocate-referral": {seal.PurposeData, seal.PurposeCaller},
	"decide-referral":   {seal.PurposeData, seal.PurposeCaller},
	"record-arrival":    {seal.PurposeData, seal.PurposeCaller},
	"withdraw-referral": {seal.PurposeData, seal.PurposeCaller},
	"revise-urgency":    {seal.PurposeData, seal.PurposeCaller},
	"change-family":     {seal.PurposeData, seal.PurposeCaller},
	"hold-referral":     {seal.PurposeData, seal.PurposeCaller},
	"personal-data":     {seal.PurposeData, seal.PurposeCaller},
	"officer-workspace": {seal.PurposeData, seal.PurposeSession, seal.PurposeCaller},
}

// OpenSealer is how the function of dir opens its sealer, as its main.go
// does: lambdamain.NoPersonalData for WithoutSealer, sealing.Open otherwise.
func OpenSealer(dir string) lambdamain.OpenSealer {
	if WithoutSealer[dir] {
		return lambdamain.NoPersonalData
	}
	return sealing.Open
}
