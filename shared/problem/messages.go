package problem

import "strings"

// Lang is a language clients may ask for.
type Lang string

const (
	English Lang = "en"
	French  Lang = "fr"
)

// PickLang chooses en or fr from an Accept-Language header (q-values honoured,
// default English).
func PickLang(acceptLanguage string) Lang {
	best, bestQ := English, -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, q := part, 1.0
		if i := strings.Index(part, ";"); i >= 0 {
			tag = strings.TrimSpace(part[:i])
			params := strings.TrimSpace(part[i+1:])
			if v, ok := strings.CutPrefix(params, "q="); ok {
				q = parseQ(v)
			}
		}
		base := strings.ToLower(tag)
		if j := strings.IndexAny(base, "-_"); j >= 0 {
			base = base[:j]
		}
		var l Lang
		switch base {
		case "en":
			l = English
		case "fr":
			l = French
		default:
			continue
		}
		if q <= 0 {
			// q=0 means "not acceptable"; a malformed q counts as 0.
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

func parseQ(s string) float64 {
	// q-values are at most 3 decimals in [0,1]; anything else counts as 0.
	var whole, frac, div float64 = 0, 0, 1
	seenDot := false
	for _, r := range s {
		switch {
		case r == '.' && !seenDot:
			seenDot = true
		case r >= '0' && r <= '9':
			if seenDot {
				div *= 10
				frac += float64(r-'0') / div
			} else {
				whole = whole*10 + float64(r-'0')
			}
		default:
			return 0
		}
	}
	if v := whole + frac; v <= 1 {
		return v
	}
	return 0
}

type text struct{ en, fr string }

func (t text) in(l Lang) string {
	if l == French {
		return t.fr
	}
	return t.en
}

var titles = map[Kind]text{
	Validation:             {"Some fields need correcting", "Certains champs sont à corriger"},
	Unauthenticated:        {"Sign-in required", "Connexion requise"},
	Forbidden:              {"Not allowed", "Action non autorisée"},
	NotFound:               {"Not found", "Introuvable"},
	InvalidTransition:      {"This step is not possible now", "Cette étape n’est pas possible maintenant"},
	QuotaExhausted:         {"Not enough spaces", "Places insuffisantes"},
	DuplicateReferral:      {"Referral already exists", "Ce signalement existe déjà"},
	RequestInProgress:      {"Request still in progress", "Demande en cours de traitement"},
	CapacityBelowCommitted: {"Capacity below spaces already committed", "Capacité inférieure aux places déjà engagées"},
	PeriodClosed:           {"This period is closed", "Cette période est close"},
	WaitlistNotEmpty:       {"Referrals are still waiting", "Des signalements sont encore en attente"},
	PayloadTooLarge:        {"Request too large", "Requête trop volumineuse"},
	UnsupportedMediaType:   {"Unsupported content type", "Type de contenu non pris en charge"},
	IdempotencyKeyReused:   {"Idempotency key reused", "Clé d’idempotence réutilisée"},
	RateLimited:            {"Too many requests", "Trop de requêtes"},
	Disposed:               {"This referral’s records were disposed of", "Les dossiers de ce signalement ont été détruits"},
	Internal:               {"Something went wrong", "Une erreur s’est produite"},
	Unavailable:            {"Service temporarily unavailable", "Service temporairement indisponible"},
}

var details = map[Kind]text{
	Validation:             {"The request has errors. Each one is listed in errors.", "La requête contient des erreurs. Chacune figure dans errors."},
	Unauthenticated:        {"Send a valid, unexpired bearer token.", "Envoyez un jeton porteur valide et non expiré."},
	Forbidden:              {"Your role does not allow this action.", "Votre rôle ne permet pas cette action."},
	NotFound:               {"There is nothing here, or you may not see it.", "Il n’y a rien ici, ou vous n’avez pas accès à cette ressource."},
	InvalidTransition:      {"The referral’s current status does not allow this step. Nothing was changed.", "Le statut actuel du signalement ne permet pas cette étape. Rien n’a été modifié."},
	QuotaExhausted:         {"The period does not have enough remaining spaces. Nothing was changed.", "La période n’a pas assez de places restantes. Rien n’a été modifié."},
	DuplicateReferral:      {"This partner reference is already used by another referral.", "Cette référence partenaire est déjà utilisée par un autre signalement."},
	RequestInProgress:      {"A request with this idempotency key is still running. Retry shortly.", "Une requête avec cette clé d’idempotence est encore en cours. Réessayez dans un instant."},
	CapacityBelowCommitted: {"Capacity, or a partner’s allotment, cannot be lower than the spaces reserved and arrived in it. Nothing was changed.", "La capacité, ou l’allocation d’un partenaire, ne peut pas être inférieure aux places réservées et arrivées qu’elle compte. Rien n’a été modifié."},
	WaitlistNotEmpty:       {"The period still has a waitlist: give carry_over_to, an open period to move it to. Nothing was changed.", "La période a encore une liste d’attente : indiquez carry_over_to, une période ouverte où la déplacer. Rien n’a été modifié."},
	PeriodClosed:           {"The period is closed: no spaces can be taken in it. Use the next open period. Nothing was changed.", "La période est close : aucune place ne peut y être prise. Utilisez la prochaine période ouverte. Rien n’a été modifié."},
	PayloadTooLarge:        {"The request body is larger than 64 KiB.", "Le corps de la requête dépasse 64 Kio."},
	UnsupportedMediaType:   {"Send application/json or application/x-www-form-urlencoded.", "Envoyez application/json ou application/x-www-form-urlencoded."},
	IdempotencyKeyReused:   {"This idempotency key was used with a different request body.", "Cette clé d’idempotence a été utilisée avec un autre corps de requête."},
	RateLimited:            {"Slow down and retry later.", "Ralentissez et réessayez plus tard."},
	Disposed:               {"Its retention period ended and its personal data was destroyed. Only the tombstone below, which identifies no one, is kept.", "Sa période de conservation a pris fin et ses renseignements personnels ont été détruits. Seule la trace ci-dessous, qui n’identifie personne, est conservée."},
	Internal:               {"An unexpected error occurred. It has been logged.", "Une erreur inattendue s’est produite. Elle a été journalisée."},
	Unavailable:            {"A service Haven depends on is unavailable. Retry after the delay given; nothing was half-done.", "Un service dont Haven dépend est indisponible. Réessayez après le délai indiqué ; rien n’a été fait à moitié."},
}

// Field codes: stable machine codes of validation rules.
const (
	CodeRequired          = "required"
	CodeTooLong           = "too-long"
	CodeTooShort          = "too-short"
	CodeInvalidCharacters = "invalid-characters"
	// CodeHiddenCharacters refuses, in every free-text field, characters
	// that hide or reorder what a person reads (zero-width, bidi controls).
	CodeHiddenCharacters = "hidden-characters"
	CodeInvalidDate      = "invalid-date"
	CodeFutureDate       = "future-date"
	CodeTooOld           = "before-1900"
	CodeInvalidCountry   = "invalid-country"
	CodeNotAllowed       = "not-allowed-value"
	CodeUnknownField     = "unknown-field"
	CodeMustBeTrue       = "must-be-true"
	CodeTooMany          = "too-many"
	CodeWrongType        = "wrong-type"
	CodeMalformed        = "malformed"
	CodeOutOfRange       = "out-of-range"
	CodeDuplicate        = "duplicate-value"
	CodeInvalidEmail     = "invalid-email"
	CodeInvalidPhone     = "invalid-phone"
	CodeUnknownStream    = "unknown-stream"
	CodeStreamClosed     = "stream-closed"
	// CodeAllotmentsOverCapacity: the partners' allotments add up to more
	// than the period's capacity.
	CodeAllotmentsOverCapacity = "allotments-over-capacity"
)

var fieldMessages = map[string]text{
	CodeHiddenCharacters:       {"Remove invisible or direction-changing characters, such as zero-width spaces or right-to-left marks, which can hide what the text says.", "Supprimez les caractères invisibles ou qui changent le sens d’écriture, comme les espaces sans chasse ou les marques de droite à gauche, qui peuvent masquer ce que dit le texte."},
	CodeRequired:               {"This field is required.", "Ce champ est obligatoire."},
	CodeTooLong:                {"This value is too long.", "Cette valeur est trop longue."},
	CodeTooShort:               {"This value is too short.", "Cette valeur est trop courte."},
	CodeInvalidCharacters:      {"Use only letters, spaces, apostrophes, hyphens and full stops.", "Utilisez uniquement des lettres, des espaces, des apostrophes, des traits d’union et des points."},
	CodeInvalidDate:            {"Enter a real date as YYYY-MM-DD.", "Saisissez une date réelle au format AAAA-MM-JJ."},
	CodeFutureDate:             {"This date cannot be in the future.", "Cette date ne peut pas être dans le futur."},
	CodeTooOld:                 {"This date cannot be before 1900.", "Cette date ne peut pas être antérieure à 1900."},
	CodeInvalidCountry:         {"Enter a three-letter ISO 3166-1 country code, such as THA.", "Saisissez un code de pays ISO 3166-1 à trois lettres, par exemple THA."},
	CodeNotAllowed:             {"This value is not one of the allowed choices.", "Cette valeur ne fait pas partie des choix permis."},
	CodeUnknownField:           {"This field is not part of the request.", "Ce champ ne fait pas partie de la requête."},
	CodeMustBeTrue:             {"Consent must be given before a referral can be made.", "Le consentement doit être donné avant de pouvoir faire un signalement."},
	CodeTooMany:                {"There are too many entries.", "Il y a trop d’entrées."},
	CodeWrongType:              {"This value has the wrong type.", "Cette valeur n’est pas du bon type."},
	CodeMalformed:              {"This value could not be read. Check its format.", "Cette valeur n’a pas pu être lue. Vérifiez son format."},
	CodeOutOfRange:             {"This value is out of range.", "Cette valeur est hors limites."},
	CodeDuplicate:              {"This value is repeated.", "Cette valeur est répétée."},
	CodeInvalidEmail:           {"Enter an email address such as name@example.org.", "Saisissez une adresse courriel comme nom@exemple.org."},
	CodeInvalidPhone:           {"Enter a phone number in international format, such as +66 2 123 4567.", "Saisissez un numéro de téléphone au format international, par exemple +66 2 123 4567."},
	CodeUnknownStream:          {"There is no such pathway.", "Ce volet n’existe pas."},
	CodeStreamClosed:           {"This pathway is not taking referrals.", "Ce volet n’accepte pas de signalements."},
	CodeAllotmentsOverCapacity: {"The partners’ allotments add up to more than the capacity.", "La somme des allocations des partenaires dépasse la capacité."},
}

// Title is the short, language-specific title of k.
func Title(k Kind, l Lang) string {
	t, ok := titles[k]
	if !ok {
		t = titles[Internal]
	}
	return t.in(l)
}

// Detail is the language-specific explanation of k.
func Detail(k Kind, l Lang) string {
	t, ok := details[k]
	if !ok {
		t = details[Internal]
	}
	return t.in(l)
}

// FieldMessage is the human message for a field code.
func FieldMessage(code string, l Lang) string {
	t, ok := fieldMessages[code]
	if !ok {
		t = fieldMessages[CodeMalformed]
	}
	return t.in(l)
}

var malformedBody = text{"The request body could not be read.", "Le corps de la requête n’a pas pu être lu."}

// allowedIntro introduces the list of allowed values after a field message.
var allowedIntro = text{"Allowed values: ", "Valeurs permises\u00a0: "}

// Message is the human message for f: its code's message and, when f has a
// closed list of allowed values, that list.
func (f FieldError) Message(l Lang) string {
	m := FieldMessage(f.Code, l)
	if f.Code == CodeMalformed && f.Field == "" {
		// No field: what could not be read is the body itself.
		m = malformedBody.in(l)
	}
	if len(f.Allowed) == 0 {
		return m
	}
	return m + " " + allowedIntro.in(l) + strings.Join(f.Allowed, ", ") + "."
}

// FieldCodes lists every field code with a message (for tests and docs).
func FieldCodes() []string {
	out := make([]string, 0, len(fieldMessages))
	for c := range fieldMessages {
		out = append(out, c)
	}
	return out
}
