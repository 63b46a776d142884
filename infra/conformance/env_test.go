package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
	"pgregory.net/rapid"

	"github.com/haven-hrd/haven/infra/apicontract"
	"github.com/haven-hrd/haven/infra/testenv"
)

// env is the running service and the state the test has seen it create.
type env struct {
	doc     *openapi3.T
	ops     []*operation
	base    string
	client  *http.Client
	roles   []string          // the runner's token roles
	tokens  map[string]string // role -> bearer token
	streams []string          // open streams from the runner's seed file
	partner string            // the partner of partner tokens, from the seed file
	rules   []rule

	mu       sync.Mutex
	ids      map[string][]string // collection path -> ids the service created there
	listed   []listing           // pages that had a next page
	vocab    map[*openapi3.Parameter][]string
	cases    int
	byOp     map[string]int
	applied  map[string]int // cell -> cases that broke its constraint
	statuses map[string]int // "<operation> <status>" -> answers
	// setupRefused are the setup cells whose role may not create.
	setupRefused map[string]bool
}

// listing is a request whose answer pointed to a next page: a later request
// may continue it (the same caller, the same filters, the cursor it got).
type listing struct {
	op     string
	role   string
	query  url.Values
	param  string
	cursor string
}

type seedFile struct {
	Streams []struct {
		ID       string   `yaml:"id"`
		Open     bool     `yaml:"open"`
		Partners []string `yaml:"partners"`
	} `yaml:"streams"`
}

func newEnv(t *testing.T) *env {
	t.Helper()
	doc, err := apicontract.Document()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(testenv.Root(t), "infra/local/seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var seed seedFile
	if err := yaml.Unmarshal(b, &seed); err != nil {
		t.Fatal(err)
	}
	e := &env{
		doc: doc,
		// Redirects are answers to check (a form post's 303), not to follow.
		client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		roles:  []string{"partner", "officer", "admin"},
		tokens: map[string]string{}, ids: map[string][]string{},
		vocab: map[*openapi3.Parameter][]string{}, byOp: map[string]int{}, applied: map[string]int{}, statuses: map[string]int{}, setupRefused: map[string]bool{},
	}
	partner := ""
	for _, s := range seed.Streams {
		if s.Open {
			e.streams = append(e.streams, s.ID)
			if partner == "" && len(s.Partners) > 0 {
				partner = s.Partners[0]
			}
		}
	}
	if len(e.streams) == 0 || partner == "" {
		t.Fatal("the seed file has no open stream with a partner")
	}
	e.rules = describedRules(e)
	e.partner = partner
	e.ops = operations(doc)
	// Operations that create what others address go first.
	sort.SliceStable(e.ops, func(i, j int) bool { return rank(e.ops[i]) < rank(e.ops[j]) })
	for _, o := range e.ops {
		for _, p := range o.params {
			e.vocab[p] = vocabulary(doc, p)
		}
	}
	return e
}

// start starts the runner and gets a token for each role.
func (e *env) start(t *testing.T) {
	t.Helper()
	e.base = testenv.LocalRunner(t)
	partner := e.partner
	for _, role := range e.roles {
		body := map[string]string{"role": role}
		if role == "partner" {
			body["partner"] = partner
		}
		b, _ := json.Marshal(body)
		resp, err := e.client.Post(e.base+"/_local/tokens", mediaJSON, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Token string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || out.Token == "" {
			t.Fatalf("token for %s: %d %v", role, resp.StatusCode, err)
		}
		e.tokens[role] = out.Token
	}
}

// words is the vocabulary a free-text parameter value is built from.
func (e *env) words(n node) []string {
	return e.vocab[e.param(n)]
}

func (e *env) param(n node) *openapi3.Parameter {
	for p := range e.vocab {
		if p.In == n.loc && p.Name == n.tmpl {
			return p
		}
	}
	return nil
}

// state draws a value the service itself made: the id of something it
// created, for a path parameter that follows the collection it was created
// in (/referrals/{id} after POST /referrals), most of the time.
func (e *env) state(g *gen, n node, path string) (any, bool) {
	if n.loc != inPath {
		return nil, false
	}
	collection := strings.TrimSuffix(g.o.path[:strings.Index(g.o.path, "{"+n.tmpl+"}")], "/")
	e.mu.Lock()
	ids := append([]string(nil), e.ids[collection]...)
	e.mu.Unlock()
	if len(ids) == 0 || rapid.IntRange(0, 99).Draw(g.t, "existing "+n.tmpl) >= 85 {
		return nil, false
	}
	return rapid.SampledFrom(ids).Draw(g.t, path), true
}

// request is one generated HTTP request.
type request struct {
	op       *operation
	role     string
	path     string
	query    url.Values
	header   http.Header
	body     []byte
	media    string
	bodyJSON any // the body as generated, before it is encoded
}

func (r request) String() string {
	var b strings.Builder
	u := r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	fmt.Fprintf(&b, "%s %s (as %s)", r.op.method, u, r.role)
	keys := make([]string, 0, len(r.header))
	for k := range r.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s: %q", k, r.header.Get(k))
	}
	if r.body != nil {
		body := string(r.body)
		if len(body) > 2000 {
			body = body[:2000] + "…"
		}
		fmt.Fprintf(&b, "\n  body: %s", body)
	}
	return b.String()
}

type response struct {
	status int
	header map[string]string
	body   []byte
}

func (e *env) send(r request) (response, error) {
	u := e.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequest(r.op.method, u, bytes.NewReader(r.body))
	if err != nil {
		return response{}, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[r.role])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	h := map[string]string{}
	for k := range resp.Header {
		h[k] = resp.Header.Get(k)
	}
	e.mu.Lock()
	e.cases++
	e.byOp[r.op.id]++
	e.mu.Unlock()
	return response{status: resp.StatusCode, header: h, body: body}, nil
}

// remember keeps the state a response reveals: the id of what it created,
// and the cursor of a next page.
func (e *env) remember(r request, resp response) {
	if resp.status/100 != 2 || !strings.HasPrefix(resp.header["Content-Type"], mediaJSON) {
		return
	}
	var obj map[string]any
	if json.Unmarshal(resp.body, &obj) != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if resp.status == http.StatusCreated && r.op.method == http.MethodPost && !strings.Contains(r.op.path, "{") {
		if id, ok := obj["id"].(string); ok {
			e.ids[r.op.path] = append(e.ids[r.op.path], id)
		}
	}
	for _, p := range r.op.params {
		if p.In != inQuery {
			continue
		}
		if next, ok := obj["next_"+p.Name].(string); ok && next != "" {
			q := url.Values{}
			for k, v := range r.query {
				if k != p.Name {
					q[k] = v
				}
			}
			e.listed = append(e.listed, listing{op: r.op.id, role: r.role, query: q, param: p.Name, cursor: next})
		}
	}
}

// paged names the query parameters that continue a listing: those whose
// value the operation's answer hands out as next_<name>.
func paged(o *operation) map[string]bool {
	out := map[string]bool{}
	for _, p := range o.params {
		if p.In != inQuery {
			continue
		}
		for _, ref := range o.op.Responses.Map() {
			if ref.Value == nil {
				continue
			}
			for _, c := range ref.Value.Content {
				if c.Schema != nil && c.Schema.Value != nil && c.Schema.Value.Properties["next_"+p.Name] != nil {
					out[p.Name] = true
				}
			}
		}
	}
	return out
}

// continuation draws an earlier listing of o to continue, if there is one.
func (e *env) continuation(g *gen) (listing, bool) {
	e.mu.Lock()
	var mine []listing
	for _, l := range e.listed {
		if l.op == g.o.id {
			mine = append(mine, l)
		}
	}
	e.mu.Unlock()
	if len(mine) == 0 {
		return listing{}, false
	}
	return mine[rapid.IntRange(0, len(mine)-1).Draw(g.t, "listing to continue")], true
}

func (e *env) created(collection string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.ids[collection])
}

func (e *env) countApplied(cell string) {
	e.mu.Lock()
	e.applied[cell]++
	e.mu.Unlock()
}
