// Command hello is the cold-start yardstick: the smallest aws-lambda-go
// handler, built with the same flags as Haven's functions.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "hello", nil })
}
