// Package csvsafe keeps the text cells of Haven's CSV files from being run
// as formulas when a person opens the file in a spreadsheet (CSV or formula
// injection). Exports and reports both write their text cells through Text.
//
// Following OWASP's CSV-injection guidance, a cell that starts with a
// character a spreadsheet reads as the start of a formula (=, +, -, @) or
// that it strips or treats as a cell break before doing so (tab, carriage
// return) gets a leading single quote, which spreadsheets show as text and
// do not evaluate. The quoting and doubling of double quotes that OWASP also
// asks for is RFC 4180's, done by encoding/csv.
//
// Only text Haven does not control goes through Text: a number Haven writes
// with strconv stays a number (a negative count such as -3 must still sum in
// a spreadsheet, and a minus sign Haven writes is no formula). A caller that
// puts user-supplied text in a cell must use Text.
package csvsafe

// Text returns s as a spreadsheet shows it as text: unchanged unless its
// first character could start a formula, else prefixed with a single quote.
func Text(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
