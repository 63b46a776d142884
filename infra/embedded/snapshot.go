package embedded

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The snapshot is every item of the template's tables at one point of the
// journal, in DynamoDB's own JSON shape ({"S": "..."}) so that it can be read,
// or loaded elsewhere, with ordinary tools:
//
//	{"journal": 41, "tables": {"HavenTable": [{"pk": {"S": "REF#…"}, …}, …]}}
//
// "journal" is the sequence number of the last journal record it holds:
// replay skips the records at or below it, so a crash between writing a
// snapshot and emptying the journal applies nothing twice. A snapshot written
// before the journal existed has none, which reads as 0.
type snapshotFile struct {
	Journal uint64                       `json:"journal"`
	Tables  map[string][]json.RawMessage `json:"tables"`
}

// readSnapshot reads the snapshot at path; a missing file is an empty
// snapshot. A file that does not parse is an error: the runner refuses to
// start rather than run on, and later overwrite, data it could not read.
func readSnapshot(path string) (snapshotFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return snapshotFile{}, nil
	}
	if err != nil {
		return snapshotFile{}, err
	}
	var f snapshotFile
	if err := json.Unmarshal(b, &f); err != nil {
		return snapshotFile{}, fmt.Errorf("read snapshot %s: %w (move it aside to start without it)", path, err)
	}
	return f, nil
}

// writeSnapshot replaces the snapshot at path atomically and durably: a temp
// file, fsynced, renamed over the old one, and the directory fsynced so the
// rename itself survives a power loss. Items come from each(table, emit),
// streamed so that the whole table is never held twice in memory.
func writeSnapshot(path string, journal uint64, tables []string, each func(table string, emit func(item json.RawMessage) error) error) (int, error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp) // after a successful rename, there is nothing left to remove
	n, err := func() (int, error) {
		defer f.Close()
		w := bufio.NewWriterSize(f, 1<<20)
		n := 0
		fmt.Fprintf(w, `{"journal":%d,"tables":{`, journal)
		for i, t := range tables {
			name, _ := json.Marshal(t)
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(name)
			w.WriteString(":[")
			first := true
			err := each(t, func(item json.RawMessage) error {
				if !first {
					w.WriteByte(',')
				}
				first = false
				n++
				_, err := w.Write(item)
				return err
			})
			if err != nil {
				return n, fmt.Errorf("snapshot %s: %w", t, err)
			}
			w.WriteByte(']')
		}
		w.WriteString("}}\n")
		if err := w.Flush(); err != nil {
			return n, err
		}
		return n, f.Sync()
	}()
	if err != nil {
		return n, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return n, err
	}
	return n, syncDir(filepath.Dir(path))
}

// syncDir makes a directory's entries (a new or renamed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
