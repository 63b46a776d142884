package api_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/haven-hrd/haven/infra/apicontract"
)

// checkContract validates every response a test sees against openapi.yaml.
func checkContract(t *testing.T, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	method, path, _ := cut(ev.RouteKey)
	apicontract.Check(t, method, path, resp.StatusCode, resp.Headers, []byte(resp.Body))
}

func cut(routeKey string) (string, string, bool) {
	for i := 0; i < len(routeKey); i++ {
		if routeKey[i] == ' ' {
			return routeKey[:i], routeKey[i+1:], true
		}
	}
	return routeKey, "", false
}
