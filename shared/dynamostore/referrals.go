package dynamostore

import (
	"context"
	"crypto/cipher"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/haven-hrd/haven/shared/idempotency"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/referral"
)

// Keys of the referral entities (see doc.go).
func refPK(id string) string                  { return "REF#" + id }
func prefPK(partner, ref string) string       { return "PREF#" + partner + "#" + ref }
func fingerprintPK(fp string) string          { return "FP#" + fp }
func partnerGSI(partner string) string        { return "PARTNER#" + partner }
func createdSK(t time.Time, id string) string { return t.UTC().Format(sortableTime) + "#" + id }

// sortableTime is used in sort keys: fixed width, so that string order is
// time order (RFC 3339 with nanoseconds trims trailing zeros and does not).
const sortableTime = "2006-01-02T15:04:05.000000000Z"

const allReferralsGSI = "REFS"

// people is the sealed part of a referral that names persons.
type people struct {
	Principal     referral.Person   `json:"principal"`
	FamilyMembers []referral.Person `json:"family_members"`
}

// referralItem is a referral as stored. Every attribute that could identify
// or locate a person is sealed, each bound to this referral and attribute.
type referralItem struct {
	PK               string   `dynamodbav:"pk"`
	SK               string   `dynamodbav:"sk"`
	GSI1PK           string   `dynamodbav:"gsi1pk"`
	GSI1SK           string   `dynamodbav:"gsi1sk"`
	GSI2PK           string   `dynamodbav:"gsi2pk"`
	GSI2SK           string   `dynamodbav:"gsi2sk"`
	ID               string   `dynamodbav:"id"`
	Partner          string   `dynamodbav:"partner"`
	Stream           string   `dynamodbav:"stream"`
	PartnerReference string   `dynamodbav:"partner_reference"`
	Urgency          string   `dynamodbav:"urgency"`
	Status           string   `dynamodbav:"status"`
	Persons          int      `dynamodbav:"persons"`
	Period           int      `dynamodbav:"period"`
	Reasons          []string `dynamodbav:"reasons,omitempty"`
	WaitlistReason   string   `dynamodbav:"waitlist_reason,omitempty"`
	ArrivedOn        string   `dynamodbav:"arrived_on,omitempty"`
	Language         string   `dynamodbav:"preferred_language,omitempty"`
	ConsentGiven     bool     `dynamodbav:"consent_given"`
	ConsentDate      string   `dynamodbav:"consent_date"`
	CreatedAt        string   `dynamodbav:"created_at"`
	UpdatedAt        string   `dynamodbav:"updated_at"`
	Version          int      `dynamodbav:"version"`
	Fingerprint      string   `dynamodbav:"fingerprint,omitempty"`
	SealedPeople     []byte   `dynamodbav:"pii_people"`
	SealedAsylum     []byte   `dynamodbav:"pii_asylum"`
	SealedProfile    []byte   `dynamodbav:"pii_profile"`
	SealedContact    []byte   `dynamodbav:"pii_contact"`
	// Holds are the codes of the holds on its disposition, space-separated
	// ("" once the last is lifted: the embedded server ignores REMOVE).
	Holds string `dynamodbav:"holds,omitempty"`
	// DisposedAt is set on a tombstone (disposition.go).
	DisposedAt string `dynamodbav:"disposed_at,omitempty"`
}

// aad binds a ciphertext to its referral, the partner it belongs to and
// its attribute: a referral whose partner attribute is rewritten (by anyone
// who may write the table but not unwrap the keysets) fails to open
// instead of being shown, decrypted, to the other partner.
func aad(id, partner, attr string) []byte {
	return []byte("haven/referral/" + id + "/partner/" + partner + "/" + attr)
}

// legacyAAD is the associated data of fields sealed before the partner was
// bound: a fallback for opening those only (seal/doc.go says why it is safe
// and what it leaves open until they are re-sealed).
func legacyAAD(id, attr string) []byte { return []byte("haven/referral/" + id + "/" + attr) }

// seal seals a field under the referral's own key k, or by the data keyset
// when the referral has none (a store without a key table).
func (s *Store) seal(k cipher.AEAD, id, partner, attr string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if k != nil {
		return k.Seal(nil, nil, b, aad(id, partner, attr)), nil
	}
	return s.sealer.Seal(b, aad(id, partner, attr))
}

// open opens a field sealed by seal. A referral with a key of its own
// opens under that key and the partner-bound data only; one without (sealed
// before per-referral keys) by the data keyset, falling back to the
// associated data of before the partner was bound.
func (s *Store) open(k cipher.AEAD, id, partner, attr string, ct []byte, v any) error {
	if k != nil {
		b, err := k.Open(nil, nil, ct, aad(id, partner, attr))
		if err != nil {
			return fmt.Errorf("open %s: %w", attr, err)
		}
		return json.Unmarshal(b, v)
	}
	if s.refuseLegacy {
		return fmt.Errorf("open %s: referral %s has no data key of its own, and referrals sealed before per-referral keys are refused", attr, id)
	}
	b, err := s.sealer.Open(ct, aad(id, partner, attr))
	if err != nil {
		// An AEAD opens under the associated data it was sealed with and no
		// other, so only a ciphertext sealed before the partner was bound
		// opens here: no newer one can be made to.
		var lerr error
		if b, lerr = s.sealer.Open(ct, legacyAAD(id, attr)); lerr != nil {
			return fmt.Errorf("open %s: %w", attr, err)
		}
	}
	return json.Unmarshal(b, v)
}

// toItem is r as stored, its fields sealed under k (see seal).
func (s *Store) toItem(r referral.Referral, k cipher.AEAD) (referralItem, error) {
	it := referralItem{
		PK: refPK(r.ID), SK: skMain,
		GSI1PK: partnerGSI(r.Partner), GSI1SK: createdSK(r.CreatedAt, r.ID),
		GSI2PK: allReferralsGSI, GSI2SK: createdSK(r.CreatedAt, r.ID),
		ID: r.ID, Partner: r.Partner, Stream: r.Stream, PartnerReference: r.PartnerReference,
		Urgency: string(r.Urgency), Status: string(r.Status), Persons: r.Persons, Period: r.Period,
		Reasons: r.Reasons, WaitlistReason: r.WaitlistReason, ArrivedOn: r.ArrivedOn, Language: r.PreferredLanguage,
		ConsentGiven: r.Consent.Given, ConsentDate: r.Consent.Date,
		CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: r.UpdatedAt.UTC().Format(time.RFC3339Nano),
		Version: r.Version, Fingerprint: r.Fingerprint,
	}
	var err error
	if it.SealedPeople, err = s.seal(k, r.ID, r.Partner, "people", people{r.Principal, r.FamilyMembers}); err != nil {
		return it, err
	}
	if it.SealedAsylum, err = s.seal(k, r.ID, r.Partner, "asylum", r.CountryOfAsylum); err != nil {
		return it, err
	}
	if it.SealedProfile, err = s.seal(k, r.ID, r.Partner, "profile", r.DefenderProfile); err != nil {
		return it, err
	}
	if it.SealedContact, err = s.seal(k, r.ID, r.Partner, "contact", r.Contact); err != nil {
		return it, err
	}
	return it, nil
}

// Detail says how much of a referral to unseal.
type Detail int

const (
	// Whole unseals everything: the single-referral view.
	Whole Detail = iota
	// Listing leaves contact details and the summary sealed.
	Listing
	// Bare unseals nothing: lifecycle steps need only status and counts.
	Bare
)

// fromItem is the referral an item holds, opened as far as d says with
// the referral's key k (nil: it has none, see open).
func (s *Store) fromItem(it referralItem, d Detail, k cipher.AEAD) (referral.Referral, error) {
	r := referral.Referral{
		ID: it.ID, Partner: it.Partner, Status: referral.Status(it.Status), Persons: it.Persons,
		Period: it.Period, Reasons: it.Reasons, WaitlistReason: it.WaitlistReason, ArrivedOn: it.ArrivedOn, Version: it.Version, Fingerprint: it.Fingerprint,
		Holds: strings.Fields(it.Holds),
	}
	r.Stream, r.PartnerReference, r.Urgency = it.Stream, it.PartnerReference, referral.Urgency(it.Urgency)
	r.PreferredLanguage = it.Language
	r.Consent = referral.Consent{Given: it.ConsentGiven, Date: it.ConsentDate}
	var err error
	if r.CreatedAt, err = time.Parse(time.RFC3339Nano, it.CreatedAt); err != nil {
		return r, err
	}
	if r.UpdatedAt, err = time.Parse(time.RFC3339Nano, it.UpdatedAt); err != nil {
		return r, err
	}
	if it.DisposedAt != "" {
		if r.DisposedAt, err = time.Parse(time.RFC3339Nano, it.DisposedAt); err != nil {
			return r, err
		}
	}
	if d == Bare {
		return r, nil
	}
	var p people
	if err := s.open(k, it.ID, it.Partner, "people", it.SealedPeople, &p); err != nil {
		return r, err
	}
	r.Principal, r.FamilyMembers = p.Principal, p.FamilyMembers
	if err := s.open(k, it.ID, it.Partner, "asylum", it.SealedAsylum, &r.CountryOfAsylum); err != nil {
		return r, err
	}
	if err := s.open(k, it.ID, it.Partner, "profile", it.SealedProfile, &r.DefenderProfile); err != nil {
		return r, err
	}
	if d == Listing {
		r.DefenderProfile.Summary = ""
		return r, nil
	}
	if err := s.open(k, it.ID, it.Partner, "contact", it.SealedContact, &r.Contact); err != nil {
		return r, err
	}
	return r, nil
}

type prefItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	ReferralID string `dynamodbav:"referral_id"`
	// Released is set when the referral ended (referral.ReleasesReference):
	// a new referral may then take the reference over.
	Released bool `dynamodbav:"released,omitempty"`
}

// prefRelease marks r's partner_reference free, in the transaction that
// ends r (only if the claim is still r's).
func (s *Store) prefRelease(r referral.Referral) ddb.TransactWriteItem {
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(prefPK(r.Partner, r.PartnerReference), skMain),
		UpdateExpression:          aws.String("SET #rel = :true"),
		ConditionExpression:       aws.String("#rid = :id"),
		ExpressionAttributeNames:  map[string]string{"#rel": "released", "#rid": "referral_id"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":true": &ddb.AttributeValueMemberBOOL{Value: true}, ":id": str(r.ID)},
	}}
}

type fingerprintItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	ReferralID string `dynamodbav:"referral_id"`
	Partner    string `dynamodbav:"partner"`
}

// eventItem is one audit entry, kept in the referral's partition so history
// is one Query and is deleted (if ever) with it.
type eventItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	At           string `dynamodbav:"at"`
	Action       string `dynamodbav:"action"`
	FromStatus   string `dynamodbav:"from_status,omitempty"`
	ToStatus     string `dynamodbav:"to_status,omitempty"`
	PersonsDelta int    `dynamodbav:"persons_delta"`
	ActorRole    string `dynamodbav:"actor_role"`
	Actor        string `dynamodbav:"actor,omitempty"`
	Previous     string `dynamodbav:"previous_referral,omitempty"`
	Reason       string `dynamodbav:"reason,omitempty"`
}

// Audit sort keys: state changes under EV#, reads under READ#, so history is
// a single prefix query and reads never crowd it.
func eventSK(prefix string, at time.Time, nonce string) string {
	return prefix + at.UTC().Format(sortableTime) + "#" + nonce
}

func eventPut(table, pk, sk string, e referral.Event) (ddb.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(eventItem{
		PK: pk, SK: sk, At: e.At.UTC().Format(time.RFC3339Nano), Action: e.Action,
		FromStatus: string(e.FromStatus), ToStatus: string(e.ToStatus),
		PersonsDelta: e.PersonsDelta, ActorRole: e.ActorRole, Actor: e.Actor, Previous: e.Previous, Reason: e.Reason,
	})
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Put: &ddb.Put{
		TableName: aws.String(table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// Create stores a new referral with its partner-reference claim, its
// fingerprint entry, its first audit event and (when idem is set) the
// idempotency record, all in one transaction. A replayed response is returned
// when the key was already used for this same request.
func (s *Store) Create(ctx context.Context, r referral.Referral, e referral.Event, idem Idem, now time.Time) (*Replay, error) {
	replay, claim, err := s.create(ctx, r, e, idem, now, "")
	if err == nil || !claim.Released {
		return replay, err
	}
	// The reference is taken by a referral that ended and released it: the
	// new one takes it over and its history names the earlier one. If
	// another new referral took it meanwhile, this one is its duplicate.
	e.Previous = claim.ReferralID
	replay, _, err = s.create(ctx, r, e, idem, now, claim.ReferralID)
	return replay, err
}

// create runs Create's transaction. previous, when set, is the released
// referral whose partner_reference claim is taken over; claim is the claim
// that made it a duplicate-referral.
func (s *Store) create(ctx context.Context, r referral.Referral, e referral.Event, idem Idem, now time.Time, previous string) (replay *Replay, claim prefItem, err error) {
	k, keyPut, err := s.newKey(r.ID)
	if err != nil {
		return nil, prefItem{}, problem.Wrap(problem.Internal, err)
	}
	it, err := s.toItem(r, k)
	if err != nil {
		return nil, prefItem{}, problem.Wrap(problem.Internal, err)
	}
	ref, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, prefItem{}, problem.Wrap(problem.Internal, err)
	}
	pref, err := attributevalue.MarshalMap(prefItem{PK: prefPK(r.Partner, r.PartnerReference), SK: skMain, ReferralID: r.ID})
	if err != nil {
		return nil, prefItem{}, problem.Wrap(problem.Internal, err)
	}
	ev, err := eventPut(s.table, refPK(r.ID), eventSK("EV#", e.At, "0"), e)
	if err != nil {
		return nil, prefItem{}, problem.Wrap(problem.Internal, err)
	}
	// Order matters: the embedded server reports only the first failed
	// condition, so the checks a client can act on come first.
	items := []ddb.TransactWriteItem{
		s.streamCheck(r.Stream, r.Partner),
		prefClaim(s.table, pref, previous),
		{Put: &ddb.Put{TableName: aws.String(s.table), Item: ref, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		ev,
	}
	queue, err := s.queuePut(r)
	if err != nil {
		return nil, prefItem{}, problem.Wrap(problem.Internal, err)
	}
	items = append(items, queue)
	if r.Fingerprint != "" {
		fp, err := attributevalue.MarshalMap(fingerprintItem{PK: fingerprintPK(r.Fingerprint), SK: refPK(r.ID), ReferralID: r.ID, Partner: r.Partner})
		if err != nil {
			return nil, prefItem{}, problem.Wrap(problem.Internal, err)
		}
		items = append(items, ddb.TransactWriteItem{Put: &ddb.Put{TableName: aws.String(s.table), Item: fp}})
	}
	if keyPut != nil {
		items = append(items, *keyPut)
	}
	replay, reasons, err := s.transactFor(ctx, r.ID, k, idem, now, items)
	if problem.KindOf(err) == problem.IdempotencyKeyReused {
		// An invalid body is 400 whatever its key, as it is for every rule
		// checked before the store; the stream is the one only the table
		// can tell, and the key's check came first.
		if serr := s.streamAdmits(ctx, r.Stream, r.Partner); serr != nil {
			return nil, prefItem{}, serr
		}
	}
	if err != nil || replay != nil {
		return replay, prefItem{}, err
	}
	if reasons == nil {
		return nil, prefItem{}, nil
	}
	if failedAt(reasons, 0) {
		return nil, prefItem{}, s.streamRefusal(ctx, r.Stream, r.Partner)
	}
	if failedAt(reasons, 1) {
		claim, err := s.referenceClaim(ctx, r.Partner, r.PartnerReference)
		if err != nil {
			return nil, prefItem{}, err
		}
		return nil, claim, &problem.Error{Kind: problem.DuplicateReferral, Extra: map[string]string{"existing_id": claim.ReferralID}}
	}
	return nil, prefItem{}, problem.Wrap(problem.Internal, fmt.Errorf("create cancelled: %v", reasons))
}

// prefClaim puts a partner_reference claim: on a free reference, or over
// the released claim of previous.
func prefClaim(table string, pref map[string]ddb.AttributeValue, previous string) ddb.TransactWriteItem {
	put := &ddb.Put{TableName: aws.String(table), Item: pref, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if previous != "" {
		put.ConditionExpression = aws.String("#rel = :true AND #rid = :prev")
		put.ExpressionAttributeNames = map[string]string{"#rel": "released", "#rid": "referral_id"}
		put.ExpressionAttributeValues = map[string]ddb.AttributeValue{":true": &ddb.AttributeValueMemberBOOL{Value: true}, ":prev": str(previous)}
	}
	return ddb.TransactWriteItem{Put: put}
}

// Replay is a stored response to answer with instead of doing the work again.
type Replay = idempotency.Response

// referenceClaim reads the claim on a partner_reference.
func (s *Store) referenceClaim(ctx context.Context, partner, ref string) (prefItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(prefPK(partner, ref), skMain), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return prefItem{}, classify(err)
	}
	var p prefItem
	if err := attributevalue.UnmarshalMap(out.Item, &p); err != nil {
		return prefItem{}, problem.Wrap(problem.Internal, err)
	}
	return p, nil
}

// Get reads one referral. A missing referral is NotFound; so is another
// partner's, when partner is set, so partners cannot probe for ids.
func (s *Store) Get(ctx context.Context, id, partner string, d Detail) (referral.Referral, error) {
	r, _, err := s.get(ctx, id, partner, d)
	return r, err
}

// get is Get, with the referral's data key when d opens anything and the
// referral has one (a change that re-seals a field seals under it).
func (s *Store) get(ctx context.Context, id, partner string, d Detail) (referral.Referral, cipher.AEAD, error) {
	if !validID(id) {
		return referral.Referral{}, nil, problem.New(problem.NotFound)
	}
	item, keyRaw, err := s.getWithKey(ctx, id, d != Bare)
	if err != nil {
		return referral.Referral{}, nil, err
	}
	if item == nil {
		return referral.Referral{}, nil, problem.New(problem.NotFound)
	}
	var it referralItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return referral.Referral{}, nil, problem.Wrap(problem.Internal, err)
	}
	if partner != "" && it.Partner != partner {
		return referral.Referral{}, nil, problem.New(problem.NotFound)
	}
	if it.DisposedAt != "" && d != Bare {
		return referral.Referral{}, nil, s.disposedError(it)
	}
	var k cipher.AEAD
	if d != Bare {
		if k, err = s.openKey(id, keyRaw); err != nil {
			return referral.Referral{}, nil, problem.Wrap(problem.Internal, err)
		}
	}
	r, err := s.fromItem(it, d, k)
	if err != nil {
		return referral.Referral{}, nil, problem.Wrap(problem.Internal, err)
	}
	return r, k, nil
}

// getWithKey reads a referral's item and, when withKey and the store has a
// key table, its data key's item, in one consistent TransactGetItems: the
// key costs no round trip of its own. A missing item is nil.
func (s *Store) getWithKey(ctx context.Context, id string, withKey bool) (item, keyRaw map[string]ddb.AttributeValue, err error) {
	if !withKey || s.keys == "" {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.table), Key: key(refPK(id), skMain), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, nil, classify(err)
		}
		return out.Item, nil, nil
	}
	out, err := s.db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []ddb.TransactGetItem{
		{Get: &ddb.Get{TableName: aws.String(s.table), Key: key(refPK(id), skMain)}},
		{Get: &ddb.Get{TableName: aws.String(s.keys), Key: keyTableKey(id)}},
	}})
	if err != nil {
		if onlyConflicts(cancelReasons(err)) {
			return nil, nil, &problem.Error{Kind: problem.Unavailable, RetryAfter: 1, Cause: err}
		}
		return nil, nil, classify(err)
	}
	if len(out.Responses) != 2 {
		return nil, nil, problem.Wrap(problem.Internal, fmt.Errorf("TransactGetItems answered %d items, want 2", len(out.Responses)))
	}
	return out.Responses[0].Item, out.Responses[1].Item, nil
}

// validID keeps malformed path parameters away from key construction.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// HistoryOf returns a referral (Bare) and its state changes, oldest first —
// with reads of the full referral too when withReads — in one Query of the
// referral's partition. Another partner's referral is NotFound.
func (s *Store) HistoryOf(ctx context.Context, id, partner string, withReads bool) (referral.Referral, []referral.Event, error) {
	if !validID(id) {
		return referral.Referral{}, nil, problem.New(problem.NotFound)
	}
	// The partition sorts A, EV#…, READ#…, RESP#… (links to stored
	// responses, never history): the range stops before reads or links.
	end := "READ#"
	if withReads {
		end = "RESP#"
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk < :end"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":pk": str(refPK(id)), ":end": str(end),
		},
		ConsistentRead: aws.Bool(true),
	}
	var (
		ref   referral.Referral
		found bool
		evs   []referral.Event
	)
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return referral.Referral{}, nil, classify(err)
		}
		for _, raw := range page.Items {
			sk, _ := raw[attrSK].(*ddb.AttributeValueMemberS)
			if sk != nil && sk.Value == skQueue {
				continue // the referral's queue entry (queue.go) is no event
			}
			if sk != nil && sk.Value == skMain {
				var it referralItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return referral.Referral{}, nil, problem.Wrap(problem.Internal, err)
				}
				if partner != "" && it.Partner != partner {
					return referral.Referral{}, nil, problem.New(problem.NotFound)
				}
				if ref, err = s.fromItem(it, Bare, nil); err != nil {
					return referral.Referral{}, nil, problem.Wrap(problem.Internal, err)
				}
				found = true
				continue
			}
			e, err := decodeEvent(raw)
			if err != nil {
				return referral.Referral{}, nil, err
			}
			evs = append(evs, e)
		}
	}
	if !found {
		return referral.Referral{}, nil, problem.New(problem.NotFound)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	return ref, evs, nil
}

// History returns a referral's state changes, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]referral.Event, error) {
	return s.events(ctx, refPK(id), "EV#")
}

// Reads returns who read a referral in full, oldest first.
func (s *Store) Reads(ctx context.Context, id string) ([]referral.Event, error) {
	return s.events(ctx, refPK(id), "READ#")
}

func (s *Store) events(ctx context.Context, pk, prefix string) ([]referral.Event, error) {
	var out []referral.Event
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":pk": str(pk), ":p": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err)
		}
		for _, raw := range page.Items {
			e, err := decodeEvent(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func decodeEvent(raw map[string]ddb.AttributeValue) (referral.Event, error) {
	var it eventItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return referral.Event{}, problem.Wrap(problem.Internal, err)
	}
	at, err := time.Parse(time.RFC3339Nano, it.At)
	if err != nil {
		return referral.Event{}, problem.Wrap(problem.Internal, err)
	}
	return referral.Event{
		At: at, Action: it.Action, FromStatus: referral.Status(it.FromStatus), ToStatus: referral.Status(it.ToStatus),
		PersonsDelta: it.PersonsDelta, ActorRole: it.ActorRole, Actor: it.Actor, Previous: it.Previous, Reason: it.Reason,
	}, nil
}

// RecordRead appends a read of a full referral to its audit trail. A read
// that cannot be audited is not served.
func (s *Store) RecordRead(ctx context.Context, id string, e referral.Event, nonce string) error {
	item, err := attributevalue.MarshalMap(eventItem{
		PK: refPK(id), SK: eventSK("READ#", e.At, nonce), At: e.At.UTC().Format(time.RFC3339Nano),
		Action: referral.ActionRead, ActorRole: e.ActorRole, Actor: e.Actor,
	})
	if err != nil {
		return problem.Wrap(problem.Internal, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return classify(err)
}

// PageRead is one list page served: who asked, under which partner scope,
// in which request, and which referrals the page showed.
type PageRead struct {
	At        time.Time
	Actor     string
	ActorRole string
	// Partner is the caller's partner scope, empty for staff.
	Partner     string
	RequestID   string
	ReferralIDs []string
}

type pageReadItem struct {
	PK          string   `dynamodbav:"pk"`
	SK          string   `dynamodbav:"sk"`
	At          string   `dynamodbav:"at"`
	Action      string   `dynamodbav:"action"`
	ActorRole   string   `dynamodbav:"actor_role"`
	Actor       string   `dynamodbav:"actor"`
	Partner     string   `dynamodbav:"partner_scope,omitempty"`
	RequestID   string   `dynamodbav:"request_id,omitempty"`
	ReferralIDs []string `dynamodbav:"referral_ids"`
}

// Page reads are kept by UTC day: one partition per day keeps a page read
// to one write, and a day is the unit an audit asks about.
func pageReadsPK(at time.Time) string { return "READS#" + at.UTC().Format("2006-01-02") }

// RecordPageRead writes one audit item for a list page, whatever its length:
// one write per page, not one per referral. A page that cannot be audited is
// not served.
func (s *Store) RecordPageRead(ctx context.Context, p PageRead, nonce string) error {
	item, err := attributevalue.MarshalMap(pageReadItem{
		PK: pageReadsPK(p.At), SK: eventSK("PAGE#", p.At, nonce), At: p.At.UTC().Format(time.RFC3339Nano),
		Action: referral.ActionRead, ActorRole: p.ActorRole, Actor: p.Actor, Partner: p.Partner,
		RequestID: p.RequestID, ReferralIDs: p.ReferralIDs,
	})
	if err != nil {
		return problem.Wrap(problem.Internal, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return classify(err)
}

// PageReads returns the list pages served on day (UTC) that showed the
// referral id, or every page of that day when id is empty, oldest first.
func (s *Store) PageReads(ctx context.Context, day time.Time, id string) ([]PageRead, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(pageReadsPK(day))},
		ConsistentRead:            aws.Bool(true),
	}
	var out []PageRead
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err)
		}
		for _, raw := range page.Items {
			var it pageReadItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, problem.Wrap(problem.Internal, err)
			}
			if id != "" && !slices.Contains(it.ReferralIDs, id) {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, it.At)
			if err != nil {
				return nil, problem.Wrap(problem.Internal, err)
			}
			out = append(out, PageRead{At: at, Actor: it.Actor, ActorRole: it.ActorRole, Partner: it.Partner, RequestID: it.RequestID, ReferralIDs: it.ReferralIDs})
		}
	}
	return out, nil
}

// MaxPossibleDuplicates bounds the ids a referral view lists, and so its
// size (openapi.yaml states both).
const MaxPossibleDuplicates = 20

// PossibleDuplicates lists other referrals of the same person (same keyed
// fingerprint), for officers only: at most MaxPossibleDuplicates of them.
func (s *Store) PossibleDuplicates(ctx context.Context, r referral.Referral) ([]string, error) {
	if r.Fingerprint == "" {
		return nil, nil
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(fingerprintPK(r.Fingerprint))},
		// One more than the bound: the referral itself is among them.
		Limit: aws.Int32(MaxPossibleDuplicates + 1),
	})
	if err != nil {
		return nil, classify(err)
	}
	var ids []string
	for _, raw := range out.Items {
		var it fingerprintItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, problem.Wrap(problem.Internal, err)
		}
		if it.ReferralID != r.ID && len(ids) < MaxPossibleDuplicates {
			ids = append(ids, it.ReferralID)
		}
	}
	return ids, nil
}

// Filter narrows a list. Partner, when set, is enforced by key (the partner
// index), not by filtering, so one partner's query never reads another's.
type Filter struct {
	Partner string
	Status  referral.Status
	Stream  string
}

// Page is one page of a list.
type Page struct {
	Items []referral.Referral
	// Next is the key to resume after, nil at the end.
	Next map[string]string
}

// maxPagesPerList bounds the work of one list request when a filter matches
// little: the caller gets fewer items and a cursor to continue.
const maxPagesPerList = 20

// List returns up to limit referrals matching f, newest first, resuming
// after the key from.
func (s *Store) List(ctx context.Context, f Filter, limit int, from map[string]string) (Page, error) {
	index, pkAttr, pkVal := "gsi2", "gsi2pk", allReferralsGSI
	if f.Partner != "" {
		index, pkAttr, pkVal = "gsi1", "gsi1pk", partnerGSI(f.Partner)
	}
	var start map[string]ddb.AttributeValue
	if from != nil {
		// Only keys of this index are accepted back: a cursor cannot steer the
		// query to another partition.
		want := []string{"pk", "sk", pkAttr, strings.Replace(pkAttr, "pk", "sk", 1)}
		start = map[string]ddb.AttributeValue{}
		for _, k := range want {
			v, ok := from[k]
			if !ok {
				return Page{}, problem.Invalid(problem.FieldError{Field: "cursor", Code: problem.CodeMalformed})
			}
			start[k] = str(v)
		}
		if from[pkAttr] != pkVal {
			return Page{}, problem.Invalid(problem.FieldError{Field: "cursor", Code: problem.CodeMalformed})
		}
	}
	var (
		page  Page
		items []referralItem
	)
	skAttr := strings.Replace(pkAttr, "pk", "sk", 1)
	for i := 0; i < maxPagesPerList; i++ {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(index),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
			ExpressionAttributeValues: map[string]ddb.AttributeValue{":pk": str(pkVal)},
			ScanIndexForward:          aws.Bool(false),
			ExclusiveStartKey:         start,
			// No FilterExpression: filtering happens here so that Limit means
			// what it says on every DynamoDB implementation.
			Limit: aws.Int32(int32(limit)),
		})
		if err != nil {
			return Page{}, classify(err)
		}
		for _, raw := range out.Items {
			var it referralItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return Page{}, problem.Wrap(problem.Internal, err)
			}
			if (f.Status != "" && it.Status != string(f.Status)) || (f.Stream != "" && it.Stream != f.Stream) || it.DisposedAt != "" {
				// A tombstone has nothing to list; reports count it (reporting.go).
				continue
			}
			items = append(items, it)
			if len(items) == limit {
				// Both indexes sort by the creation key (createdSK).
				page.Next = map[string]string{"pk": it.PK, "sk": it.SK, pkAttr: pkVal, skAttr: it.GSI2SK}
				return s.opened(ctx, page, items)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return s.opened(ctx, page, items)
		}
		start = out.LastEvaluatedKey
	}
	page.Next = map[string]string{}
	for k, v := range start {
		if sv, ok := v.(*ddb.AttributeValueMemberS); ok {
			page.Next[k] = sv.Value
		}
	}
	return s.opened(ctx, page, items)
}

// opened fills page with items opened for a listing, their keys read in
// one batch.
func (s *Store) opened(ctx context.Context, page Page, items []referralItem) (Page, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	keys, err := s.keysOf(ctx, ids)
	if err != nil {
		return Page{}, err
	}
	for _, it := range items {
		r, err := s.fromItem(it, Listing, keys[it.ID])
		if err != nil {
			return Page{}, problem.Wrap(problem.Internal, err)
		}
		page.Items = append(page.Items, r)
	}
	return page, nil
}
