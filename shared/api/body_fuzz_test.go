package api

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/jsonbody"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
	"github.com/haven-hrd/haven/shared/reason"
)

// The request bodies of the lifecycle and period steps: whatever arrives,
// decoding either succeeds or returns a client error, never panics, never
// lets an unknown field, a repeated key or a code outside the lists through.
func FuzzStepBodies(f *testing.F) {
	for _, s := range []string{
		`{"outcome":"ineligible","reasons":["not-a-refugee"]}`, `{"period":2026}`, `{"arrived_on":"2026-11-20"}`,
		`{"reason":"deceased"}`, `{"capacity":500}`, `{"capacity":-1}`, `{"capacity":1e99}`, `{}`, ``, `null`, `[]`,
		`{"outcome":"eligible","extra":1}`, `{"period":"2026"}`, `{"a":1}{"b":2}`, "\xff",
		`{"OUTCOME":"eligible","outcome":"ineligible"}`, `{"outcome":"eligible","outcome":"ineligible"}`,
		`{"capacity":2.5e2}`, `{"reasons":["not-a-refugee","not-a-refugee"],"outcome":"ineligible"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &apigw.Request{Body: body, Event: events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/json"}}}
		clientError := func(what string, err error) {
			t.Helper()
			if k := problem.KindOf(err); k != problem.Validation && k != problem.PayloadTooLarge {
				t.Fatalf("%s: kind %s", what, k)
			}
		}
		if b, err := readOutcome(r, reason.Refused); err != nil {
			clientError("outcome", err)
		} else if to, err := b.check(reason.Refused, "approved", "refused"); err != nil {
			clientError("outcome check", err)
		} else {
			if to != "approved" && to != "refused" {
				t.Fatalf("outcome %q accepted", to)
			}
			for _, c := range b.Reasons {
				if !reason.Refused.Allows(c) {
					t.Fatalf("reason %q accepted", c)
				}
			}
		}
		for _, name := range []string{"arrived_on", "reason"} {
			if _, err := readString(r, name); err != nil {
				clientError(name, err)
			}
		}
		err := readBody(r, true, func(d *jsonbody.Decoder, key, path string) bool { return false })
		if err != nil {
			clientError("empty schema", err)
		}
		c, err := decodeCapacity(body)
		if err != nil {
			clientError("capacity", err)
			return
		}
		if c < 0 || c > quota.MaxCapacity {
			t.Fatalf("capacity %d accepted", c)
		}
	})
}
