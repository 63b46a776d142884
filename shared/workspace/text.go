package workspace

import (
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/websession"
)

// msg is one label in English and French. French is written with plain
// spaces; websession.FrenchTypography adds the no-break spaces before : ; ? ! when the
// table is read.
type msg struct{ en, fr string }

// labels is the workspace's one table of page text.
var labels = map[string]msg{
	"service":        {"Haven — officers’ workspace", "Haven — espace de travail des agents"},
	"skip":           {"Skip to main content", "Passer au contenu principal"},
	"lang.switch":    {"Français", "English"},
	"lang.switchTag": {"fr", "en"},
	"nav":            {"Workspace", "Espace de travail"},
	"nav.queues":     {"Queues", "Files de travail"},
	"nav.dashboard":  {"Period dashboard", "Tableau de bord de la période"},
	"signed_in_as":   {"Signed in as", "Connecté en tant que"},
	"sign_out":       {"Sign out", "Se déconnecter"},
	"role.officer":   {"officer", "agent"},
	"role.admin":     {"administrator", "administrateur"},
	"role.partner":   {"partner caseworker", "intervenant d’un partenaire"},
	"role.system":    {"Haven (automatic)", "Haven (automatique)"},

	"action.created":         {"Referred", "Recommandée"},
	"action.screened":        {"Screened", "Évaluée"},
	"action.allocated":       {"Allocated", "Places attribuées"},
	"action.waitlisted":      {"Waitlisted", "Mise en attente"},
	"action.decided":         {"Decided", "Décision rendue"},
	"action.arrived":         {"Arrival recorded", "Arrivée enregistrée"},
	"action.withdrawn":       {"Withdrawn", "Retirée"},
	"action.family-changed":  {"Family changed", "Famille modifiée"},
	"action.carried-over":    {"Carried over to the next period", "Reportée à la période suivante"},
	"action.urgency-changed": {"Urgency changed", "Degré d’urgence modifié"},
	"action.read":            {"Opened (read in full)", "Consultée (lecture complète)"},

	"relationship.spouse":          {"Spouse", "Conjoint ou conjointe"},
	"relationship.partner":         {"Partner", "Partenaire"},
	"relationship.child":           {"Child", "Enfant"},
	"relationship.parent":          {"Parent", "Parent"},
	"relationship.sibling":         {"Brother or sister", "Frère ou sœur"},
	"relationship.other-dependant": {"Other dependant", "Autre personne à charge"},

	"title.sign_in":      {"Sign in to the officers’ workspace", "Connexion à l’espace de travail des agents"},
	"title.queues":       {"Work queues", "Files de travail"},
	"title.case":         {"Referral", "Recommandation"},
	"title.dashboard":    {"Period dashboard", "Tableau de bord de la période"},
	"title.error":        {"Sorry, something went wrong", "Désolé, une erreur s’est produite"},
	"title.staff_only":   {"This workspace is for officers and administrators", "Cet espace est réservé aux agents et aux administrateurs"},
	"title.signed_in":    {"Signed in", "Connexion réussie"},
	"title.not_found":    {"Page not found", "Page introuvable"},
	"error.prefix":       {"Error:", "Erreur :"},
	"errors.heading":     {"There is a problem", "Il y a un problème"},
	"error.forbidden":    {"This request was refused. Go back to the workspace and try again.", "Cette demande a été refusée. Retournez à l’espace de travail et réessayez."},
	"error.internal":     {"The workspace could not complete this. Nothing was changed; try again in a moment.", "L’espace de travail n’a pas pu terminer l’opération. Rien n’a été modifié ; réessayez dans un instant."},
	"error.unavailable":  {"The workspace is briefly unavailable. Try again in a moment.", "L’espace de travail est momentanément indisponible. Réessayez dans un instant."},
	"error.not_found":    {"There is no such page or referral.", "Cette page ou cette recommandation n’existe pas."},
	"staff_only":         {"Partner caseworkers refer defenders with the referral form. This workspace is for IRCC officers and administrators only.", "Les intervenants des partenaires recommandent des personnes avec le formulaire de recommandation. Cet espace est réservé aux agents et aux administrateurs d’IRCC."},
	"back":               {"Back to the work queues", "Retour aux files de travail"},
	"signed_in.continue": {"Continue to the workspace", "Continuer vers l’espace de travail"},

	"signin.heading":     {"Sign in", "Connexion"},
	"signin.intro":       {"Choose who you are signing in as.", "Choisissez le rôle avec lequel vous vous connectez."},
	"signin.dev":         {"Development sign-in: anyone can choose any role. It is only available on a developer’s machine.", "Connexion de développement : tout le monde peut choisir n’importe quel rôle. Elle n’existe que sur le poste d’un développeur."},
	"signin.role":        {"Role", "Rôle"},
	"signin.button":      {"Sign in", "Se connecter"},
	"signin.expired":     {"Your session has ended. Sign in again.", "Votre session a pris fin. Connectez-vous de nouveau."},
	"signin.failed":      {"Sign-in could not be completed. Try again.", "La connexion n’a pas pu aboutir. Réessayez."},
	"signin.unavailable": {"Sign-in is not set up for this workspace.", "La connexion n’est pas configurée pour cet espace de travail."},
	"signin.as.officer":  {"Officer (screens, allocates, decides, records arrivals)", "Agent (évalue, attribue, décide, enregistre les arrivées)"},
	"signin.as.admin":    {"Administrator (sets capacity and allotments)", "Administrateur (fixe la capacité et les contingents)"},
	"signin.as.partner":  {"Partner caseworker", "Intervenant d’un partenaire"},

	"queue.submitted":              {"Screening", "Évaluation"},
	"queue.eligible":               {"Allocation", "Attribution"},
	"queue.waitlisted":             {"Waitlist", "Liste d’attente"},
	"queue.allocated":              {"Decision", "Décision"},
	"queue.approved":               {"Arrival", "Arrivée"},
	"queue.help.submitted":         {"Referrals to screen for eligibility.", "Recommandations dont l’admissibilité est à évaluer."},
	"queue.help.eligible":          {"Eligible referrals to allocate into an open period.", "Recommandations admissibles à placer dans une période ouverte."},
	"queue.help.waitlisted":        {"Referrals waiting for spaces, in the order they will be promoted.", "Recommandations en attente de places, dans l’ordre où elles seront promues."},
	"queue.help.allocated":         {"Referrals holding spaces, waiting for a decision.", "Recommandations qui détiennent des places et attendent une décision."},
	"queue.help.approved":          {"Approved referrals whose arrival is to be recorded.", "Recommandations approuvées dont l’arrivée est à enregistrer."},
	"queues.label":                 {"Queues", "Files"},
	"filters":                      {"Filters", "Filtres"},
	"filter.stream":                {"Pathway", "Volet"},
	"filter.period":                {"Period", "Période"},
	"filter.partner":               {"Partner", "Partenaire"},
	"filter.urgency":               {"Urgency", "Urgence"},
	"filter.any":                   {"Any", "Tous"},
	"filter.apply":                 {"Show", "Afficher"},
	"filter.period_note":           {"(waitlist, decision and arrival queues)", "(files d’attente, de décision et d’arrivée)"},
	"col.reference":                {"Partner reference", "Référence du partenaire"},
	"col.urgency":                  {"Urgency", "Urgence"},
	"col.partner":                  {"Partner", "Partenaire"},
	"col.persons":                  {"Persons", "Personnes"},
	"col.age":                      {"Age (days)", "Âge (jours)"},
	"col.period":                   {"Period", "Période"},
	"col.waits":                    {"Why it waits", "Motif de l’attente"},
	"col.place":                    {"Place", "Rang"},
	"queue.caption":                {"%s queue, %s", "File « %s », %s"},
	"queue.shown":                  {"%d shown on this page.", "%d affichées sur cette page."},
	"queue.shown_of":               {"%d shown on this page, of %d referrals (%d persons) matching the filters.", "%d affichées sur cette page, sur %d recommandations (%d personnes) correspondant aux filtres."},
	"queue.shown_of_more":          {"%d shown on this page, of more than %d referrals matching the filters.", "%d affichées sur cette page, sur plus de %d recommandations correspondant aux filtres."},
	"queue.empty":                  {"No referral in this queue.", "Aucune recommandation dans cette file."},
	"queue.next":                   {"Next page", "Page suivante"},
	"queue.first":                  {"First page", "Première page"},
	"waits.stream-full":            {"Stream full", "Volet complet"},
	"waits.partner-allotment-full": {"Partner allotment full", "Contingent du partenaire atteint"},
	"lookup.heading":               {"Find a referral", "Trouver une recommandation"},
	"lookup.id":                    {"Referral id", "Identifiant de la recommandation"},
	"lookup.or":                    {"or a partner’s reference", "ou la référence d’un partenaire"},
	"lookup.partner":               {"Partner", "Partenaire"},
	"lookup.reference":             {"Partner reference", "Référence du partenaire"},
	"lookup.button":                {"Find", "Trouver"},
	"lookup.none":                  {"No referral has this id or reference. Check it and try again.", "Aucune recommandation ne porte cet identifiant ou cette référence. Vérifiez-le et réessayez."},
	"lookup.required":              {"Enter a referral id, or a partner and their reference.", "Saisissez un identifiant de recommandation, ou un partenaire et sa référence."},

	"urgency.emergency": {"Emergency", "Extrême urgence"},
	"urgency.urgent":    {"Urgent", "Urgente"},
	"urgency.normal":    {"Normal", "Normale"},

	"status.submitted":  {"Submitted", "Soumise"},
	"status.eligible":   {"Eligible", "Admissible"},
	"status.ineligible": {"Ineligible", "Non admissible"},
	"status.allocated":  {"Allocated", "Place attribuée"},
	"status.waitlisted": {"Waitlisted", "En attente"},
	"status.approved":   {"Approved", "Approuvée"},
	"status.refused":    {"Refused", "Refusée"},
	"status.arrived":    {"Arrived", "Arrivée"},
	"status.withdrawn":  {"Withdrawn", "Retirée"},

	"case.summary":       {"Summary", "Résumé"},
	"case.status":        {"Status", "Statut"},
	"case.stream":        {"Pathway", "Volet"},
	"case.partner":       {"Partner", "Partenaire"},
	"case.reference":     {"Partner reference", "Référence du partenaire"},
	"case.urgency":       {"Urgency", "Urgence"},
	"case.persons":       {"Persons", "Personnes"},
	"case.period":        {"Period", "Période"},
	"case.created":       {"Received", "Reçue le"},
	"case.arrived_on":    {"Arrived on", "Arrivée le"},
	"case.reasons":       {"Reasons", "Motifs"},
	"case.waits":         {"Why it waits", "Motif de l’attente"},
	"case.family":        {"The defender and family", "La personne défenseure et sa famille"},
	"case.name":          {"Name", "Nom"},
	"case.dob":           {"Date of birth", "Date de naissance"},
	"case.sex":           {"Sex", "Sexe"},
	"case.nationality":   {"Nationality", "Nationalité"},
	"case.relationship":  {"Relationship", "Lien"},
	"case.principal":     {"Defender", "Personne défenseure"},
	"case.asylum":        {"Country of asylum", "Pays d’asile"},
	"case.duplicates":    {"Possible duplicates", "Doublons possibles"},
	"case.no_duplicates": {"No other referral of the same person.", "Aucune autre recommandation de la même personne."},
	"case.history":       {"History", "Historique"},
	"case.when":          {"When (UTC)", "Quand (UTC)"},
	"case.who":           {"Who", "Qui"},
	"case.role":          {"Role", "Rôle"},
	"case.what":          {"What", "Quoi"},
	"case.actions":       {"Actions", "Actions"},
	"case.no_actions":    {"No action is open for this referral in its current state.", "Aucune action n’est possible pour cette recommandation dans son état actuel."},
	"case.done":          {"Done. The referral is now: %s.", "C’est fait. La recommandation est maintenant : %s."},

	"act.screen":            {"Screen", "Évaluer"},
	"act.screen.eligible":   {"Eligible", "Admissible"},
	"act.screen.ineligible": {"Ineligible", "Non admissible"},
	"act.outcome":           {"Outcome", "Résultat"},
	"act.reasons":           {"Reasons (for a negative outcome)", "Motifs (pour un résultat négatif)"},
	"act.allocate":          {"Allocate", "Attribuer des places"},
	"act.allocate.period":   {"Period (year)", "Période (année)"},
	"act.allocate.help":     {"When the period has no room, the referral joins its waitlist.", "Si la période n’a plus de place, la recommandation est inscrite sur sa liste d’attente."},
	"act.decide":            {"Decide", "Décider"},
	"act.decide.approved":   {"Approve", "Approuver"},
	"act.decide.refused":    {"Refuse", "Refuser"},
	"act.arrival":           {"Record arrival", "Enregistrer l’arrivée"},
	"act.arrival.date":      {"Date of arrival (YYYY-MM-DD)", "Date d’arrivée (AAAA-MM-JJ)"},
	"act.withdraw":          {"Withdraw", "Retirer"},
	"act.withdraw.reason":   {"Reason", "Motif"},
	"act.urgency":           {"Change urgency", "Changer le degré d’urgence"},
	"act.urgency.new":       {"New urgency", "Nouveau degré d’urgence"},
	"act.urgency.reason":    {"Reason", "Motif"},
	"act.submit":            {"Save", "Enregistrer"},
	"act.choose":            {"Choose…", "Choisir…"},
	"act.conflict":          {"This referral changed since the page was shown, and this action no longer applies to it. The page now shows its current state.", "Cette recommandation a changé depuis l’affichage de la page et cette action ne s’y applique plus. La page montre maintenant son état actuel."},
	"act.quota":             {"There is no room for this change in the period.", "La période n’a pas de place pour ce changement."},
	"act.closed":            {"That period is closed or does not exist.", "Cette période est fermée ou n’existe pas."},

	"dash.heading":        {"Period %d — %s", "Période %d — %s"},
	"dash.choose":         {"Choose a period", "Choisir une période"},
	"dash.capacity":       {"Capacity", "Capacité"},
	"dash.reserved":       {"Reserved", "Réservées"},
	"dash.arrived":        {"Arrived", "Arrivées"},
	"dash.remaining":      {"Remaining", "Restantes"},
	"dash.waitlisted":     {"Waitlisted persons", "Personnes en attente"},
	"dash.unallotted":     {"Not allotted to a partner", "Non attribuées à un partenaire"},
	"dash.closed":         {"This period is closed.", "Cette période est fermée."},
	"dash.partners":       {"By partner", "Par partenaire"},
	"dash.allotment":      {"Allotment", "Contingent"},
	"dash.none":           {"none", "aucun"},
	"dash.admissions":     {"Admissions by arrival year", "Admissions par année d’arrivée"},
	"dash.year":           {"Year of arrival", "Année d’arrivée"},
	"dash.persons":        {"Persons admitted", "Personnes admises"},
	"dash.charts":         {"Charts", "Graphiques"},
	"dash.no_period":      {"This period does not exist yet.", "Cette période n’existe pas encore."},
	"dash.form":           {"Capacity and allotments", "Capacité et contingents"},
	"dash.form.help":      {"Persons, not referrals. Leave a partner’s allotment empty to let it share the spaces nobody is allotted.", "En personnes, pas en recommandations. Laissez vide le contingent d’un partenaire pour qu’il partage les places non attribuées."},
	"dash.form.capacity":  {"Capacity (persons)", "Capacité (personnes)"},
	"dash.form.allotment": {"Allotment for %s (optional)", "Contingent de %s (facultatif)"},
	"dash.form.save":      {"Save capacity and allotments", "Enregistrer la capacité et les contingents"},
	"dash.form.saved":     {"Saved. Waitlisted referrals that now fit were promoted.", "Enregistré. Les recommandations en attente qui entrent maintenant ont été promues."},
	"dash.conflict":       {"Refused: the capacity cannot go below the persons already holding or having used spaces in this period, and the allotments cannot add up to more than the capacity or fall below what a partner already holds. Nothing was changed.", "Refusé : la capacité ne peut pas être inférieure au nombre de personnes qui détiennent ou ont déjà utilisé des places dans cette période, et les contingents ne peuvent ni dépasser la capacité au total, ni être inférieurs à ce qu’un partenaire détient déjà. Rien n’a été modifié."},
}

// reasonKinds are the kinds of reasons each action's form offers.
var reasonKinds = map[string]reason.Kind{"screen": reason.Ineligible, "decide": reason.Refused, "withdraw": reason.Withdrawn, "urgency": reason.Urgency}

// known is the label of key in lang, or fallback (a stored code no table
// has is shown as it is).
func known(lang problem.Lang, key, fallback string) string {
	if _, ok := labels[key]; !ok {
		return fallback
	}
	return T(lang, key)
}

// T is the label key in lang ("[key]" for a key the table lacks, which a
// test refuses).
func T(lang problem.Lang, key string) string {
	m, ok := labels[key]
	if !ok {
		return "[" + key + "]"
	}
	if lang == problem.French {
		return websession.FrenchTypography(m.fr)
	}
	return m.en
}

// fieldMessage is the message for an API field error, in lang.
func fieldMessage(lang problem.Lang, fe problem.FieldError) string {
	return frenchIf(lang, fe.Message(lang))
}

func frenchIf(lang problem.Lang, s string) string {
	if lang == problem.French {
		return websession.FrenchTypography(s)
	}
	return s
}
