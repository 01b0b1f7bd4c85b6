package lang_test

import (
	"slices"
	"strings"
	"testing"

	"magiclinks/lang"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		header, want string
	}{
		"empty":                    {"", "en"},
		"plain":                    {"de", "de"},
		"region falls back":        {"de-CH", "de"},
		"browser default":          {"de-CH,de;q=0.9,en;q=0.5", "de"},
		"case-insensitive":         {"FR-ca", "fr"},
		"script and region":        {"es-Latn-419", "es"},
		"quality beats order":      {"en;q=0.5, es;q=0.8", "es"},
		"ties keep order":          {"fr;q=0.7, de;q=0.7", "fr"},
		"implicit q=1":             {"es;q=0.9, de", "de"},
		"unknown then known":       {"ja, ko;q=0.9, fr;q=0.1", "fr"},
		"only unknown":             {"ja-JP, zh;q=0.8", "en"},
		"q=0 refuses":              {"de;q=0, fr;q=0.1", "fr"},
		"q=0 only":                 {"de;q=0", "en"},
		"star":                     {"*", "en"},
		"star after a known":       {"es, *;q=0.5", "es"},
		"known after star":         {"*, de;q=0.5", "en"},
		"spaces everywhere":        {"  de-AT ;  q=0.8 , fr ; q=0.9 ", "fr"},
		"three decimals":           {"de;q=0.001, fr;q=0.002", "fr"},
		"q=1.000":                  {"de;q=0.9, es;q=1.000", "es"},
		"q above one is malformed": {"de;q=2, fr;q=0.5", "fr"},
		"q too precise":            {"de;q=0.0001, fr;q=0.5", "fr"},
		"q not a number":           {"de;q=abc, es", "es"},
		"q empty":                  {"de;q=, es;q=0.1", "es"},
		"other parameter":          {"de;level=1, fr;q=0.1", "fr"},
		"negative q":               {"de;q=-1, fr;q=0.2", "fr"},
		"garbage":                  {"!!!, ;;;, ===", "en"},
		"subtag too long":          {"deutschland-CH, es;q=0.3", "es"},
		"digit in primary":         {"d3, fr;q=0.3", "fr"},
		"empty subtag":             {"de--CH, fr;q=0.3", "fr"},
		"trailing comma":           {"de,", "de"},
		"only commas":              {",,,", "en"},
		"private use":              {"x-klingon, i-default", "en"},
		"control characters":       {"de\x00, fr\t;q=0.1", "fr"},
		"non-ASCII":                {"dé, es;q=0.1", "es"},
		"prefix is not a match":    {"den, d, e", "en"},
		"many ranges, late match":  {strings.Repeat("ja,", 40) + "de", "en"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := lang.Negotiate(tc.header, lang.Supported()); got != tc.want {
				t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

func TestNegotiateSupportedFirstIsDefault(t *testing.T) {
	t.Parallel()
	if got := lang.Negotiate("it", []string{"fr", "de"}); got != "fr" {
		t.Errorf("got %q, want the first supported, fr", got)
	}
	if got := lang.Negotiate("de", nil); got != "" {
		t.Errorf("with nothing supported got %q, want \"\"", got)
	}
}

func TestSupported(t *testing.T) {
	t.Parallel()
	s := lang.Supported()
	if !slices.Equal(s, []string{"en", "de", "fr", "es"}) || s[0] != lang.Default {
		t.Fatalf("Supported() = %q", s)
	}
	s[0] = "xx" // a copy: callers cannot change the product's list
	if lang.Supported()[0] != lang.Default {
		t.Error("Supported() hands out its own slice")
	}
}

// Whatever the header, the answer is one of the supported languages.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "de-CH,de;q=0.9,en;q=0.5", "*;q=0", "fr;q=1.", "es;q=0.123", ",;=,", "x-a-b-c-d"} {
		f.Add(s)
	}
	supported := lang.Supported()
	f.Fuzz(func(t *testing.T, header string) {
		if got := lang.Negotiate(header, supported); !slices.Contains(supported, got) {
			t.Fatalf("Negotiate(%q) = %q, not a supported language", header, got)
		}
	})
}
