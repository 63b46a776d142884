// Command disposition is the Lambda function of that job; see template.yaml.
package main

import (
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/lambdamain"
)

func main() { lambdamain.RunWithoutSealer(api.Disposition) }
