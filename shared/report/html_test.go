package report

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// hostile is fixture(t) with every string that comes from data replaced:
// stream id and name, date, partner ids, status and urgency keys (unknown
// keys are shown as they are).
func hostile(t *testing.T, vals []string) Summary {
	t.Helper()
	s := fixture(t)
	next := func(i int) string { return vals[i%len(vals)] }
	s.Stream, s.StreamName, s.Date = next(0), next(1), next(2)
	s.Partners = append([]PartnerLine(nil), s.Partners...)
	for i := range s.Partners {
		s.Partners[i].Partner = next(3 + i)
	}
	s.Statuses = append(append([]Count(nil), s.Statuses...), Count{Key: next(7), Referrals: 1, Persons: 2})
	s.Urgencies = append(append([]Count(nil), s.Urgencies...), Count{Key: next(8), Referrals: 3, Persons: 4})
	return s
}

func TestReportHTMLEscapes(t *testing.T) {
	bad := []string{
		`<script>alert(1)</script>`,
		`"><script>alert(2)</script><p class="`,
		`2026-11-27' onmouseover='alert(3)`,
		"Front Line Defenders & Co",
		"Nguyễn & Trần <Đoàn>",
		`a+b "quoted" 'single' &amp; </title></section>`,
		"</svg><svg onload=alert(4)>",
		"Défenseur·e·s « droits » — 人権",
		"x\u00a0y",
	}
	// The same page with harmless values: its markup is the hostile page's.
	var tame []string
	for i := range bad {
		tame = append(tame, "value"+strings.Repeat("x", i))
	}
	got, err := HTML(hostile(t, bad))
	if err != nil {
		t.Fatal(err)
	}
	want, err := HTML(hostile(t, tame))
	if err != nil {
		t.Fatal(err)
	}
	page := string(got)

	// No value adds an element, closes an attribute or opens a quote: the
	// markup characters are exactly those of the tame page.
	for _, c := range []string{"<", ">", `"`, "'"} {
		if g, w := strings.Count(page, c), strings.Count(string(want), c); g != w {
			t.Errorf("%q occurs %d times, %d in the same page with harmless values", c, g, w)
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") || strings.Contains(page, "<svg onload") {
		t.Error("page holds an element from data")
	}
	// Every ampersand starts an entity the escaper writes.
	if bare := regexp.MustCompile(`&(?:amp|lt|gt|#34|#39);`).ReplaceAllString(page, ""); strings.Contains(bare, "&") {
		i := strings.Index(bare, "&")
		t.Errorf("unescaped ampersand: %q", bare[max(0, i-40):min(len(bare), i+40)])
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`&#34;&gt;&lt;script&gt;alert(2)`,
		`2026-11-27&#39; onmouseover=&#39;alert(3)`,
		"Front Line Defenders &amp; Co",
		"Nguyễn &amp; Trần &lt;Đoàn&gt;",
		"&amp;amp; &lt;/title&gt;&lt;/section&gt;",
		"Défenseur·e·s « droits » — 人権",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// Each value reads back as itself wherever it is shown as text.
	texts := map[string]int{}
	for _, m := range regexp.MustCompile(`>([^<]+)<`).FindAllStringSubmatch(page, -1) {
		texts[html.UnescapeString(m[1])]++
	}
	for _, p := range hostile(t, bad).Partners {
		if texts[p.Partner] == 0 {
			t.Errorf("partner %q is not shown as text", p.Partner)
		}
	}
	for _, title := range []string{
		bad[1] + " 2026 · " + bad[2] + " — Haven",
		"Daily quota report — " + bad[1] + " 2026",
		"Rapport quotidien sur les quotas — " + bad[1] + " 2026",
	} {
		if texts[title] == 0 {
			t.Errorf("page lacks the text %q", title)
		}
	}
	if !strings.Contains(page, "generated 2026-11-27 07:00 UTC · "+html.EscapeString(bad[0])+"</p>") {
		t.Error("meta line lacks the escaped stream id")
	}
}
