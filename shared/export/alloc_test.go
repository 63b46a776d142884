package export

import (
	"context"
	"runtime"
	"testing"
)

// A small export (a few rows) allocates a few kB, not buffers sized for
// large files: the partner export runs one per partner in each invocation,
// and every 64 kB buffer taken per file brings the next garbage collection
// closer (with 16 partners, 64 kB buffers cost two more collections in a
// cold invocation).
func TestSmallExportAllocations(t *testing.T) {
	run := func() {
		var b memBucket
		if _, err := (Job{Partner: "p", Day: "d", Now: ts("2026-11-27T08:00:00Z")}).Run(context.Background(), &b, seq(fixtureRows, nil)); err != nil {
			t.Fatal(err)
		}
	}
	run() // first-use costs (encoders' caches) are not the export's
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run()
	runtime.ReadMemStats(&after)
	const limit = 48 << 10
	if n := after.TotalAlloc - before.TotalAlloc; n > limit {
		t.Errorf("a 3-row export allocated %d bytes, want ≤ %d", n, limit)
	} else {
		t.Logf("a 3-row export allocated %d bytes", n)
	}
}
