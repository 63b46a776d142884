package websession

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/haven-hrd/haven/shared/apigw"
	"github.com/haven-hrd/haven/shared/problem"
)

// frenchSpaces puts the no-break spaces French typography needs: a no-break
// space before a colon and inside guillemets, a narrow no-break space before
// ; ? and !. Built once: the pages' text tables are read on every request.
var frenchSpaces = strings.NewReplacer(
	" :", "\u00a0:", " ;", "\u202f;", " ?", "\u202f?", " !", "\u202f!",
	"« ", "«\u00a0", " »", "\u00a0»",
)

// FrenchTypography gives French text, written with plain spaces in the
// pages' tables, the no-break spaces French typography puts before : ; ? !
// and inside « ».
func FrenchTypography(s string) string { return frenchSpaces.Replace(s) }

// PageLang is a page's language: ?lang=, else Accept-Language.
func PageLang(r *apigw.Request) problem.Lang {
	switch r.Event.QueryStringParameters["lang"] {
	case "fr":
		return problem.French
	case "en":
		return problem.English
	}
	return problem.PickLang(r.Header("Accept-Language"))
}

// SameOrigin refuses cross-site posts when the browser says where they come
// from (every current browser sends Origin on a POST; the pages' referrer
// policy is same-origin, since no-referrer would make it "null").
func SameOrigin(r *apigw.Request) bool {
	o := r.Header("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Header("Host")
}

// WithLang is path with the query extra (name, value, …) and lang.
func WithLang(path string, lang problem.Lang, extra ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	q.Set("lang", string(lang))
	return path + "?" + q.Encode()
}

// Redirect is a 303 to a same-origin path.
func Redirect(to string) apigw.Response {
	return apigw.Response{Status: http.StatusSeeOther, Headers: map[string]string{"Location": to}}
}

// CSPNonce is a fresh nonce for a page's Content-Security-Policy.
func CSPNonce() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}
