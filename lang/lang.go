// Package lang picks the language of a mail or a page from the request's
// Accept-Language header (RFC 9110 §12.5.4). It is pure: no I/O, stdlib only.
//
// It deliberately does not use golang.org/x/text/language: with four
// languages that differ in their primary subtag, "highest quality first,
// region falls back to its language" is all the matching there is, and a
// twenty-line rule that reads in one sitting is easier to trust than a
// matcher whose confidence levels and script inference would then need tests
// of their own (and tables in the Lambda binary).
package lang

import (
	"slices"
	"strings"
)

// Default is the language used when the request names none we speak.
const Default = "en"

// supported are the languages the product ships, Default first.
var supported = []string{Default, "de", "fr", "es"}

// Supported returns the languages the product ships mail and pages in,
// Default first.
func Supported() []string { return slices.Clone(supported) }

// maxRanges bounds the work one header can cause; real browsers send a
// handful of ranges.
const maxRanges = 32

// Negotiate returns the supported language the Accept-Language header value
// prefers, or supported[0] when it names none of them (or supported[0] is
// all there is).
//
// The ranges are tried from the highest quality down, ties in the order
// written. A range matches a supported language when their primary subtags
// agree, case-insensitively, so "de-CH" picks "de" and "zh-Hant-TW" would
// pick "zh". "*" picks supported[0]. A range with q=0 never picks anything;
// a malformed range (bad tag, bad q) is skipped, the rest still count.
// supported holds plain primary subtags ("en", "de").
func Negotiate(acceptLanguage string, supported []string) string {
	if len(supported) == 0 {
		return ""
	}
	type weighted struct {
		tag string
		q   int // thousandths
	}
	var ranges []weighted
	for i, item := range strings.Split(acceptLanguage, ",") {
		if i == maxRanges {
			break
		}
		tag, q, ok := parseRange(item)
		if ok && q > 0 {
			ranges = append(ranges, weighted{tag, q})
		}
	}
	slices.SortStableFunc(ranges, func(a, b weighted) int { return b.q - a.q })
	for _, r := range ranges {
		if r.tag == "*" {
			return supported[0]
		}
		primary, _, _ := strings.Cut(r.tag, "-")
		for _, s := range supported {
			if strings.EqualFold(primary, s) {
				return s
			}
		}
	}
	return supported[0]
}

// parseRange reads one `language-range [; q=qvalue]`; other parameters are
// not defined for Accept-Language and make the range malformed.
func parseRange(item string) (tag string, q int, ok bool) {
	tag, params, hasParams := strings.Cut(item, ";")
	tag = strings.TrimSpace(tag)
	if !validRange(tag) {
		return "", 0, false
	}
	if !hasParams {
		return tag, 1000, true
	}
	name, value, found := strings.Cut(strings.TrimSpace(params), "=")
	if !found || !strings.EqualFold(strings.TrimSpace(name), "q") {
		return "", 0, false
	}
	q, ok = parseQ(strings.TrimSpace(value))
	return tag, q, ok
}

// validRange: "*" or 1*8ALPHA *("-" 1*8alphanum) (RFC 4647 §2.1).
func validRange(tag string) bool {
	if tag == "*" {
		return true
	}
	for i, sub := range strings.Split(tag, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for _, c := range sub {
			alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !alpha && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// parseQ reads a qvalue: "0" to "1" with at most three decimals (RFC 9110
// §12.4.2), in thousandths.
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) > 1 {
		if s[1] != '.' {
			return 0, false
		}
		scale := 100
		for _, c := range s[2:] {
			if c < '0' || c > '9' {
				return 0, false
			}
			q += int(c-'0') * scale
			scale /= 10
		}
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}
