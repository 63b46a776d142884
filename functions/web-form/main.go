// Command web-form is the Lambda function of the referral web form; see template.yaml.
package main

import (
	"github.com/haven-hrd/haven/shared/lambdamain"
	"github.com/haven-hrd/haven/shared/webform"
)

func main() { lambdamain.Run(webform.Step) }
