package steps

import (
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/webform"
)

// ByDir maps functions/<dir> (a function's CodeUri in template.yaml) to the
// constructor of its handler, ready for lambda.Start or lambda.NewHandler.
var ByDir = map[string]func(*api.Deps) any{
	"create-referral":   api.CreateReferral,
	"web-form":          webform.Step,
	"get-referral":      api.GetReferral,
	"list-referrals":    api.ListReferrals,
	"referral-history":  api.ReferralHistory,
	"get-period":        api.GetPeriod,
	"put-period":        api.PutPeriod,
	"screen-referral":   api.ScreenReferral,
	"allocate-referral": api.AllocateReferral,
	"decide-referral":   api.DecideReferral,
	"record-arrival":    api.RecordArrival,
	"withdraw-referral": api.WithdrawReferral,
	"change-family":     api.ChangeFamily,
	"waitlist-sweep":    api.WaitlistSweep,
	"daily-report":      jobs.DailyReport,
	"partner-export":    jobs.PartnerExport,
}
