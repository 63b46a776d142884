package seal_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hrd/haven/shared/seal"
)

type identity struct{ given, family, dob, nationality string }

func (p identity) normalise() string {
	return seal.NormaliseIdentity(p.given, p.family, p.dob, p.nationality)
}

// The want strings show the UTS #39 skeleton's one cost on Latin names: i
// and l both become l.
func TestNormaliseIdentity(t *testing.T) {
	tests := []struct {
		name string
		in   identity
		want string
	}{
		{"vietnamese with diacritics", identity{"Nguyễn Thị", "Minh Khai", "1980-02-03", "VNM"}, "khal mlnh nguyen thl|1980-02-03|VNM"},
		{"stroke letter", identity{"Đặng", "Thùy Trâm", "1942-11-26", "vnm"}, "dang thuy tram|1942-11-26|VNM"},
		{"apostrophe removed", identity{"Seán", "O'Brien", "1970-01-01", "IRL"}, "obrlen sean|1970-01-01|IRL"},
		{"hyphen and dot removed", identity{"Jean-Pierre", "St. Louis", "1990-05-06", "HTI"}, "jeanplerre louls st|1990-05-06|HTI"},
		{"sharp s folds to ss", identity{"Jürgen", "Strauß", "1960-07-08", "DEU"}, "jurgen strauss|1960-07-08|DEU"},
		{"full-width and extra white space", identity{"  Ｍａｒｉａ \t José  ", " da\u00a0Silva ", " 1985-12-31 ", " bra "}, "da jose marla sllva|1985-12-31|BRA"},
		{"pipe cannot reach the date", identity{"A|1990-01-01|FRA", "B", "2000-01-01", "CAN"}, "19900101 a b fra|2000-01-01|CAN"},
		{"arabic vowel marks removed", identity{"مُحَمَّد", "عَلِيّ", "1975-03-04", "SYR"}, "على محمد|1975-03-04|SYR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.in.normalise()); diff != "" {
				t.Errorf("NormaliseIdentity%v mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// Spellings of one person that partners plausibly send must meet; different
// people must not.
func TestNormaliseIdentityEquivalence(t *testing.T) {
	tests := []struct {
		name string
		a, b identity
		same bool
	}{
		{"case and diacritics", identity{"Nguyễn Thị", "Minh Khai", "1980-02-03", "VNM"}, identity{"nguyen thi", "MINH KHAI", "1980-02-03", "VNM"}, true},
		{"given and family swapped", identity{"Minh Khai", "Nguyễn Thị", "1980-02-03", "VNM"}, identity{"Nguyễn Thị", "Minh Khai", "1980-02-03", "VNM"}, true},
		{"names moved between fields", identity{"Minh", "Nguyen Khai", "1980-02-03", "VNM"}, identity{"Minh Khai", "Nguyen", "1980-02-03", "VNM"}, true},
		{"apostrophe", identity{"Liam", "O'Brien", "1970-01-01", "IRL"}, identity{"Liam", "OBrien", "1970-01-01", "IRL"}, true},
		{"typographic apostrophe", identity{"Liam", "O’Brien", "1970-01-01", "IRL"}, identity{"Liam", "OBrien", "1970-01-01", "IRL"}, true},
		{"acute accent as apostrophe", identity{"Liam", "O´Brien", "1970-01-01", "IRL"}, identity{"Liam", "OBrien", "1970-01-01", "IRL"}, true},
		{"hyphen", identity{"Jean-Pierre", "Moïse", "1990-05-06", "HTI"}, identity{"JeanPierre", "Moise", "1990-05-06", "HTI"}, true},
		{"dotted capital I", identity{"İlkay", "Öztürk", "1988-09-10", "TUR"}, identity{"Ilkay", "Ozturk", "1988-09-10", "TUR"}, true},
		{"stroke letters", identity{"Đặng", "Łukasz Søren", "1942-11-26", "POL"}, identity{"Dang", "Lukasz Soren", "1942-11-26", "POL"}, true},
		{"ligature", identity{"Æsa", "Cœur", "1999-01-02", "FRA"}, identity{"Aesa", "Coeur", "1999-01-02", "FRA"}, true},
		{"zero-width and soft hyphen", identity{"Ma\u200bria", "Gon\u00adzález", "1985-12-31", "COL"}, identity{"Maria", "Gonzalez", "1985-12-31", "COL"}, true},
		{"nationality case", identity{"Ana", "Lima", "1985-12-31", "bra"}, identity{"Ana", "Lima", "1985-12-31", "BRA"}, true},
		{"Cyrillic capital Em", identity{"Anna", "Мironova", "1985-12-31", "RUS"}, identity{"Anna", "Mironova", "1985-12-31", "RUS"}, true},
		{"Cyrillic small letters", identity{"Аnnа", "mirоnоvа", "1985-12-31", "RUS"}, identity{"Anna", "Mironova", "1985-12-31", "RUS"}, true},
		{"Cyrillic capital I (Ukrainian)", identity{"Іvan", "Petrenko", "1985-12-31", "UKR"}, identity{"Ivan", "Petrenko", "1985-12-31", "UKR"}, true},
		{"Greek capitals", identity{"ΑΝΝΑ", "ΚΟΡΕ", "1985-12-31", "GRC"}, identity{"Anna", "Kope", "1985-12-31", "GRC"}, true},
		{"rn is not m", identity{"Ana", "Lirna", "1985-12-31", "BRA"}, identity{"Ana", "Lima", "1985-12-31", "BRA"}, false},
		{"different date of birth", identity{"Ana", "Lima", "1985-12-31", "BRA"}, identity{"Ana", "Lima", "1985-12-30", "BRA"}, false},
		{"different nationality", identity{"Ana", "Lima", "1985-12-31", "BRA"}, identity{"Ana", "Lima", "1985-12-31", "PRT"}, false},
		{"different name", identity{"Ana", "Lima", "1985-12-31", "BRA"}, identity{"Ana", "Lins", "1985-12-31", "BRA"}, false},
		{"extra name", identity{"Ana Maria", "Lima", "1985-12-31", "BRA"}, identity{"Ana", "Lima", "1985-12-31", "BRA"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.a.normalise(), tt.b.normalise()
			if got := a == b; got != tt.same {
				t.Errorf("NormaliseIdentity equal = %v, want %v\n a: %q\n b: %q", got, tt.same, a, b)
			}
		})
	}
}

func TestNormaliseIdentityHasThreeParts(t *testing.T) {
	for _, given := range []string{"", "|", "a||b", "x\x00y", "\xff\xfe", "𝔄𝔫𝔫𝔞"} {
		got := seal.NormaliseIdentity(given, "Lima", "1985-12-31", "BRA")
		if n := strings.Count(got, "|"); n != 2 {
			t.Errorf("NormaliseIdentity(%q, ...) = %q: %d separators, want 2", given, got, n)
		}
	}
}
