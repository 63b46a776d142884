package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// localComment is written into every local keyset file so whoever finds one
// knows what it is and what it must never be used for.
const localComment = "Haven local-development keys, stored in cleartext. For the local runner and tests only: never use in AWS, never for real personal data."

// localFile is the on-disk shape of a local keyset file: the keysets, in
// cleartext. Files written before the session, cursor and caller keysets
// existed lack them and still open (the local runner keys sessions and
// cursors from files of their own).
type localFile struct {
	Comment     string          `json:"comment"`
	Data        json.RawMessage `json:"data"`
	Fingerprint json.RawMessage `json:"fingerprint"`
	Session     json.RawMessage `json:"session,omitempty"`
	Cursor      json.RawMessage `json:"cursor,omitempty"`
	Caller      json.RawMessage `json:"caller,omitempty"`
	// AEAD is where files written before version 2 kept a Tink keyset;
	// decoded only to say what to do about such a file.
	AEAD json.RawMessage `json:"aead,omitempty"`
}

// OpenLocal returns a Sealer whose keys live in a JSON file at path, creating
// the file with fresh keys (AES-256-GCM for Seal/Open, HMAC-SHA256 for
// Fingerprint) and 0600 permissions when it is missing, and reusing it
// otherwise, so data sealed in one local run opens in the next.
//
// The keysets are stored in cleartext: this is for the local runner and tests
// only, where there is no KMS. An existing
// file readable by group or others is refused, as ssh refuses a loose private
// key, because those keys open everything sealed with them.
func OpenLocal(path string) (*Sealer, error) {
	if path == "" {
		return nil, errors.New("seal: empty keyset file path")
	}
	data, err := readLocal(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = createLocal(path)
	}
	if err != nil {
		return nil, err
	}
	return parseLocal(path, data)
}

func readLocal(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: keyset file %s has mode %#o; it must be readable by its owner only (chmod 600)", path, info.Mode().Perm())
	}
	return os.ReadFile(path)
}

// createLocal writes fresh keysets to a private temporary file and links it
// into place, so the file appears complete or not at all and two processes
// starting together end up sharing whichever one won.
func createLocal(path string) ([]byte, error) {
	data, err := newLocalKeysets()
	if err != nil {
		return nil, err
	}
	// The runner's default path may sit in a directory not made yet; keep it
	// private too.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("seal: create keyset directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".haven-keyset-*") // created 0600
	if err != nil {
		return nil, fmt.Errorf("seal: create keyset file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil { // explicit, whatever CreateTemp's default becomes
		tmp.Close()
		return nil, fmt.Errorf("seal: create keyset file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("seal: write keyset file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("seal: write keyset file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("seal: write keyset file: %w", err)
	}
	// Link, unlike rename, never replaces an existing file: keys another
	// process just created (and may already have sealed with) are kept.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readLocal(path)
		}
		return nil, fmt.Errorf("seal: create keyset file: %w", err)
	}
	return data, nil
}

func newLocalKeysets() ([]byte, error) {
	f := localFile{Comment: localComment}
	for _, p := range Purposes {
		ks, err := newKeyset(p)
		if err != nil {
			return nil, err
		}
		if *f.slot(p), err = json.Marshal(ks); err != nil {
			return nil, fmt.Errorf("seal: encode keyset: %w", err)
		}
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("seal: encode keyset file: %w", err)
	}
	return append(out, '\n'), nil
}

func parseLocal(path string, data []byte) (*Sealer, error) {
	var f localFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("seal: keyset file %s: %w", path, err)
	}
	if len(f.AEAD) > 0 {
		return nil, fmt.Errorf("seal: keyset file %s holds Tink keysets from an older Haven, which it no longer reads; data sealed with them cannot be opened: delete the local data directory (or this file) and start again", path)
	}
	if len(f.Data) == 0 || len(f.Fingerprint) == 0 {
		return nil, fmt.Errorf("seal: keyset file %s: missing data or fingerprint keyset", path)
	}
	dk, err := parseKeyset(f.Data, purposeData)
	if err != nil {
		return nil, fmt.Errorf("seal: keyset file %s: data keyset: %w", path, err)
	}
	a, err := newDataAEAD(dk)
	if err != nil {
		return nil, fmt.Errorf("seal: keyset file %s: data keyset: %w", path, err)
	}
	fk, err := parseKeyset(f.Fingerprint, purposeFingerprint)
	if err != nil {
		return nil, fmt.Errorf("seal: keyset file %s: fingerprint keyset: %w", path, err)
	}
	s := &Sealer{data: loaded(a), fingerprint: loaded(newFingerprintPRF(fk))}
	for _, l := range []struct {
		purpose string
		into    **lazy[secrets]
	}{{PurposeSession, &s.session}, {PurposeCursor, &s.cursor}, {PurposeCaller, &s.caller}} {
		raw := *f.slot(l.purpose)
		if len(raw) == 0 {
			continue
		}
		ks, err := parseKeyset(raw, l.purpose)
		if err != nil {
			return nil, fmt.Errorf("seal: keyset file %s: %s keyset: %w", path, l.purpose, err)
		}
		*l.into = loaded(ks.secrets())
	}
	return s, nil
}

// slot is the keyset of purpose in f.
func (f *localFile) slot(purpose string) *json.RawMessage {
	return slotOf(purpose, &f.Data, &f.Fingerprint, &f.Session, &f.Cursor, &f.Caller)
}
