package api

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
)

// The request bodies of the lifecycle and period steps: whatever arrives,
// decoding either succeeds or returns a client error, never panics, and
// never lets an unknown field through.
func FuzzStepBodies(f *testing.F) {
	for _, s := range []string{
		`{"outcome":"eligible","reasons":["not-hrd"]}`, `{"period":2026}`, `{"arrived_on":"2026-11-20"}`,
		`{"reason":"safe"}`, `{"capacity":500}`, `{"capacity":-1}`, `{"capacity":1e99}`, `{}`, ``, `null`, `[]`,
		`{"outcome":"eligible","extra":1}`, `{"period":"2026"}`, `{"a":1}{"b":2}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &apigw.Request{Body: body, Event: events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "application/json"}}}
		targets := []any{&outcomeBody{}, &allocationBody{}, &arrivalBody{}, &withdrawalBody{}}
		for _, v := range targets {
			if err := decodeStrict(r, v, true); err != nil {
				if k := problem.KindOf(err); k != problem.Validation {
					t.Fatalf("%T: kind %s", v, k)
				}
			}
		}
		c, _, err := decodeCapacity(body)
		if err != nil {
			if k := problem.KindOf(err); k != problem.Validation {
				t.Fatalf("capacity: kind %s", k)
			}
			return
		}
		if c < 0 || c > quota.MaxCapacity {
			t.Fatalf("capacity %d accepted", c)
		}
	})
}
