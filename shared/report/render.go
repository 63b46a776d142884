package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"

	"github.com/haven-hrd/haven/shared/csvsafe"
)

// JSON renders s as indented JSON with a final newline.
func JSON(s Summary) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// CSV renders s as one long table (RFC 4180, CRLF, header row) of
// section, key, measure, value: easy to filter or pivot in a spreadsheet.
func CSV(s Summary) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	// Text cells go through csvsafe.Text (a partner id or stream comes from
	// configuration, not from Haven); the value is a number Haven formats, so
	// a negative one stays a number a spreadsheet can sum.
	rec := func(section, key, measure string, v int) {
		w.Write([]string{csvsafe.Text(section), csvsafe.Text(key), csvsafe.Text(measure), strconv.Itoa(v)})
	}
	w.Write([]string{"section", "key", "measure", "value"})
	c := s.Counters
	for _, m := range []struct {
		k string
		v int
	}{{"capacity", c.Capacity}, {"reserved", c.Reserved}, {"arrived", c.Arrived}, {"remaining", c.Remaining}, {"waitlisted_persons", c.WaitlistedPersons}, {"referrals", s.Referrals}, {"persons", s.Persons}} {
		rec("period", s.Stream+"/"+strconv.Itoa(s.Period), m.k, m.v)
	}
	for _, p := range s.Partners {
		rec("partner", p.Partner, "reserved", p.Reserved)
		rec("partner", p.Partner, "arrived", p.Arrived)
		rec("partner", p.Partner, "referrals", p.Referrals)
		rec("partner", p.Partner, "persons", p.Persons)
	}
	for _, x := range s.Statuses {
		rec("status", x.Key, "referrals", x.Referrals)
		rec("status", x.Key, "persons", x.Persons)
	}
	for _, x := range s.Urgencies {
		rec("urgency", x.Key, "referrals", x.Referrals)
		rec("urgency", x.Key, "persons", x.Persons)
	}
	for _, m := range s.Months {
		rec("month", m.Month, "received_referrals", m.ReceivedReferrals)
		rec("month", m.Month, "received_persons", m.ReceivedPersons)
		rec("month", m.Month, "arrived_persons", m.ArrivedPersons)
		rec("month", m.Month, "admitted_persons", m.AdmittedPersons)
	}
	rec("admissions", strconv.Itoa(s.Period), "persons", s.Admissions.Persons)
	for _, y := range s.Admissions.ByQuotaYear {
		rec("admissions", strconv.Itoa(s.Period), "quota_year_"+strconv.Itoa(y.Year), y.Persons)
	}
	for _, x := range s.Reasons {
		rec("reason", x.Outcome+"/"+x.Code, "referrals", x.Referrals)
		rec("reason", x.Outcome+"/"+x.Code, "persons", x.Persons)
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
