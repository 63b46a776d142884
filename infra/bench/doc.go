// Package bench holds Haven's performance benchmarks (see BENCHMARKS.md):
//
//	go test ./infra/bench -run '^$' -bench ColdStart -benchtime 5x
//	go test ./infra/bench -run '^$' -bench AllocationThroughput -benchtime 1x
//	go test ./infra/bench -run '^$' -bench QueuePage -benchtime 1x -timeout 30m
//
// They are benchmarks, not tests: `make test` does not run them.
package bench
