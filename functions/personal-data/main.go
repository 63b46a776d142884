// Command personal-data is the Lambda function of that step; see template.yaml.
package main

import (
	"github.com/haven-hrd/haven/shared/access"
	"github.com/haven-hrd/haven/shared/lambdamain/sealing"
)

func main() { sealing.Run(access.PersonalData) }
