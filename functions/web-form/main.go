// Command web-form is the Lambda function of the referral web form; see template.yaml.
package main

import (
	"github.com/haven-hrd/haven/shared/lambdamain/sealing"
	"github.com/haven-hrd/haven/shared/webform"
)

func main() { sealing.Run(webform.Step) }
