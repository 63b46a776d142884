package dynamostore

import (
	"strings"
	"testing"
)

// Path ids reach key construction only through validID: nothing in them may
// change which item or partition a key names.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"01M8DYBMWQ6W1EQ6PRHC5MTJTZ", "", "a#b", "../x", strings.Repeat("A", 65), "ID with space"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !validID(id) {
			return
		}
		if strings.ContainsAny(id, "#/ \x00") || len(id) == 0 || len(id) > 64 {
			t.Fatalf("accepted %q", id)
		}
	})
}
