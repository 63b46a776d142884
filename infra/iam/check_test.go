package iam

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	s := &Stack{Policies: map[string]Policy{"F": {Function: "F", Statements: []Statement{
		{Sid: "Read", Effect: "Allow", Action: []string{"dynamodb:GetItem", "dynamodb:Query"}, Resource: []string{table, table + "/index/*"}},
	}}}}
	get := Call{Function: "F", Action: "dynamodb:GetItem", Resource: table, Allowed: true}
	query := Call{Function: "F", Action: "dynamodb:Query", Resource: table + "/index/gsi1", Allowed: true}
	const hint = "; exercise it in a test, remove it from template.yaml, or excuse it in iam.Unexercised"
	for _, tc := range []struct {
		name    string
		calls   []Call
		excused map[string]string
		want    []string
	}{
		{"every grant used", []Call{get, query}, nil, nil},
		{"a denial", []Call{get, query, {Function: "F", Action: "dynamodb:DeleteItem", Resource: table}}, nil,
			[]string{"denied: F may not dynamodb:DeleteItem on " + table}},
		{"an action never performed", []Call{get, {Function: "F", Action: "dynamodb:GetItem", Resource: table + "/index/gsi1", Allowed: true}}, nil,
			[]string{"unexercised: F dynamodb:Query (granted by Read, never performed)" + hint}},
		{"a resource never reached", []Call{get, {Function: "F", Action: "dynamodb:Query", Resource: table, Allowed: true}}, nil,
			[]string{"unexercised: F Read " + table + "/index/* (a resource no action of the statement reached)" + hint}},
		{"excused", []Call{get}, map[string]string{"F dynamodb:Query": "why", "F Read " + table + "/index/*": "why"}, nil},
		{"another function's call does not count", []Call{get, {Function: "G", Action: "dynamodb:Query", Resource: table + "/index/gsi1", Allowed: true}}, map[string]string{"F Read " + table + "/index/*": "why"},
			[]string{"unexercised: F dynamodb:Query (granted by Read, never performed)" + hint}},
		{"stale excuse", []Call{get, query}, map[string]string{"F dynamodb:Scan": "why"},
			[]string{`stale excuse: iam.Unexercised["F dynamodb:Scan"] matches no unexercised grant; remove it`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Check(s, tc.calls, tc.excused)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadCalls: the files of several processes fold into one sorted set;
// a torn last line (a killed process) is skipped.
func TestReadCalls(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := Call{Function: "F", Action: "dynamodb:GetItem", Resource: table, Allowed: true}
	y := Call{Function: "E", Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k"}
	a.add(x)
	a.add(x)
	b.add(x)
	b.add(y)
	b.file.WriteString(`{"function":"F","act`)
	got, err := ReadCalls(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Call{y, x}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Call{x}, a.Calls()); diff != "" {
		t.Errorf("one process's calls (-want +got):\n%s", diff)
	}
}
