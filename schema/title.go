package schema

import (
	"strings"
	"unicode"
)

// Title is pydantic's title for a field name: Python's str.title() with "_" replaced by
// " ". Every letter that follows a letter is lower-cased, every other letter is
// title-cased: "int_sum" → "Int Sum", "auth_token" → "Auth Token", "userID" → "Userid".
func Title(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	prevCased := false
	for _, r := range name {
		if prevCased {
			r = unicode.ToLower(r)
		} else {
			r = unicode.ToTitle(r)
		}
		prevCased = unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
		if r == '_' {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}
