package referral

// UrgencyReason is why an officer revised a referral's urgency: a closed
// list, so that no free text (and no personal data) reaches the audit.
//
// The integrator may move these into the shared list of reason codes.
type UrgencyReason string

const (
	ReasonNewThreat         UrgencyReason = "new-threat"
	ReasonSituationWorsened UrgencyReason = "situation-worsened"
	ReasonSituationImproved UrgencyReason = "situation-improved"
	ReasonOfficerAssessment UrgencyReason = "officer-assessment"
	ReasonPartnerRequest    UrgencyReason = "partner-request"
)

// urgencyReasonLabels are the codes' labels, English then French.
var urgencyReasonLabels = map[UrgencyReason][2]string{
	ReasonNewThreat:         {"A new threat to the defender", "Une nouvelle menace contre la personne défenseure"},
	ReasonSituationWorsened: {"The defender’s situation has worsened", "La situation de la personne défenseure s’est aggravée"},
	ReasonSituationImproved: {"The defender’s situation has improved", "La situation de la personne défenseure s’est améliorée"},
	ReasonOfficerAssessment: {"The officer’s own assessment", "L’évaluation de l’agente ou de l’agent"},
	ReasonPartnerRequest:    {"Asked by the referring partner", "À la demande du partenaire qui a fait le signalement"},
}

// Valid reports whether r is one of the listed codes.
func (r UrgencyReason) Valid() bool { _, ok := urgencyReasonLabels[r]; return ok }

// Label is r's label in English ("en") or French ("fr").
func (r UrgencyReason) Label(lang string) string {
	l := urgencyReasonLabels[r]
	if lang == "fr" {
		return l[1]
	}
	return l[0]
}

// UrgencyReasons lists the codes.
func UrgencyReasons() []UrgencyReason {
	return []UrgencyReason{ReasonNewThreat, ReasonSituationWorsened, ReasonSituationImproved, ReasonOfficerAssessment, ReasonPartnerRequest}
}
