package webform

import (
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/websession"
)

// msg is one piece of page text in English and French. French text is
// written with plain spaces and gets its typography (no-break spaces before
// : ; ? ! and inside « ») from websession.FrenchTypography when the catalog is built.
type msg struct{ en, fr string }

var catalog = map[string]msg{
	"service":        {"Refer a human rights defender", "Recommander une personne défenseure des droits de la personne"},
	"skip":           {"Skip to main content", "Passer au contenu principal"},
	"lang.switch":    {"Français", "English"},
	"lang.switchTag": {"fr", "en"},
	"signed_in_as":   {"Signed in for", "Connecté pour"},
	"sign_out":       {"Sign out", "Se déconnecter"},

	"title.form":          {"Refer a human rights defender", "Recommander une personne défenseure des droits de la personne"},
	"title.form_errors":   {"Error: Refer a human rights defender", "Erreur : Recommander une personne défenseure des droits de la personne"},
	"title.sign_in":       {"Sign in", "Connexion"},
	"title.confirmation":  {"Referral sent", "Recommandation envoyée"},
	"title.error":         {"Sorry, something went wrong", "Désolé, une erreur s’est produite"},
	"title.signed_in":     {"Signed in", "Connexion réussie"},
	"title.partners_only": {"This form is for partner caseworkers", "Ce formulaire est réservé aux intervenants des partenaires"},

	"intro": {"Use this form to refer a defender and the family members who would travel with them. Fields are required unless they say “optional”.",
		"Utilisez ce formulaire pour recommander une personne défenseure et les membres de sa famille qui voyageraient avec elle. Tous les champs sont obligatoires, sauf s’ils indiquent « facultatif »."},
	"optional": {"(optional)", "(facultatif)"},

	"errors.heading": {"There is a problem", "Il y a un problème"},
	"errors.intro":   {"Correct these fields, then send the referral again:", "Corrigez ces champs, puis envoyez de nouveau la recommandation :"},
	"error.prefix":   {"Error:", "Erreur :"},

	"sec.referral":  {"About the referral", "La recommandation"},
	"sec.principal": {"The defender", "La personne défenseure"},
	"sec.family":    {"Family members who would travel with the defender", "Membres de la famille qui voyageraient avec la personne défenseure"},
	"sec.asylum":    {"Where the defender is now", "Où se trouve la personne défenseure"},
	"sec.profile":   {"The defender’s work and the risk they face", "Le travail de la personne défenseure et les risques qu’elle court"},
	"sec.contact":   {"How to reach the defender", "Comment joindre la personne défenseure"},
	"sec.consent":   {"Consent", "Consentement"},

	"stream":                 {"Pathway", "Volet"},
	"stream.hint":            {"The program you are referring the defender to.", "Le programme auquel vous recommandez la personne défenseure."},
	"stream.hrd":             {"Global Human Rights Defenders stream", "Volet mondial pour les défenseurs des droits de la personne"},
	"stream.hrd-temporary":   {"Temporary protection pathway", "Voie de protection temporaire"},
	"partner_reference":      {"Your reference for this case", "Votre référence pour ce dossier"},
	"partner_reference.hint": {"Your organisation’s own case number, up to 64 characters. Each referral needs a different one.", "Le numéro de dossier de votre organisation, jusqu’à 64 caractères. Chaque recommandation doit en avoir un différent."},
	"urgency":                {"How urgent is this case?", "Quel est le degré d’urgence de ce dossier ?"},
	"urgency.normal":         {"Normal", "Normal"},
	"urgency.normal.hint":    {"The defender is not in immediate danger.", "La personne défenseure n’est pas en danger immédiat."},
	"urgency.urgent":         {"Urgent", "Urgent"},
	"urgency.urgent.hint":    {"The defender faces a serious risk in the coming weeks.", "La personne défenseure court un risque grave dans les prochaines semaines."},
	"urgency.emergency":      {"Emergency", "Urgence absolue"},
	"urgency.emergency.hint": {"The defender’s life or freedom is in danger now.", "La vie ou la liberté de la personne défenseure est en danger maintenant."},

	"given_name":                   {"Given name or names", "Prénom ou prénoms"},
	"family_name":                  {"Family name", "Nom de famille"},
	"name.hint":                    {"As in their identity document, in any script.", "Comme sur leur pièce d’identité, dans n’importe quelle écriture."},
	"date_of_birth":                {"Date of birth", "Date de naissance"},
	"date.hint":                    {"Year, month and day with hyphens, for example 1985-03-14.", "Année, mois et jour séparés par des traits d’union, par exemple 1985-03-14."},
	"sex":                          {"Sex", "Sexe"},
	"sex.hint":                     {"As in their identity document.", "Comme sur leur pièce d’identité."},
	"sex.F":                        {"Female (F)", "Féminin (F)"},
	"sex.M":                        {"Male (M)", "Masculin (M)"},
	"sex.X":                        {"Another gender (X)", "Autre genre (X)"},
	"choose":                       {"Choose…", "Choisissez…"},
	"nationality":                  {"Nationality", "Nationalité"},
	"country.hint":                 {"Three-letter country code, for example VNM for Viet Nam or THA for Thailand.", "Code de pays à trois lettres, par exemple VNM pour le Viet Nam ou THA pour la Thaïlande."},
	"relationship":                 {"Relationship to the defender", "Lien avec la personne défenseure"},
	"relationship.spouse":          {"Spouse", "Conjoint ou conjointe"},
	"relationship.partner":         {"Partner", "Partenaire"},
	"relationship.child":           {"Child", "Enfant"},
	"relationship.parent":          {"Parent", "Parent"},
	"relationship.sibling":         {"Brother or sister", "Frère ou sœur"},
	"relationship.other-dependant": {"Other dependant", "Autre personne à charge"},
	"member":                       {"Family member %d", "Membre de la famille %d"},
	"member.add":                   {"Add a family member", "Ajouter un membre de la famille"},
	"member.remove":                {"Remove family member %d", "Retirer le membre de la famille %d"},
	"member.none":                  {"No family members added. Add each person who would travel with the defender.", "Aucun membre de la famille ajouté. Ajoutez chaque personne qui voyagerait avec la personne défenseure."},
	"member.added":                 {"Family member %d added.", "Membre de la famille %d ajouté."},
	"member.removed":               {"Family member removed.", "Membre de la famille retiré."},
	"persons.one":                  {"Spaces needed: 1 (the defender only)", "Places nécessaires : 1 (la personne défenseure seulement)"},
	"persons.many":                 {"Spaces needed: %d (the defender and %d family members)", "Places nécessaires : %d (la personne défenseure et %d membres de la famille)"},
	"persons.two":                  {"Spaces needed: 2 (the defender and 1 family member)", "Places nécessaires : 2 (la personne défenseure et 1 membre de la famille)"},

	"country_of_asylum":  {"Country where the defender is now", "Pays où se trouve la personne défenseure"},
	"rights_areas":       {"Areas of human rights work", "Domaines de travail en droits de la personne"},
	"rights_areas.hint":  {"Select all that apply.", "Cochez toutes les réponses qui s’appliquent."},
	"ra.journalism":      {"Journalism and freedom of expression", "Journalisme et liberté d’expression"},
	"ra.lgbtqi":          {"LGBTQI+ rights", "Droits des personnes LGBTQI+"},
	"ra.women":           {"Women’s rights", "Droits des femmes"},
	"ra.environment":     {"Environment", "Environnement"},
	"ra.land":            {"Land rights", "Droits fonciers"},
	"ra.indigenous":      {"Indigenous peoples’ rights", "Droits des peuples autochtones"},
	"ra.labour":          {"Labour rights", "Droits du travail"},
	"ra.anti-corruption": {"Fighting corruption", "Lutte contre la corruption"},
	"ra.democracy":       {"Democracy and elections", "Démocratie et élections"},
	"ra.minority":        {"Minority rights", "Droits des minorités"},
	"ra.other":           {"Other", "Autre"},
	"summary":            {"Why the defender is at risk", "Pourquoi la personne défenseure est en danger"},
	"summary.hint":       {"In a few sentences: their work, the threats, and why they cannot stay. Up to 4,000 characters.", "En quelques phrases : son travail, les menaces et pourquoi elle ne peut pas rester. Jusqu’à 4 000 caractères."},
	"contact.hint":       {"Give an email address, a phone number, or both.", "Indiquez une adresse courriel, un numéro de téléphone, ou les deux."},
	"email":              {"Email address", "Adresse courriel"},
	"phone":              {"Phone number", "Numéro de téléphone"},
	"phone.hint":         {"With the country code, for example +66 2 123 4567.", "Avec l’indicatif du pays, par exemple +66 2 123 4567."},
	"preferred_channel":  {"Best way to reach them", "Meilleur moyen de les joindre"},
	"channel.email":      {"Email", "Courriel"},
	"channel.phone":      {"Phone call", "Appel téléphonique"},
	"channel.signal":     {"Signal", "Signal"},
	"channel.whatsapp":   {"WhatsApp", "WhatsApp"},
	"channel.other":      {"Other", "Autre"},
	"preferred_language": {"Language for letters to the defender", "Langue des lettres à la personne défenseure"},
	"language.en":        {"English", "Anglais"},
	"language.fr":        {"French", "Français"},
	"consent.given":      {"The defender has given informed consent to be referred to Canada", "La personne défenseure a donné son consentement éclairé pour être recommandée au Canada"},
	"consent.given.hint": {"They understand what a referral means and who will see their information.", "Elle comprend ce qu’implique une recommandation et qui verra ses renseignements."},
	"consent.date":       {"Date consent was given", "Date du consentement"},
	"submit":             {"Send referral", "Envoyer la recommandation"},
	"sending":            {"Sending the referral…", "Envoi de la recommandation…"},
	"contact":            {"Email address or phone number", "Adresse courriel ou numéro de téléphone"},
	"family_members":     {"Family members", "Membres de la famille"},

	"confirm.panel":   {"Referral sent", "Recommandation envoyée"},
	"confirm.id":      {"Referral number", "Numéro de la recommandation"},
	"confirm.next":    {"What happens next", "Prochaines étapes"},
	"confirm.next1":   {"An officer will check whether the defender is eligible. You can follow the referral’s status with this number.", "Un agent vérifiera si la personne défenseure est admissible. Vous pouvez suivre l’état de la recommandation avec ce numéro."},
	"confirm.keep":    {"Keep this number with your case file. Do not send it by unencrypted email together with the defender’s name.", "Conservez ce numéro dans votre dossier. Ne l’envoyez pas par courriel non chiffré avec le nom de la personne défenseure."},
	"confirm.another": {"Refer another defender", "Recommander une autre personne défenseure"},
	"confirm.missing": {"There is no referral number in this link.", "Ce lien ne contient aucun numéro de recommandation."},

	"signin.heading":               {"Sign in", "Connexion"},
	"signin.intro":                 {"Only caseworkers of designated referral partners can refer defenders.", "Seuls les intervenants des partenaires de recommandation désignés peuvent recommander des personnes défenseures."},
	"signin.dev":                   {"Development sign-in: this page exists only on the local runner. In the cloud you sign in with your organisation’s account.", "Connexion de développement : cette page n’existe que sur l’exécuteur local. En ligne, vous vous connectez avec le compte de votre organisation."},
	"signin.partner":               {"Which partner do you work for?", "Pour quel partenaire travaillez-vous ?"},
	"signin.button":                {"Sign in", "Se connecter"},
	"signin.oidc":                  {"Sign in with your organisation’s account", "Se connecter avec le compte de votre organisation"},
	"signin.unavailable":           {"Sign-in is not set up for this installation. Contact the program team.", "La connexion n’est pas configurée pour cette installation. Communiquez avec l’équipe du programme."},
	"signin.expired":               {"Your session has ended. Sign in again to continue; the form was not sent.", "Votre session a pris fin. Reconnectez-vous pour continuer ; le formulaire n’a pas été envoyé."},
	"signin.done":                  {"You are signed in", "Connexion réussie"},
	"signin.continue":              {"Continue to the referral form", "Continuer vers le formulaire de recommandation"},
	"signin.failed":                {"Sign-in with your organisation’s account could not be completed. Go back to the form to try again. If it keeps happening, contact the program team.", "La connexion avec le compte de votre organisation n’a pas pu être terminée. Revenez au formulaire pour réessayer. Si le problème persiste, communiquez avec l’équipe du programme."},
	"signin.partners_only":         {"This form is for caseworkers of referral partners. Your account is not set up as a partner caseworker, so you cannot refer defenders with it. If you work for a referral partner, ask your organisation’s administrator to give your account the partner role.", "Ce formulaire est réservé aux intervenants des partenaires de recommandation. Votre compte n’est pas configuré comme celui d’un intervenant d’un partenaire : vous ne pouvez donc pas recommander de personnes défenseures avec lui. Si vous travaillez pour un partenaire de recommandation, demandez à l’administrateur de votre organisation d’attribuer le rôle de partenaire à votre compte."},
	"partner.unhcr":                {"UNHCR", "HCR"},
	"partner.front-line-defenders": {"Front Line Defenders", "Front Line Defenders"},
	"partner.protectdefenders-eu":  {"ProtectDefenders.eu", "ProtectDefenders.eu"},

	"error.forbidden":     {"This page has expired or the request did not come from this form. Go back to the form, reload it and try again.", "Cette page a expiré ou la demande ne vient pas de ce formulaire. Revenez au formulaire, rechargez-le et réessayez."},
	"error.internal":      {"The referral was not sent. Try again in a few minutes. If it keeps happening, contact the program team.", "La recommandation n’a pas été envoyée. Réessayez dans quelques minutes. Si le problème persiste, communiquez avec l’équipe du programme."},
	"error.unavailable":   {"The form is not available right now. Try again in a few minutes. If it keeps happening, contact the program team.", "Le formulaire n’est pas disponible pour le moment. Réessayez dans quelques minutes. Si le problème persiste, communiquez avec l’équipe du programme."},
	"error.back":          {"Back to the form", "Retour au formulaire"},
	"error.duplicate":     {"You have already sent a referral with this reference. Use a different reference, or find the existing referral", "Vous avez déjà envoyé une recommandation avec cette référence. Utilisez une autre référence, ou retrouvez la recommandation existante"},
	"error.stream_closed": {"This pathway is not taking referrals now. Choose another pathway.", "Ce volet n’accepte pas de recommandations pour le moment. Choisissez un autre volet."},
}

// fieldMessages override the generic problem catalog where a field-specific
// sentence is plainer. Both languages; the JavaScript gets the same texts.
var fieldOverrides = map[string]msg{
	"contact|required":                       {"Enter an email address or a phone number.", "Saisissez une adresse courriel ou un numéro de téléphone."},
	"defender_profile.rights_areas|required": {"Select at least one area of work.", "Cochez au moins un domaine de travail."},
	"consent.given|must-be-true":             {"Confirm that the defender has given consent. Do not refer anyone without it.", "Confirmez que la personne défenseure a donné son consentement. Ne recommandez personne sans celui-ci."},
}

func init() {
	for k, m := range catalog {
		m.fr = websession.FrenchTypography(m.fr)
		catalog[k] = m
	}
	for k, m := range fieldOverrides {
		m.fr = websession.FrenchTypography(m.fr)
		fieldOverrides[k] = m
	}
}

// T is the text of key in lang; a missing key shows itself (tests catch it).
func T(lang problem.Lang, key string) string {
	m, ok := catalog[key]
	if !ok {
		return "[" + key + "]"
	}
	if lang == problem.French {
		return m.fr
	}
	return m.en
}

// FieldMessage is the message shown for code at field: a field-specific
// override, else the API's own message for the code (the same text the
// problem+json body carries).
func FieldMessage(lang problem.Lang, field, code string) string {
	if m, ok := fieldOverrides[field+"|"+code]; ok {
		if lang == problem.French {
			return m.fr
		}
		return m.en
	}
	s := problem.FieldError{Field: field, Code: code}.Message(lang)
	if lang == problem.French {
		s = websession.FrenchTypography(s)
	}
	return s
}
