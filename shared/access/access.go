package access

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/export"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/reason"
	"github.com/haven-hrd/haven/shared/referral"
	"github.com/haven-hrd/haven/shared/s3store"
)

// PersonalData is GET /referrals/{id}/personal-data.
func PersonalData(d *api.Deps) any {
	s := &step{Deps: d, exports: s3store.New(s3store.NewClient(d.AWS, d.S3Endpoint), d.ExportsBucket)}
	return d.Authorized(s.personalData)
}

type step struct {
	*api.Deps
	exports *s3store.Bucket
}

// Document is the personal-data document.
type Document struct {
	ReferralID string `json:"referral_id"`
	// Language is the document's: the person's preferred language when
	// it is English or French, else English.
	Language    problem.Lang `json:"language"`
	GeneratedAt time.Time    `json:"generated_at"`
	Notice      string       `json:"notice"`
	// Referral is every field held, unsealed.
	Referral referral.Referral `json:"referral"`
	Reasons  []Labelled        `json:"reasons"`
	Holds    []Labelled        `json:"holds"`
	// PossibleDuplicates are other referrals of the same person (the
	// keyed fingerprint of the principal's identity).
	PossibleDuplicates []string  `json:"possible_duplicates"`
	History            []Entry   `json:"history"`
	Reads              []Read    `json:"reads"`
	Exports            []Exports `json:"exports"`
}

// Labelled is a code with its label in the document's language.
type Labelled struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Entry is one state change of the referral.
type Entry struct {
	At               time.Time       `json:"at"`
	Action           string          `json:"action"`
	FromStatus       referral.Status `json:"from_status,omitempty"`
	ToStatus         referral.Status `json:"to_status,omitempty"`
	PersonsDelta     int             `json:"persons_delta"`
	ActorRole        string          `json:"actor_role"`
	Reason           *Labelled       `json:"reason,omitempty"`
	PreviousReferral string          `json:"previous_referral,omitempty"`
}

// Read is one time the referral was shown: in full (what "referral") or
// on a list page ("list").
type Read struct {
	At        time.Time `json:"at"`
	What      string    `json:"what"`
	ActorRole string    `json:"actor_role"`
}

// Exports is one partner export that included the referral, by its
// manifest: every referral of the partner that existed when it ran.
type Exports struct {
	Manifest    string        `json:"manifest"`
	GeneratedAt time.Time     `json:"generated_at"`
	Files       []export.File `json:"files"`
}

var notice = map[problem.Lang]string{
	problem.English: "Everything Haven holds about the defender and the family members of this referral: its fields, its history, every time it was shown, and the partner exports that included it. Haven keeps it until the referral is disposed of; while this access request is open (hold access-request), it is not disposed of.",
	problem.French:  "Tout ce que Haven détient sur la personne défenseure et les membres de sa famille dans ce signalement\u00a0: ses champs, son historique, chaque consultation et les exportations des partenaires qui l’ont inclus. Haven le conserve jusqu’à la destruction du signalement\u00a0; tant que cette demande d’accès est ouverte (suspension access-request), il n’est pas détruit.",
}

func (s *step) personalData(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := apigw.Require(r.Caller, apigw.Officer); err != nil {
		return apigw.Response{}, err
	}
	id := r.Event.PathParameters["id"]
	// The request holds the referral first: if it cannot be held, the
	// document is not served (nor is a disposed one: 410).
	if _, _, err := s.Store.ChangeHolds(ctx, dynamostore.HoldChange{
		ID: id, Hold: true, Reason: reason.AccessRequest,
		ActorRole: string(r.Caller.PrimaryRole()), Actor: r.Caller.Subject, Nonce: s.NewID(),
	}, func([]string) (dynamostore.Idem, error) { return nil, nil }, s.Now()); err != nil {
		return apigw.Response{}, err
	}
	ref, err := s.Store.Get(ctx, id, "", dynamostore.Whole)
	if err != nil {
		return apigw.Response{}, err
	}
	now := s.Now()
	// Audited like every full read, before it is served.
	if err := s.Store.RecordRead(ctx, id, referral.Event{At: now, ActorRole: string(r.Caller.PrimaryRole()), Actor: r.Caller.Subject}, s.NewID()); err != nil {
		return apigw.Response{}, err
	}
	doc, err := s.document(ctx, ref, now)
	if err != nil {
		return apigw.Response{}, err
	}
	r.Log.Info("personal data served", "referral_id", id)
	resp, err := apigw.JSON(http.StatusOK, doc)
	if err == nil {
		resp.Headers["Content-Language"] = string(doc.Language)
	}
	return resp, err
}

func (s *step) document(ctx context.Context, ref referral.Referral, now time.Time) (Document, error) {
	lang := problem.English
	if ref.PreferredLanguage == string(problem.French) {
		lang = problem.French
	}
	label := func(code string) Labelled {
		lb, ok := reason.LabelOf(code)
		if !ok {
			return Labelled{Code: code, Label: code}
		}
		return Labelled{Code: code, Label: lb.In(lang)}
	}
	doc := Document{
		ReferralID: ref.ID, Language: lang, GeneratedAt: now.UTC(), Notice: notice[lang],
		Referral: ref, Reasons: []Labelled{}, Holds: []Labelled{}, History: []Entry{}, Reads: []Read{}, Exports: []Exports{},
	}
	if doc.Referral.FamilyMembers == nil {
		doc.Referral.FamilyMembers = []referral.Person{}
	}
	for _, c := range ref.Reasons {
		doc.Reasons = append(doc.Reasons, label(c))
	}
	dups, err := s.Store.PossibleDuplicates(ctx, ref)
	if err != nil {
		return Document{}, err
	}
	doc.PossibleDuplicates = append([]string{}, dups...)
	cur, evs, err := s.Store.HistoryOf(ctx, ref.ID, "", true)
	if err != nil {
		return Document{}, err
	}
	for _, h := range cur.Holds {
		doc.Holds = append(doc.Holds, label(h))
	}
	for _, e := range evs {
		if e.Action == referral.ActionRead {
			doc.Reads = append(doc.Reads, Read{At: e.At.UTC(), What: "referral", ActorRole: e.ActorRole})
			continue
		}
		en := Entry{At: e.At.UTC(), Action: e.Action, FromStatus: e.FromStatus, ToStatus: e.ToStatus,
			PersonsDelta: e.PersonsDelta, ActorRole: e.ActorRole, PreviousReferral: e.Previous}
		if e.Reason != "" {
			l := label(e.Reason)
			en.Reason = &l
		}
		doc.History = append(doc.History, en)
	}
	// List pages that showed it are kept by day: every day since it was
	// created is asked (one Query a day).
	for day := ref.CreatedAt.UTC().Truncate(24 * time.Hour); !day.After(now); day = day.Add(24 * time.Hour) {
		pages, err := s.Store.PageReads(ctx, day, ref.ID)
		if err != nil {
			return Document{}, err
		}
		for _, p := range pages {
			doc.Reads = append(doc.Reads, Read{At: p.At.UTC(), What: "list", ActorRole: p.ActorRole})
		}
	}
	if doc.Exports, err = s.exportsOf(ctx, ref); err != nil {
		return Document{}, err
	}
	return doc, nil
}

// exportsOf lists the partner's exports still in the bucket that included
// ref: every export run since it was created (an export holds every
// referral of its partner), read from their manifests.
func (s *step) exportsOf(ctx context.Context, ref referral.Referral) ([]Exports, error) {
	keys, err := s.exports.Keys(ctx, ref.Partner+"/")
	if err != nil {
		return nil, problem.Wrap(problem.Internal, err)
	}
	out := []Exports{}
	for _, k := range keys {
		if !strings.HasSuffix(k, "/"+export.ManifestName) {
			continue
		}
		b, err := s.exports.Get(ctx, k)
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err)
		}
		var m export.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, problem.Wrap(problem.Internal, err)
		}
		if m.GeneratedAt.Before(ref.CreatedAt) {
			continue
		}
		out = append(out, Exports{Manifest: k, GeneratedAt: m.GeneratedAt.UTC(), Files: m.Files})
	}
	return out, nil
}
