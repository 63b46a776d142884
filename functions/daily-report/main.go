// Command daily-report is the Lambda function of that step; see template.yaml.
package main

import (
	"github.com/haven-hrd/haven/shared/jobs"
	"github.com/haven-hrd/haven/shared/lambdamain"
)

func main() { lambdamain.RunWithoutSealer(jobs.DailyReport) }
