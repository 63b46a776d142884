package iam

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/oklog/ulid/v2"
)

// Call is one decided request of a function.
type Call struct {
	Function string `json:"function"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Allowed  bool   `json:"allowed"`
}

// Log records the distinct calls decided in one process, in memory and,
// when opened with OpenLog, in a file of its own (JSON lines, written as
// each new call is decided, so nothing is lost if the process exits
// without warning).
type Log struct {
	mu    sync.Mutex
	seen  map[Call]bool
	file  *os.File
	err   error
	calls []Call
}

// OpenLog opens a new file of calls in dir.
func OpenLog(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("calls-%d-%s.jsonl", os.Getpid(), ulid.Make())), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Log{file: f}, nil
}

func (l *Log) add(c Call) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[c] {
		return
	}
	if l.seen == nil {
		l.seen = map[Call]bool{}
	}
	l.seen[c] = true
	l.calls = append(l.calls, c)
	if l.file != nil && l.err == nil {
		b, _ := json.Marshal(c)
		_, l.err = l.file.Write(append(b, '\n'))
	}
}

// Calls are the distinct calls recorded so far, in the order first decided.
func (l *Log) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// ReadCalls reads the distinct calls every log file in dir holds, sorted.
func ReadCalls(dir string) ([]Call, error) {
	files, err := filepath.Glob(filepath.Join(dir, "calls-*.jsonl"))
	if err != nil {
		return nil, err
	}
	seen := map[Call]bool{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var c Call
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				// A torn last line of a killed process.
				continue
			}
			seen[c] = true
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]Call, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Function != b.Function {
			return a.Function < b.Function
		}
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return !a.Allowed && b.Allowed
	})
	return out, nil
}
