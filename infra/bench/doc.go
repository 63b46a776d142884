// Package bench holds Haven's performance benchmarks (see BENCHMARKS.md):
//
//	go test ./infra/bench -run '^$' -bench ColdStart -benchtime 5x
//	go test ./infra/bench -run '^$' -bench AllocationThroughput -benchtime 1x
//
// They are benchmarks, not tests: `make test` does not run them.
package bench
