// Command hold-referral is the Lambda function of that step; see template.yaml.
package main

import (
	"github.com/haven-hrd/haven/shared/api"
	"github.com/haven-hrd/haven/shared/lambdamain/sealing"
)

func main() { sealing.Run(api.HoldReferral) }
