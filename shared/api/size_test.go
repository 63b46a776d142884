package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/haven-hrd/haven/infra/apicontract"
	"github.com/haven-hrd/haven/infra/testenv"
	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/referral"
)

// maxBytes is the size openapi.yaml promises for a response (x-max-bytes of
// the operation's response for status).
func maxBytes(t *testing.T, method, route string, status int) int {
	t.Helper()
	doc, err := apicontract.Document()
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Value(route).GetOperation(method)
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		t.Fatalf("%s %s: no response %d", method, route, status)
	}
	n, ok := resp.Value.Extensions["x-max-bytes"].(float64)
	if !ok || n <= 0 {
		t.Fatalf("%s %s %d: openapi.yaml states no x-max-bytes", method, route, status)
	}
	return int(n)
}

// bodyOp is an operation that takes a body.
type bodyOp struct {
	dir, method, route, path string
	params                   map[string]string
	who                      caller
	ctype                    string
}

// fill repeats unit (unit(i) for the i-th) between head and tail until the
// body is as close to the 64 KiB limit as it gets; sep joins units.
func fill(head, sep, tail string, unit func(i int) string) string {
	var b strings.Builder
	b.WriteString(head)
	for i := 0; ; i++ {
		u := unit(i)
		if i > 0 {
			u = sep + u
		}
		if b.Len()+len(u)+len(tail) > referral.MaxBodyBytes-16 {
			break
		}
		b.WriteString(u)
	}
	b.WriteString(tail)
	return b.String()
}

// key is a distinct 80-byte key: longer than what an error echoes.
func key(i int) string { return fmt.Sprintf("%080d", i) }

func unknownKeys(i int) string { return `"` + key(i) + `":0` }

// escapedKey is a distinct key whose first 64 bytes, the part an error
// echoes, are control characters: six bytes each once JSON-escaped.
func escapedKey(i int) string { return strings.Repeat(`\u0001`, 64) + fmt.Sprint(i) }

// worstBodies are the bodies that make the largest answers: as many errors as
// the body can hold, each as long as it can be (echoed keys at the deepest
// path, closed lists named in full).
func worstBodies(op bodyOp) map[string]string {
	w := map[string]string{
		"unknown keys":              fill("{", ",", "}", unknownKeys),
		"unknown keys JSON escapes": fill("{", ",", "}", func(i int) string { return `"` + escapedKey(i) + `":0` }),
	}
	if op.ctype == "application/x-www-form-urlencoded" {
		return map[string]string{
			"unknown keys":              fill("", "&", "", func(i int) string { return key(i) + "=1" }),
			"unknown keys JSON escapes": fill("", "&", "", func(i int) string { return strings.Repeat("%01", 64) + fmt.Sprint(i) + "=1" }),
			"unknown member fields": fill("", "&", "", func(i int) string {
				return fmt.Sprintf("family_members.%d.%s=1", i%referral.MaxFamilyMembers, key(i))
			}),
			"member rows past the limit": fill("", "&", "", func(i int) string { return fmt.Sprintf("family_members.%d%s.sex=x", 30+i%70, key(i)[:60]) }),
			"values outside every list": fill("", "&", "", func(i int) string {
				if i < referral.MaxFamilyMembers*2 {
					return fmt.Sprintf("family_members.%d.sex=x&family_members.%d.relationship=x", i/2, i/2)
				}
				return "defender_profile.rights_areas=x" + fmt.Sprint(i)
			}),
		}
	}
	switch op.dir {
	case "create-referral", "change-family":
		w["escaped keys in the last member"] = fill(`{"family_members":[`+strings.Repeat("{},", referral.MaxFamilyMembers)+`{`, ",", "}]}",
			func(i int) string { return `"` + escapedKey(i) + `":0` })
		w["empty family members"] = fill(`{"family_members":[`, ",", "]}", func(int) string { return "{}" })
		w["unknown keys in members"] = fill(`{"family_members":[{`, "", "}]}", func(i int) string {
			s := unknownKeys(i)
			if i > 0 && i%40 == 0 {
				return "},{" + s
			}
			if i > 0 {
				return "," + s
			}
			return s
		})
		head := `{"family_members":[`
		if op.dir == "create-referral" {
			head = `{"defender_profile":{"rights_areas":["x","y","z","w","v","u","t","s","r","q","p","o"]},"urgency":"x","contact":{"preferred_channel":"x"},"preferred_language":"x","family_members":[`
		}
		w["values outside every list"] = fill(head, ",", "]}",
			func(i int) string {
				return `{"sex":"x","relationship":"x","given_name":"1","family_name":"2","nationality":"x","date_of_birth":"x"}`
			})
	case "screen-referral", "decide-referral":
		w["reasons outside the list"] = fill(`{"outcome":"x","reasons":[`, ",", "]}", func(i int) string { return fmt.Sprintf(`"r%d"`, i) })
	case "withdraw-referral":
		w["long reason"] = `{"reason":"` + strings.Repeat("x", referral.MaxBodyBytes-20) + `"}`
	}
	return w
}

// TestWorstCaseAnswers: for every operation with a body, the bodies that make
// the largest error answers, in English and in French, are answered within
// the size openapi.yaml states, and that size is under 64 KiB: a bad request
// can never cost more than a good one, nor reach Lambda's 6 MB response limit.
func TestWorstCaseAnswers(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	id := h.newReferral("REF-SIZE", 0, "normal")
	year := fmt.Sprint(today.Year())
	ops := []bodyOp{
		{"create-referral", "POST", "/referrals", "/referrals", nil, fld, "application/json"},
		{"create-referral", "POST", "/referrals", "/referrals", nil, fld, "application/x-www-form-urlencoded"},
		{"change-family", "PUT", "/referrals/{id}/family", "/referrals/" + id + "/family", map[string]string{"id": id}, fld, "application/json"},
		{"screen-referral", "POST", "/referrals/{id}/screening", "/referrals/" + id + "/screening", map[string]string{"id": id}, officer, "application/json"},
		{"allocate-referral", "POST", "/referrals/{id}/allocation", "/referrals/" + id + "/allocation", map[string]string{"id": id}, officer, "application/json"},
		{"decide-referral", "POST", "/referrals/{id}/decision", "/referrals/" + id + "/decision", map[string]string{"id": id}, officer, "application/json"},
		{"record-arrival", "POST", "/referrals/{id}/arrival", "/referrals/" + id + "/arrival", map[string]string{"id": id}, officer, "application/json"},
		{"withdraw-referral", "POST", "/referrals/{id}/withdrawal", "/referrals/" + id + "/withdrawal", map[string]string{"id": id}, fld, "application/json"},
		{"put-period", "PUT", "/streams/{stream}/periods/{year}", "/streams/hrd/periods/" + year, map[string]string{"stream": "hrd", "year": year}, admin, "application/json"},
	}
	largest := map[string]int{}
	for _, op := range ops {
		for name, body := range worstBodies(op) {
			for _, lang := range []string{"en", "fr"} {
				t.Run(fmt.Sprintf("%s %s %s %s", op.dir, op.ctype, name, lang), func(t *testing.T) {
					h.t = t
					if len(body) > referral.MaxBodyBytes {
						t.Fatalf("body of %d bytes", len(body))
					}
					resp := h.do(op.dir, req{method: op.method, route: op.method + " " + op.route, path: op.path, params: op.params,
						body: body, role: op.who.role, partner: op.who.partner,
						headers: map[string]string{"content-type": op.ctype, "accept-language": lang}})
					if resp.StatusCode != http.StatusBadRequest {
						t.Fatalf("got %d %.300s, want 400", resp.StatusCode, resp.Body)
					}
					limit := maxBytes(t, op.method, op.route, resp.StatusCode)
					if n := len(resp.Body); n > limit || n >= 64<<10 {
						t.Errorf("a %d-byte body is answered with %d bytes; openapi.yaml states at most %d", len(body), n, limit)
					}
					var p struct {
						Errors     []any `json:"errors"`
						ErrorCount int   `json:"error_count"`
					}
					if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
						t.Fatal(err)
					}
					if len(p.Errors) > 50 || p.ErrorCount < len(p.Errors) {
						t.Errorf("%d errors listed, error_count %d", len(p.Errors), p.ErrorCount)
					}
					if len(resp.Body) > largest[lang] {
						largest[lang] = len(resp.Body)
					}
					t.Logf("%d-byte body → %d-byte answer (%d errors of %d)", len(body), len(resp.Body), len(p.Errors), p.ErrorCount)
				})
			}
		}
	}
	t.Logf("largest error answer: %d bytes in English, %d in French", largest["en"], largest["fr"])
}

// maximalReferral is the largest referral the contract allows, in bytes of
// its JSON view: every name 100 four-byte letters, 30 family members, a
// summary of 4000 "<" (each escaped as six bytes, as a line separator was
// before the summary refused hidden characters), a reference
// and an email that JSON escapes as much as it can.
func maximalReferral(t *testing.T, ref string) string {
	t.Helper()
	name := strings.Repeat("𐐀", 100)
	person := func(member bool) map[string]any {
		p := map[string]any{"given_name": name, "family_name": name, "date_of_birth": "1985-03-14", "sex": "X", "nationality": "VNM"}
		if member {
			p["relationship"] = "other-dependant"
		}
		return p
	}
	var members []any
	for i := 0; i < referral.MaxFamilyMembers; i++ {
		members = append(members, person(true))
	}
	body := map[string]any{
		"stream": "hrd", "partner_reference": strings.Repeat("<", 64-len(ref)) + ref, "urgency": "emergency",
		"principal": person(false), "family_members": members, "country_of_asylum": "THA",
		"defender_profile": map[string]any{
			"rights_areas": []string{"journalism", "lgbtqi", "women", "environment", "land", "indigenous", "labour", "anti-corruption", "democracy", "minority", "other"},
			"summary":      strings.Repeat("<", 4000),
		},
		"contact":            map[string]any{"email": strings.Repeat("&", 242) + "@example.org", "phone": "+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5", "preferred_channel": "whatsapp"},
		"preferred_language": "fr", "consent": map[string]any{"given": true, "date": "2026-11-01"},
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		t.Fatal(err)
	}
	if b.Len() > referral.MaxBodyBytes {
		t.Fatalf("maximal referral of %d bytes", b.Len())
	}
	return b.String()
}

// TestWorstCaseViews: the largest referral, as created, read by an officer
// with the most possible duplicates, moved through the lifecycle, and listed
// a hundred to a page, is answered within the sizes openapi.yaml states.
//
// The page of a hundred is measured, not fetched: its items are the same
// referral under ids and references of the same length, so its size is the
// page of n's plus 100-n items and commas. Creating a hundred of them took
// 40 s under the race detector, for the same figure.
func TestWorstCaseViews(t *testing.T) {
	h := newHarness(t, testenv.Options{})
	h.setCapacity(100000)
	check := func(what, method, route string, status, n int) {
		t.Helper()
		limit := maxBytes(t, method, route, status)
		if n > limit {
			t.Errorf("%s: %d bytes; openapi.yaml states at most %d", what, n, limit)
		}
		t.Logf("%s: %d bytes (at most %d)", what, n, limit)
	}
	const created = dynamostore.MaxPossibleDuplicates + 1
	var ids []string
	for i := 0; i < created; i++ {
		resp := h.create(maximalReferral(t, fmt.Sprintf("%03d", i)), fld.partner, "")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %.300s", resp.StatusCode, resp.Body)
		}
		if i == 0 {
			check("created", "POST", "/referrals", http.StatusCreated, len(resp.Body))
		}
		ids = append(ids, decode(t, resp)["id"].(string))
	}
	id := ids[0]
	get := h.do("get-referral", req{method: "GET", route: "GET /referrals/{id}", path: "/referrals/" + id, params: map[string]string{"id": id}, role: officer.role})
	if n := len(decode(t, get)["possible_duplicates"].([]any)); n != dynamostore.MaxPossibleDuplicates {
		t.Errorf("%d possible duplicates, want the %d at most", n, dynamostore.MaxPossibleDuplicates)
	}
	check("read by an officer", "GET", "/referrals/{id}", http.StatusOK, len(get.Body))

	h.mustStep("screen-referral", id, officer, `{"outcome":"eligible"}`)
	h.mustStep("allocate-referral", id, officer, `{}`)
	decided := h.step("decide-referral", id, officer, `{"outcome":"refused","reasons":["inadmissible-security","inadmissible-human-rights-violations","inadmissible-criminality","inadmissible-organized-criminality","inadmissible-medical","misrepresentation","inadmissible-family-member","not-eligible-on-interview","durable-solution-available"]}`, "")
	if decided.StatusCode != http.StatusOK {
		t.Fatalf("decide: %d %.300s", decided.StatusCode, decided.Body)
	}
	check("refused with every reason", "POST", "/referrals/{id}/decision", http.StatusOK, len(decided.Body))

	// The referral with the most reasons is the largest item; list the others
	// to measure one of them too.
	list := h.do("list-referrals", req{method: "GET", route: "GET /referrals", path: "/referrals", query: map[string]string{"limit": "100"}, role: officer.role})
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(list.Body), &page); err != nil || len(page.Items) != created {
		t.Fatalf("%d items listed (%v), want %d", len(page.Items), err, created)
	}
	largest := 0
	for _, it := range page.Items {
		largest = max(largest, len(it))
	}
	// Every item at least as large as the largest, the separators, and the
	// rest of the page as it is.
	n := len(list.Body) + (100-created)*(largest+1)
	for _, it := range page.Items {
		n += largest - len(it)
	}
	check("a page of 100", "GET", "/referrals", http.StatusOK, n)
}
