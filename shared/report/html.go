package report

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/reason"
)

// words is one language's text of the page.
type words struct {
	Code, Other, OtherName                             string
	Title, ReportOf, Generated, Persons, Referrals     string
	Capacity, Reserved, Arrived, Remaining, Waitlisted string
	CapacityTitle, PartnerTitle, MonthTitle            string
	StatusTitle, UrgencyTitle, Figures, Partner, Month string
	Status, Urgency, Received, ArrivedPersons, Note    string
	Admitted, AdmittedPersons                          string
	CapacityDesc, PartnerDesc, MonthDesc, StatusDesc   string
	UrgencyDesc                                        string
	ReasonTitle, Reason, NoReasons                     string
	Statuses, Urgencies                                map[string]string
	Months                                             [12]string
	thousands                                          string
}

var english = words{
	Code: "en", Other: "fr", OtherName: "Français",
	Title: "Daily quota report", ReportOf: "Report of", Generated: "generated", Persons: "persons", Referrals: "referrals",
	Capacity: "Capacity", Reserved: "Reserved", Arrived: "Arrived", Remaining: "Remaining", Waitlisted: "Waitlisted",
	CapacityTitle: "Capacity used", PartnerTitle: "Spaces by partner", MonthTitle: "Referrals received and persons arrived by month",
	StatusTitle: "Persons by status", UrgencyTitle: "Persons by urgency", Figures: "Show the figures",
	Partner: "Partner", Month: "Month", Status: "Status", Urgency: "Urgency", Received: "Persons referred", ArrivedPersons: "Persons arrived",
	Admitted: "Admitted this year (by arrival date)", AdmittedPersons: "Persons admitted (any quota year)",
	Note:         "All figures are persons (a family uses one space per person) unless marked as referrals. Counters come from the period; status, urgency and months are counted from referrals, which are read without any personal data.",
	CapacityDesc: "Of a capacity of %s persons: %s arrived, %s reserved, %s remaining; %s waitlisted.",
	PartnerDesc:  "Persons reserved and arrived per partner: %s.",
	MonthDesc:    "Persons referred and persons arrived in each month of %d: %s.",
	StatusDesc:   "Persons by referral status: %s.",
	UrgencyDesc:  "Persons by urgency: %s.",
	ReasonTitle:  "Reasons for ineligibility, refusal and withdrawal",
	Reason:       "Reason",
	NoReasons:    "No referral counted here was found ineligible, refused or withdrawn with a reason.",
	Statuses: map[string]string{
		"submitted": "Submitted", "eligible": "Eligible", "ineligible": "Ineligible", "allocated": "Allocated",
		"waitlisted": "Waitlisted", "approved": "Approved", "refused": "Refused", "arrived": "Arrived", "withdrawn": "Withdrawn",
	},
	Urgencies: map[string]string{"emergency": "Emergency", "urgent": "Urgent", "normal": "Normal"},
	Months:    [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	thousands: ",",
}

var french = words{
	Code: "fr", Other: "en", OtherName: "English",
	Title: "Rapport quotidien sur les quotas", ReportOf: "Rapport du", Generated: "produit le", Persons: "personnes", Referrals: "recommandations",
	Capacity: "Capacité", Reserved: "Réservées", Arrived: "Arrivées", Remaining: "Restantes", Waitlisted: "En liste d’attente",
	CapacityTitle: "Utilisation de la capacité", PartnerTitle: "Places par partenaire", MonthTitle: "Recommandations reçues et personnes arrivées par mois",
	StatusTitle: "Personnes par statut", UrgencyTitle: "Personnes par degré d’urgence", Figures: "Afficher les chiffres",
	Partner: "Partenaire", Month: "Mois", Status: "Statut", Urgency: "Urgence", Received: "Personnes recommandées", ArrivedPersons: "Personnes arrivées",
	Admitted: "Admises cette année (par date d’arrivée)", AdmittedPersons: "Personnes admises (toute année de quota)",
	Note:         "Tous les chiffres sont des personnes (une famille utilise une place par personne), sauf mention « recommandations ». Les compteurs viennent de la période ; statuts, urgences et mois sont comptés à partir des recommandations, lues sans aucune donnée personnelle.",
	CapacityDesc: "Sur une capacité de %s personnes : %s arrivées, %s réservées, %s restantes ; %s en liste d’attente.",
	PartnerDesc:  "Personnes réservées et arrivées par partenaire : %s.",
	MonthDesc:    "Personnes recommandées et personnes arrivées chaque mois de %d : %s.",
	StatusDesc:   "Personnes par statut de la recommandation : %s.",
	UrgencyDesc:  "Personnes par degré d’urgence : %s.",
	ReasonTitle:  "Motifs de non-admissibilité, de refus et de retrait",
	Reason:       "Motif",
	NoReasons:    "Aucune recommandation comptée ici n’a été jugée non admissible, refusée ou retirée avec un motif.",
	Statuses: map[string]string{
		"submitted": "Soumise", "eligible": "Admissible", "ineligible": "Non admissible", "allocated": "Place attribuée",
		"waitlisted": "En attente", "approved": "Approuvée", "refused": "Refusée", "arrived": "Arrivée", "withdrawn": "Retirée",
	},
	Urgencies: map[string]string{"emergency": "Extrême urgence", "urgent": "Urgente", "normal": "Normale"},
	Months:    [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."},
	thousands: "\u202f",
}

// num formats n with the language's thousands separator.
func (w words) num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(w.thousands)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (w words) label(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// Colours (Okabe–Ito, safe for colour-blind readers) of the series.
const (
	colArrived   = "#009E73"
	colReserved  = "#0072B2"
	colRemaining = "#D9D9D9"
	colReceived  = "#E69F00"
	colPersons   = "#56B4E9"
)

type series struct {
	name   string
	colour string
}

type row struct {
	label  string
	values []int
}

// svgOpen writes the svg element with its accessible name and description.
func svgOpen(b *bytes.Buffer, id string, width, height int, title, desc string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 %d %d" width="100%%" style="max-width:%dpx" aria-labelledby="%s-t %s-d">`, width, height, width, id, id)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
}

func legend(b *bytes.Buffer, x, y int, ss []series) {
	for _, s := range ss {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" class="l">%s</text>`, x, y, s.colour, x+16, y+10, html.EscapeString(s.name))
		x += 24 + 8*len([]rune(s.name))
	}
}

// barsH draws grouped horizontal bars, one group per row.
func barsH(w words, id, title, desc string, ss []series, rows []row) string {
	const width, labelW, barH, gap = 640, 180, 14, 10
	maxV := 1
	for _, r := range rows {
		for _, v := range r.values {
			maxV = max(maxV, v)
		}
	}
	groupH := barH*len(ss) + gap
	height := 30 + groupH*len(rows) + 10
	var b bytes.Buffer
	svgOpen(&b, id, width, height, title, desc)
	legend(&b, labelW, 4, ss)
	scale := float64(width-labelW-70) / float64(maxV)
	for i, r := range rows {
		y := 30 + i*groupH
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="k" text-anchor="end">%s</text>`, labelW-8, y+barH*len(ss)/2+4, html.EscapeString(r.label))
		for j, v := range r.values {
			bw := int(float64(v)*scale + 0.5)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, labelW, y+j*barH, bw, barH-2, ss[j].colour)
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="v">%s</text>`, labelW+bw+4, y+j*barH+barH-4, w.num(v))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// capacityBar draws capacity as one bar split into arrived, reserved and
// remaining.
func capacityBar(w words, id string, c Counters) string {
	const width, height, x0, barW = 640, 86, 10, 620
	total := max(1, c.Capacity, c.Arrived+c.Reserved+c.Remaining)
	desc := fmt.Sprintf(w.CapacityDesc, w.num(c.Capacity), w.num(c.Arrived), w.num(c.Reserved), w.num(c.Remaining), w.num(c.WaitlistedPersons))
	var b bytes.Buffer
	svgOpen(&b, id, width, height, w.CapacityTitle, desc)
	x := x0
	for _, seg := range []struct {
		v int
		c string
	}{{c.Arrived, colArrived}, {c.Reserved, colReserved}, {c.Remaining, colRemaining}} {
		sw := seg.v * barW / total
		fmt.Fprintf(&b, `<rect x="%d" y="8" width="%d" height="36" fill="%s"/>`, x, sw, seg.c)
		x += sw
	}
	fmt.Fprintf(&b, `<rect x="%d" y="8" width="%d" height="36" fill="none" stroke="#333"/>`, x0, barW)
	legend(&b, x0, 60, []series{
		{w.Arrived + " " + w.num(c.Arrived), colArrived},
		{w.Reserved + " " + w.num(c.Reserved), colReserved},
		{w.Remaining + " " + w.num(c.Remaining), colRemaining},
	})
	b.WriteString(`</svg>`)
	return b.String()
}

// monthBars draws two series per month as vertical bars.
func monthBars(w words, id string, s Summary) string {
	const width, height, left, top, plotH = 640, 250, 40, 30, 170
	maxV := 1
	var parts []string
	for i, m := range s.Months {
		maxV = max(maxV, m.ReceivedPersons, m.ArrivedPersons)
		if m.ReceivedPersons > 0 || m.ArrivedPersons > 0 {
			parts = append(parts, fmt.Sprintf("%s %s / %s", w.Months[i], w.num(m.ReceivedPersons), w.num(m.ArrivedPersons)))
		}
	}
	if len(parts) == 0 {
		parts = []string{"0"}
	}
	desc := fmt.Sprintf(w.MonthDesc, s.Period, strings.Join(parts, "; "))
	ss := []series{{w.Received, colReceived}, {w.ArrivedPersons, colArrived}}
	var b bytes.Buffer
	svgOpen(&b, id, width, height, w.MonthTitle, desc)
	legend(&b, left, 4, ss)
	base := top + plotH
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`, left, base, width-10, base)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="v" text-anchor="end">%s</text><text x="%d" y="%d" class="v" text-anchor="end">0</text>`, left-4, top+8, w.num(maxV), left-4, base)
	step := (width - left - 10) / 12
	for i, m := range s.Months {
		x := left + i*step + 6
		for j, v := range []int{m.ReceivedPersons, m.ArrivedPersons} {
			h := v * plotH / maxV
			bx := x + j*((step-12)/2)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, bx, base-h, (step-12)/2-1, h, ss[j].colour)
			if v > 0 {
				fmt.Fprintf(&b, `<text x="%d" y="%d" class="v" text-anchor="middle">%s</text>`, bx+(step-12)/4, base-h-3, w.num(v))
			}
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="k" text-anchor="middle">%s</text>`, x+(step-12)/2, base+16, html.EscapeString(w.Months[i]))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func joinPairs(w words, labels []string, vals [][]int) string {
	var parts []string
	for i, l := range labels {
		var vs []string
		for _, v := range vals[i] {
			vs = append(vs, w.num(v))
		}
		parts = append(parts, l+" "+strings.Join(vs, " / "))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "; ")
}

// view is one language's part of the page.
type view struct {
	W                                    words
	S                                    Summary
	Capacity, Partner, Month, Status     string // SVG markup
	Urgency                              string
	Tiles                                []tile
	PartnerRows, StatusRows, UrgencyRows []tableRow
	MonthRows, ReasonRows                []tableRow
}

type tile struct{ Label, Value string }

type tableRow struct {
	Label string
	Cells []string
}

func newView(w words, s Summary) view {
	v := view{W: w, S: s}
	c := s.Counters
	v.Tiles = []tile{
		{w.Capacity, w.num(c.Capacity)}, {w.Reserved, w.num(c.Reserved)}, {w.Arrived, w.num(c.Arrived)},
		{w.Remaining, w.num(c.Remaining)}, {w.Waitlisted, w.num(c.WaitlistedPersons)},
		{w.Admitted, w.num(s.Admissions.Persons)},
	}
	v.Capacity = capacityBar(w, w.Code+"-capacity", c)

	var labels []string
	var vals [][]int
	var rows []row
	for _, p := range s.Partners {
		labels = append(labels, p.Partner)
		vals = append(vals, []int{p.Reserved, p.Arrived})
		rows = append(rows, row{p.Partner, []int{p.Reserved, p.Arrived}})
		v.PartnerRows = append(v.PartnerRows, tableRow{p.Partner, []string{w.num(p.Reserved), w.num(p.Arrived), w.num(p.Referrals), w.num(p.Persons)}})
	}
	v.Partner = barsH(w, w.Code+"-partner", w.PartnerTitle, fmt.Sprintf(w.PartnerDesc, joinPairs(w, labels, vals)),
		[]series{{w.Reserved, colReserved}, {w.Arrived, colArrived}}, rows)

	counts := func(list []Count, names map[string]string, id, title, descFmt string) (string, []tableRow) {
		var labels []string
		var vals [][]int
		var rows []row
		var trs []tableRow
		for _, x := range list {
			l := w.label(names, x.Key)
			labels = append(labels, l)
			vals = append(vals, []int{x.Persons})
			rows = append(rows, row{l, []int{x.Persons}})
			trs = append(trs, tableRow{l, []string{w.num(x.Referrals), w.num(x.Persons)}})
		}
		return barsH(w, id, title, fmt.Sprintf(descFmt, joinPairs(w, labels, vals)), []series{{w.Persons, colPersons}}, rows), trs
	}
	v.Status, v.StatusRows = counts(s.Statuses, w.Statuses, w.Code+"-status", w.StatusTitle, w.StatusDesc)
	v.Urgency, v.UrgencyRows = counts(s.Urgencies, w.Urgencies, w.Code+"-urgency", w.UrgencyTitle, w.UrgencyDesc)

	for _, x := range s.Reasons {
		label := x.Code // a code no list has is shown as it is
		if lb, ok := reason.LabelOf(x.Code); ok {
			label = lb.In(problem.Lang(w.Code))
		}
		v.ReasonRows = append(v.ReasonRows, tableRow{label, []string{w.label(w.Statuses, x.Outcome), w.num(x.Referrals), w.num(x.Persons)}})
	}

	v.Month = monthBars(w, w.Code+"-month", s)
	for i, m := range s.Months {
		v.MonthRows = append(v.MonthRows, tableRow{w.Months[i] + " " + strconv.Itoa(s.Period), []string{w.num(m.ReceivedReferrals), w.num(m.ReceivedPersons), w.num(m.ArrivedPersons), w.num(m.AdmittedPersons)}})
	}
	return v
}

// The page is written by hand, not with html/template: text/template calls
// reflect.Value.MethodByName, which makes the linker keep every exported
// method of every reachable type, ≈ 7 MB in daily-report (BENCHMARKS.md,
// binary size). Static markup is constant; every value from data or from
// formatting goes through html.EscapeString (& < > ' "), which suffices in
// element text and in quoted attribute values (html/template also wrote '+'
// as &#43; and NUL as U+FFFD; neither matters in these contexts). The SVG
// charts are built above, with the same escaping.

const pageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>`

const pageStyle = ` — Haven</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a1a1a;background:#fafafa;line-height:1.4}
header.top{background:#1d3557;color:#fff;padding:.6rem 1.5rem}
header.top a{color:#fff;margin-right:1rem}
main{max-width:760px;margin:0 auto;padding:1rem 1.5rem}
section.lang{border-bottom:2px solid #ccc;padding-bottom:2rem;margin-bottom:2rem}
h1{font-size:1.6rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:2rem 0 .5rem}
.meta,.note{color:#444;font-size:.9rem}
.tiles{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0;padding:0;list-style:none}
.tiles li{background:#fff;border:1px solid #ccc;border-radius:6px;padding:.5rem .9rem;min-width:7rem}
.tiles .n{display:block;font-size:1.6rem;font-weight:700}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem}
svg text{font-family:inherit;fill:#1a1a1a}
svg .k{font-size:12px} svg .v{font-size:11px} svg .l{font-size:12px}
details{margin-top:.5rem}
table{border-collapse:collapse;margin-top:.4rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.2rem .6rem}
td{text-align:right} th[scope=row]{text-align:left;font-weight:normal}
</style>
</head>
<body>
<header class="top"><nav aria-label="Language / Langue"><a href="#en" hreflang="en">English</a><a href="#fr" hreflang="fr" lang="fr">Français</a></nav></header>
<main>
`

const pageFoot = `
</main>
</body>
</html>
`

// page writes the page's markup; t writes one escaped value.
type page struct{ bytes.Buffer }

func (p *page) raw(ss ...string) {
	for _, s := range ss {
		p.WriteString(s)
	}
}

func (p *page) t(s string) { p.WriteString(html.EscapeString(s)) }

// lang writes one language's section.
func (p *page) lang(v view) {
	w, s := v.W, v.S
	p.raw(`<section class="lang" id="`)
	p.t(w.Code)
	p.raw(`" lang="`)
	p.t(w.Code)
	p.raw(`" aria-labelledby="`)
	p.t(w.Code)
	p.raw("-h\">\n<h1 id=\"")
	p.t(w.Code)
	p.raw(`-h">`)
	p.t(w.Title)
	p.raw(" — ")
	p.t(s.StreamName)
	p.raw(" ")
	p.t(strconv.Itoa(s.Period))
	p.raw("</h1>\n<p class=\"meta\">")
	p.t(w.ReportOf)
	p.raw(" ")
	p.t(s.Date)
	p.raw(" · ")
	p.t(w.Generated)
	p.raw(" ")
	p.t(s.GeneratedAt.Format("2006-01-02 15:04 UTC"))
	p.raw(" · ")
	p.t(s.Stream)
	p.raw("</p>\n<ul class=\"tiles\">")
	for _, x := range v.Tiles {
		p.raw("<li>")
		p.t(x.Label)
		p.raw(`<span class="n">`)
		p.t(x.Value)
		p.raw("</span></li>")
	}
	p.raw("</ul>\n<p class=\"note\">")
	p.t(w.Note)
	p.raw("</p>\n<h2>")
	p.t(w.CapacityTitle)
	p.raw("</h2>\n<figure>", v.Capacity, "</figure>\n")
	p.figure(w, w.PartnerTitle, v.Partner, []string{w.Partner, w.Reserved, w.Arrived, w.Referrals, w.Persons}, v.PartnerRows)
	p.figure(w, w.MonthTitle, v.Month, []string{w.Month, w.Referrals, w.Received, w.ArrivedPersons, w.AdmittedPersons}, v.MonthRows)
	p.figure(w, w.StatusTitle, v.Status, []string{w.Status, w.Referrals, w.Persons}, v.StatusRows)
	p.figure(w, w.UrgencyTitle, v.Urgency, []string{w.Urgency, w.Referrals, w.Persons}, v.UrgencyRows)
	p.reasons(w, v.ReasonRows)
	p.raw("</section>\n")
}

// figure writes a heading, a chart (svg, markup) and its figures as a table
// with columns cols.
func (p *page) figure(w words, title, svg string, cols []string, rows []tableRow) {
	p.raw("<h2>")
	p.t(title)
	p.raw("</h2>\n<figure>", svg, "\n<details><summary>")
	p.t(w.Figures)
	p.raw("</summary>")
	p.table(title, cols, rows)
	p.raw("</details></figure>\n")
}

// table writes rows under columns cols, each row headed by its label.
func (p *page) table(caption string, cols []string, rows []tableRow) {
	p.raw("<table><caption>")
	p.t(caption)
	p.raw("</caption>\n<thead><tr>")
	for _, c := range cols {
		p.raw(`<th scope="col">`)
		p.t(c)
		p.raw("</th>")
	}
	p.raw("</tr></thead>\n<tbody>")
	for _, r := range rows {
		p.raw(`<tr><th scope="row">`)
		p.t(r.Label)
		p.raw("</th>")
		for _, c := range r.Cells {
			p.raw("<td>")
			p.t(c)
			p.raw("</td>")
		}
		p.raw("</tr>")
	}
	p.raw("</tbody></table>")
}

// reasons writes the reasons table, open (there is no chart to read first),
// with each code's label in the section's language.
func (p *page) reasons(w words, rows []tableRow) {
	p.raw("<h2>")
	p.t(w.ReasonTitle)
	p.raw("</h2>\n")
	if len(rows) == 0 {
		p.raw(`<p class="note">`)
		p.t(w.NoReasons)
		p.raw("</p>\n")
		return
	}
	p.table(w.ReasonTitle, []string{w.Reason, w.Status, w.Referrals, w.Persons}, rows)
	p.raw("\n")
}

// HTML renders s as one self-contained page, English then French.
func HTML(s Summary) ([]byte, error) {
	var p page
	p.raw(pageHead)
	p.t(s.StreamName)
	p.raw(" ")
	p.t(strconv.Itoa(s.Period))
	p.raw(" · ")
	p.t(s.Date)
	p.raw(pageStyle)
	for _, w := range []words{english, french} {
		p.lang(newView(w, s))
	}
	p.raw(pageFoot)
	return p.Bytes(), nil
}

// Chart is one of the report's charts: its heading and its SVG markup
// (with its accessible name and description).
type Chart struct{ Title, SVG string }

// PeriodCharts are the report's charts of a period's own counters —
// capacity used, and spaces by partner — in lang, drawn by the same
// renderer as the daily report (the officers' dashboard shows them). Only
// s.Counters and s.Partners' reserved and arrived persons are read.
func PeriodCharts(s Summary, lang problem.Lang) []Chart {
	w := english
	if lang == problem.French {
		w = french
	}
	v := newView(w, s)
	return []Chart{{w.CapacityTitle, v.Capacity}, {w.PartnerTitle, v.Partner}}
}
