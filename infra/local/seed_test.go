package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/retention"
)

// The seed file's retention_days reach the streams; a bad one stops the
// runner with the field named, and a misspelt key is not silently dropped.
func TestSeedRetention(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{})
	if err := seed(ctx, e.Store, "seed.yaml", e.Now()); err != nil {
		t.Fatal(err)
	}
	st, err := e.Store.GetStream(ctx, "hrd")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(retention.Schedule{Ended: retention.Days(730), Arrived: retention.Days(730)}, st.Retention()); diff != "" {
		t.Errorf("hrd retention (-want +got):\n%s", diff)
	}
	for name, tc := range map[string]struct {
		yaml, field string
	}{
		"negative":     {"streams:\n  - {id: s, name: S, open: true, partners: [unhcr], retention_days: {ended: -1}}\n", "retention_days.ended"},
		"unknown key":  {"streams:\n  - {id: s, name: S, open: true, partners: [unhcr], retention_days: {endde: 0}}\n", ""},
		"not a number": {"streams:\n  - {id: s, name: S, open: true, partners: [unhcr], retention_days: {arrived: soon}}\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.yaml")
			os.WriteFile(path, []byte(tc.yaml), 0o600)
			err := seed(ctx, e.Store, path, e.Now())
			if err == nil {
				t.Fatal("seeded")
			}
			if pe := problem.As(err); tc.field != "" && (len(pe.Fields) != 1 || pe.Fields[0].Field != tc.field) {
				t.Errorf("%v, want an error on %s", err, tc.field)
			}
			if _, err := e.Store.GetStream(ctx, "s"); problem.KindOf(err) != problem.NotFound {
				t.Errorf("stream written: %v", err)
			}
		})
	}
}
