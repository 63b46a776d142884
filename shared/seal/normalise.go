package seal

import "github.com/haven-hrd/haven/shared/seal/identity"

// NormaliseIdentity builds the string Fingerprint hashes; it is
// identity.Normalise, which see (steps call that directly, so that they
// link no sealer unless they seal).
func NormaliseIdentity(given, family, dob, nationality string) string {
	return identity.Normalise(given, family, dob, nationality)
}
