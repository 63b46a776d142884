package reason

import (
	"strconv"

	"github.com/haven-hrd/haven/shared/problem"
)

// Kind is the step a reason explains.
type Kind string

const (
	// Ineligible reasons explain a screening outcome of ineligible.
	Ineligible Kind = "ineligible"
	// Refused reasons explain a decision outcome of refused.
	Refused Kind = "refused"
	// Withdrawn reasons explain a withdrawal.
	Withdrawn Kind = "withdrawn"
	// Urgency reasons explain an officer's revision of a referral's
	// urgency. They are kept in its history, never in its reasons.
	Urgency Kind = "urgency"
	// Hold reasons say why a referral's disposition is paused (a legal
	// hold, an open access request). They are kept on the referral while
	// the hold lasts and in its history, never in its reasons.
	Hold Kind = "hold"
)

// AccessRequest is the hold an access to one's own personal data sets
// (GET /referrals/{id}/personal-data) until it is answered.
const AccessRequest = "access-request"

// Kinds lists the kinds of a referral's own reasons (an outcome's), in
// lifecycle order.
func Kinds() []Kind { return []Kind{Ineligible, Refused, Withdrawn} }

// Label is a code's text for people, in both languages.
type Label struct{ EN, FR string }

// In is the label in l.
func (lb Label) In(l problem.Lang) string {
	if l == problem.French {
		return lb.FR
	}
	return lb.EN
}

type entry struct {
	code  string
	label Label
}

// lists is the one place the codes live, each list in the order forms and
// reports show it. A code may serve more than one kind (another durable
// solution can end a case at screening or at decision); it then has one
// label, the same in both.
var lists = map[Kind][]entry{
	Ineligible: {
		{"not-a-human-rights-defender", Label{
			"Not a human rights defender within the stream’s definition",
			"Ne répond pas à la définition de défenseur des droits de la personne du volet"}},
		{"not-a-refugee", Label{
			"Not recognized as a refugee, by UNHCR or by the country of asylum",
			"Non reconnu comme réfugié, ni par le HCR ni par le pays d’asile"}},
		{"not-outside-country-of-nationality", Label{
			"Not outside the country of nationality or habitual residence",
			"Ne se trouve pas hors du pays de nationalité ou de résidence habituelle"}},
		{"no-protection-risk", Label{
			"No protection risk in the country of asylum",
			"Aucun risque pour sa protection dans le pays d’asile"}},
		{"durable-solution-available", Label{
			"Another durable solution is available (voluntary return or local integration)",
			"Une autre solution durable est possible (retour volontaire ou intégration sur place)"}},
		{"excluded-article-1f", Label{
			"Excluded from refugee protection (Article 1F of the Refugee Convention)",
			"Exclu de la protection des réfugiés (article 1F de la Convention relative aux réfugiés)"}},
		{"outside-referral-criteria", Label{
			"Outside the stream’s referral criteria",
			"Hors des critères de recommandation du volet"}},
		{"information-unverifiable", Label{
			"The referral’s information is incomplete or cannot be verified",
			"Les renseignements de la recommandation sont incomplets ou invérifiables"}},
	},
	Refused: {
		{"inadmissible-security", Label{
			"Inadmissible on security grounds (IRPA s. 34)",
			"Interdit de territoire pour raison de sécurité (LIPR, art. 34)"}},
		{"inadmissible-human-rights-violations", Label{
			"Inadmissible for human or international rights violations (IRPA s. 35)",
			"Interdit de territoire pour atteinte aux droits humains ou internationaux (LIPR, art. 35)"}},
		{"inadmissible-criminality", Label{
			"Inadmissible for criminality (IRPA s. 36)",
			"Interdit de territoire pour criminalité (LIPR, art. 36)"}},
		{"inadmissible-organized-criminality", Label{
			"Inadmissible for organized criminality (IRPA s. 37)",
			"Interdit de territoire pour criminalité organisée (LIPR, art. 37)"}},
		{"inadmissible-medical", Label{
			"Inadmissible on health grounds (IRPA s. 38)",
			"Interdit de territoire pour motifs sanitaires (LIPR, art. 38)"}},
		{"misrepresentation", Label{
			"Misrepresentation (IRPA s. 40)",
			"Fausses déclarations (LIPR, art. 40)"}},
		{"inadmissible-family-member", Label{
			"An accompanying family member is inadmissible (IRPA s. 42)",
			"Un membre de la famille qui accompagne est interdit de territoire (LIPR, art. 42)"}},
		{"not-eligible-on-interview", Label{
			"Not eligible after interview: neither a Convention refugee nor in the humanitarian-protected class (IRPR s. 139)",
			"Non admissible après l’entrevue\u00a0: ni réfugié au sens de la Convention ni dans la catégorie de personnes protégées à titre humanitaire (RIPR, art. 139)"}},
		{"durable-solution-available", Label{}}, // label from Ineligible
	},
	Withdrawn: {
		{"durable-solution-found", Label{
			"Another durable solution was found (voluntary return or local integration)",
			"Une autre solution durable a été trouvée (retour volontaire ou intégration sur place)"}},
		{"resettled-elsewhere", Label{
			"Resettled in another country",
			"Réinstallé dans un autre pays"}},
		{"no-longer-at-risk", Label{
			"No longer at risk in the country of asylum",
			"N’est plus en danger dans le pays d’asile"}},
		{"defender-declined", Label{
			"The defender declined resettlement to Canada",
			"Le défenseur a renoncé à la réinstallation au Canada"}},
		{"partner-request", Label{
			"Withdrawn at the referral partner’s request",
			"Retirée à la demande du partenaire de recommandation"}},
		{"contact-lost", Label{
			"Contact with the defender was lost",
			"Le contact avec le défenseur a été perdu"}},
		{"deceased", Label{
			"The defender has died",
			"Le défenseur est décédé"}},
		{"duplicate-referral", Label{
			"A duplicate of another referral of the same defender",
			"Doublon d’une autre recommandation du même défenseur"}},
	},
	Urgency: {
		{"new-threat", Label{
			"A new threat to the defender",
			"Une nouvelle menace contre la personne défenseure"}},
		{"situation-worsened", Label{
			"The defender’s situation has worsened",
			"La situation de la personne défenseure s’est aggravée"}},
		{"situation-improved", Label{
			"The defender’s situation has improved",
			"La situation de la personne défenseure s’est améliorée"}},
		{"officer-assessment", Label{
			"The officer’s own assessment",
			"L’évaluation de l’agente ou de l’agent"}},
		{"raised-by-partner", Label{
			"Raised by the referring partner",
			"Signalée par le partenaire de recommandation"}},
	},
	Hold: {
		{"legal-proceedings", Label{
			"Legal proceedings, under way or reasonably expected",
			"Une procédure judiciaire, en cours ou raisonnablement prévisible"}},
		{"investigation", Label{
			"An investigation or audit",
			"Une enquête ou une vérification"}},
		{"privacy-complaint", Label{
			"A complaint to the Privacy Commissioner",
			"Une plainte au Commissaire à la protection de la vie privée"}},
		{AccessRequest, Label{
			"An access request for the person’s own personal data is open",
			"Une demande d’accès de la personne à ses propres renseignements personnels est ouverte"}},
	},
}

var labels = func() map[string]Label {
	m := map[string]Label{}
	for _, k := range append(Kinds(), Urgency, Hold) {
		for _, e := range lists[k] {
			if e.label != (Label{}) {
				m[e.code] = e.label
			}
		}
	}
	return m
}()

// Codes lists k's codes in display order.
func Codes(k Kind) []string {
	out := make([]string, len(lists[k]))
	for i, e := range lists[k] {
		out[i] = e.code
	}
	return out
}

// All lists every code once, kind by kind in display order: what a referral's
// reasons may hold.
func All() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range Kinds() {
		for _, c := range Codes(k) {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// LabelOf is code's label; ok is false for a code that is not in any list
// (such as one stored before the lists existed), which callers show as is.
func LabelOf(code string) (lb Label, ok bool) {
	lb, ok = labels[code]
	return lb, ok
}

// Allows reports whether code is one of k's.
func (k Kind) Allows(code string) bool {
	for _, e := range lists[k] {
		if e.code == code {
			return true
		}
	}
	return false
}

// Max is the most reasons a step of kind k may give: each of its codes once.
// It is what the document's uniqueItems over k's enum implies; a maxItems
// beside it could never be broken on its own, so the document states none.
func (k Kind) Max() int { return len(lists[k]) }

// MaxPerStep is the most reasons any one step may give: what a referral's
// reasons can hold.
func MaxPerStep() int {
	most := 0
	for _, k := range Kinds() {
		most = max(most, k.Max())
	}
	return most
}

// Check reports what is wrong with the reasons codes given at path for a
// step of kind k: more than k.Max() (then some code is repeated or not
// k's), a code not in k's list (the error names the list), or a code given
// twice.
func Check(k Kind, path string, codes []string) []problem.FieldError {
	var fields []problem.FieldError
	if len(codes) > k.Max() {
		fields = append(fields, problem.FieldError{Field: path, Code: problem.CodeTooMany})
	}
	seen := map[string]bool{}
	for i, c := range codes {
		p := path + "." + strconv.Itoa(i)
		switch {
		case !k.Allows(c):
			fields = append(fields, problem.FieldError{Field: p, Code: problem.CodeNotAllowed, Allowed: Codes(k)})
		case seen[c]:
			fields = append(fields, problem.FieldError{Field: p, Code: problem.CodeDuplicate})
		}
		seen[c] = true
	}
	return fields
}

// CheckOne is Check for a step that gives exactly one reason.
func CheckOne(k Kind, path, code string) []problem.FieldError {
	if !k.Allows(code) {
		return []problem.FieldError{{Field: path, Code: problem.CodeNotAllowed, Allowed: Codes(k)}}
	}
	return nil
}
