package api

import (
	"context"

	"github.com/haven-hrd/haven/shared/apigw"
)

// The constructors below build one function's handler each, ready for
// lambda.Start or lambda.NewHandler. A functions/<dir>/main.go names its own
// constructor (lambdamain.RunWithoutSealer(api.GetPeriod)), so its binary links that step
// and nothing else; shared/steps maps code directories to constructors for
// the local runner and the tests.

// CreateReferral is POST /referrals.
func CreateReferral(d *Deps) any { return d.http(d.createReferral) }

// GetReferral is GET /referrals/{id}.
func GetReferral(d *Deps) any { return d.http(d.getReferral) }

// ListReferrals is GET /referrals.
func ListReferrals(d *Deps) any { return d.http(d.listReferrals) }

// ReferralHistory is GET /referrals/{id}/history.
func ReferralHistory(d *Deps) any { return d.http(d.referralHistory) }

// GetPeriod is GET /streams/{stream}/periods/{year}.
func GetPeriod(d *Deps) any { return d.http(d.getPeriod) }

// PutPeriod is PUT /streams/{stream}/periods/{year}.
func PutPeriod(d *Deps) any { return d.http(d.putPeriod) }

// GetAdmissions is GET /streams/{stream}/admissions/{year}.
func GetAdmissions(d *Deps) any { return d.http(d.getAdmissions) }

// ClosePeriod is POST /streams/{stream}/periods/{year}/closure.
func ClosePeriod(d *Deps) any { return d.http(d.closePeriod) }

// ScreenReferral is POST /referrals/{id}/screening.
func ScreenReferral(d *Deps) any { return d.http(d.screenReferral) }

// AllocateReferral is POST /referrals/{id}/allocation.
func AllocateReferral(d *Deps) any { return d.http(d.allocateReferral) }

// DecideReferral is POST /referrals/{id}/decision.
func DecideReferral(d *Deps) any { return d.http(d.decideReferral) }

// RecordArrival is POST /referrals/{id}/arrival.
func RecordArrival(d *Deps) any { return d.http(d.recordArrival) }

// WithdrawReferral is POST /referrals/{id}/withdrawal.
func WithdrawReferral(d *Deps) any { return d.http(d.withdrawReferral) }

// ReviseUrgency is POST /referrals/{id}/urgency.
func ReviseUrgency(d *Deps) any { return d.http(d.reviseUrgency) }

// ChangeFamily is PUT /referrals/{id}/family.
func ChangeFamily(d *Deps) any { return d.http(d.changeFamily) }

// HoldReferral is POST /referrals/{id}/hold.
func HoldReferral(d *Deps) any { return d.http(d.holdReferral) }

// Disposition is the scheduled disposition of referrals past retention.
func Disposition(d *Deps) any { return d.dispose }

// WaitlistSweep is the scheduled waitlist sweep.
func WaitlistSweep(d *Deps) any { return d.sweep }

// CreateReferralStep is the create step of POST /referrals, unwrapped: the
// web form (shared/webform.Step) runs exactly it as the signed-in partner
// caseworker.
func (d *Deps) CreateReferralStep(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	return d.createReferral(ctx, r)
}

// OfficerSteps are the steps of the officers' actions, unwrapped: the
// officers' workspace (shared/workspace) runs exactly them as the signed-in
// officer or admin, with the JSON body and Idempotency-Key the API takes.
type OfficerSteps struct {
	Screen, Allocate, Decide, Arrival, Withdraw, Urgency, SetCapacity apigw.Step
}

// OfficerSteps returns d's officer steps.
func (d *Deps) OfficerSteps() OfficerSteps {
	return OfficerSteps{
		Screen: d.screenReferral, Allocate: d.allocateReferral, Decide: d.decideReferral,
		Arrival: d.recordArrival, Withdraw: d.withdrawReferral, Urgency: d.reviseUrgency,
		SetCapacity: d.putPeriod,
	}
}
