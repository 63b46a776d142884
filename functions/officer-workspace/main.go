// Command officer-workspace is the Lambda function of the officers' workspace; see template.yaml.
package main

import (
	"github.com/haven-hrd/haven/shared/lambdamain/sealing"
	"github.com/haven-hrd/haven/shared/workspace"
)

func main() { sealing.Run(workspace.Step) }
