// Package clock is where Haven reads the time of day.
//
// Every decision that depends on the date (the default quota year, what is
// "today" for an arrival, when an idempotency record or a session expires,
// the day a report or an export is for) takes its time from a Clock it is
// given. Only System reads the machine's clock; a composition root (a
// function's main, the local runner) hands it down, and tests hand down a
// clock of their own, so that no test depends on the day it runs.
//
// Measuring elapsed time (latency in the request log, deadlines, benchmarks)
// is not reading the date, and uses the time package directly; the places
// that do are listed, each with its reason, in wallclock_test.go, which fails
// on any other read of the machine's clock.
package clock
