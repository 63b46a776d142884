package iam

// Unexercised lists, with the reason, the grants of template.yaml that the
// test suite does not exercise and that stay anyway: the one place where a
// grant no test needs may be kept. Keys are as Check prints them:
// "<Function> <action>" or "<Function> <Sid> <resource>".
var Unexercised = map[string]string{
	"WebFormFunction dynamodb:GetItem": "ReferralKeys: a form submitted twice replays its stored response, sealed under the " +
		"referral's own key, which the replay reads from KeyTable — the store path of create-referral's replay, which " +
		"shared/api's idempotency tests exercise; no web-form test submits the same form twice",
}
