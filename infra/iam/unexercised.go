package iam

// Unexercised lists, with the reason, the grants of template.yaml that the
// test suite does not exercise and that stay anyway: the one place where a
// grant no test needs may be kept. Keys are as Check prints them:
// "<Function> <action>" or "<Function> <Sid> <resource>".
var Unexercised = map[string]string{}
