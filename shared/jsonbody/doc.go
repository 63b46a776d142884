// Package jsonbody is the one strict reader of JSON request bodies. Every
// step that takes a JSON body walks it with a Decoder, so that every body is
// held to the same rules, the ones the contract (openapi.yaml) states:
//
//   - keys match exactly (encoding/json folds case: {"OUTCOME": ...} would
//     count as "outcome");
//   - a key may appear once (two parsers could otherwise disagree on which
//     value counts, and encoding/json lets the last one win);
//   - unknown keys are errors rather than ignored (no mass assignment);
//   - null is a value of the wrong type, never an absent field: no request
//     property of the contract is nullable;
//   - an array is read one element past its maxItems and the rest is skipped,
//     so a body of a hundred thousand elements costs the same as one of
//     maxItems+1;
//   - what is echoed back (a client's unknown key in an error's field path) is
//     cut to MaxShownKey bytes.
//
// The Decoder knows no schema: its callers spell theirs out in callbacks, and
// it reports shape problems (malformed JSON, wrong types, unknown and
// repeated keys) with their dotted paths, every one of them, never rule
// violations, which the domain packages check afterwards.
package jsonbody
