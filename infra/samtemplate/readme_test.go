package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEClaimsAdminOnly: the deploy guide names the template's default
// role and partner claims as admin-only and keeps them out of the Cognito
// app client's WriteAttributes, so changing a default without the guide
// (or dropping the guide) fails.
func TestREADMEClaimsAdminOnly(t *testing.T) {
	tpl := loadReal(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	role, partner := fmt.Sprint(tpl.Parameters["ClaimRole"].Default), fmt.Sprint(tpl.Parameters["ClaimPartner"].Default)
	for _, want := range []string{
		"must be admin-only",
		"`ClaimRole`, default `" + role + "`",
		"`ClaimPartner`, default `" + partner + "`",
		"WriteAttributes: [email]                # never " + role + " or " + partner,
		"AllowAdminCreateUserOnly: true",
		"--write-attributes email",
		"EdgeWebAclArn",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
}
