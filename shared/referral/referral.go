package referral

// MaxBodyBytes is the largest body POST /referrals and PUT /referrals/{id}/family
// accept; the contract answers 413 above it.
const MaxBodyBytes = 64 << 10

// MaxFamilyMembers bounds a referral's size so that one referral cannot take a
// stream's whole capacity by mistake.
const MaxFamilyMembers = 30

// MaxRightsAreas is the number of rights areas there are: a defender may work
// in all of them, each once.
const MaxRightsAreas = 11

// Input is exactly the body of POST /referrals.
type Input struct {
	Stream            string   `json:"stream"`
	PartnerReference  string   `json:"partner_reference"`
	Urgency           Urgency  `json:"urgency"`
	Principal         Person   `json:"principal"`
	FamilyMembers     []Person `json:"family_members"`
	CountryOfAsylum   string   `json:"country_of_asylum"`
	DefenderProfile   Profile  `json:"defender_profile"`
	Contact           Contact  `json:"contact"`
	PreferredLanguage string   `json:"preferred_language"`
	Consent           Consent  `json:"consent"`
}

// Person is the principal or one family member. The principal has a
// nationality and no relationship; a family member has a relationship and may
// have a nationality.
type Person struct {
	GivenName    string `json:"given_name"`
	FamilyName   string `json:"family_name"`
	DateOfBirth  string `json:"date_of_birth"`
	Sex          string `json:"sex"`
	Nationality  string `json:"nationality,omitempty"`
	Relationship string `json:"relationship,omitempty"`
}

// Profile is why the principal is at risk.
type Profile struct {
	RightsAreas []string `json:"rights_areas"`
	Summary     string   `json:"summary"`
}

// Contact is how Haven reaches the principal; at least one of Email and Phone.
type Contact struct {
	Email            string `json:"email,omitempty"`
	Phone            string `json:"phone,omitempty"`
	PreferredChannel string `json:"preferred_channel,omitempty"`
}

// Consent records the principal's informed consent to be referred.
type Consent struct {
	Given bool   `json:"given"`
	Date  string `json:"date"`
}

// Persons is the number of spaces the referral needs.
func (in Input) Persons() int { return 1 + len(in.FamilyMembers) }

// Urgency orders the waitlist.
type Urgency string

const (
	Normal    Urgency = "normal"
	Urgent    Urgency = "urgent"
	Emergency Urgency = "emergency"
)

// Rank is the waitlist order of u: lower goes first. An unknown urgency ranks
// after normal so that a bad stored value can never jump the queue.
func (u Urgency) Rank() int {
	switch u {
	case Emergency:
		return 0
	case Urgent:
		return 1
	case Normal:
		return 2
	}
	return 3
}

// Valid reports whether u is one of the contract's urgencies.
func (u Urgency) Valid() bool { return u == Normal || u == Urgent || u == Emergency }
