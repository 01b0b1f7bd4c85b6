package e2e

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// pageIn is GET path from a browser set to acceptLanguage ("" for none).
func (s *server) pageIn(t *testing.T, path, acceptLanguage, ifNoneMatch string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// A German browser gets the German mail and German pages, through the real
// binary: the page, its scripts' words, and headers that keep caches from
// mixing the languages up.
func TestPagesInTheBrowsersLanguage(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	const german = "de-CH,de;q=0.9"

	if mail := s.loginIn(t, "lena@example.com", german); mail.Lang != "de" {
		t.Errorf("the German browser's mail is in %q", mail.Lang)
	}
	tests := map[string]struct {
		path, acceptLanguage, lang string
		want                       []string // in the page
	}{
		"form, German":        {"/", german, "de", []string{"<title>Anmelden</title>", "Prüfen Sie Ihr Postfach", `"waiting":"Warten auf das andere Gerät…"`}},
		"link page, German":   {"/sign-in", german, "de", []string{"Anmeldung abschließen", "Auf diesem Gerät anmelden", `"usedTitle":"Dieser Link ist abgelaufen oder wurde bereits verwendet"`}},
		"link page, Spanish":  {"/sign-in", "es-MX,es;q=0.9", "es", []string{"Terminar de iniciar sesión", `"approving":"Aprobando…"`}},
		"form, French":        {"/", "fr-CA", "fr", []string{"Consultez votre boîte de réception"}},
		"form, Japanese":      {"/", "ja-JP,ja;q=0.9", "en", []string{"Check your inbox", `"waiting":"Waiting for the other device…"`}},
		"form, malformed":     {"/", "de;q=2, ;;", "en", []string{"Check your inbox"}},
		"link page, none set": {"/sign-in", "", "en", []string{"Finish signing in"}},
	}
	etags := map[string]string{}
	for name, tc := range tests {
		res, body := s.pageIn(t, tc.path, tc.acceptLanguage, "")
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: GET %s = %d", name, tc.path, res.StatusCode)
			continue
		}
		if !strings.Contains(body, `<html lang="`+tc.lang+`">`) {
			t.Errorf("%s: want <html lang=%q>; page starts %.80q", name, tc.lang, body)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page lacks %q", name, w)
			}
		}
		if got := res.Header.Get("Content-Language"); got != tc.lang {
			t.Errorf("%s: Content-Language %q, want %q", name, got, tc.lang)
		}
		if !slices.Contains(res.Header.Values("Vary"), "Accept-Language") {
			t.Errorf("%s: Vary %q lacks Accept-Language", name, res.Header.Values("Vary"))
		}
		if csp := res.Header.Get("Content-Security-Policy"); csp == "" || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", name, csp)
		}
		if regexp.MustCompile(`(?i)<script>`).MatchString(body) {
			t.Errorf("%s: a script element without type or src", name)
		}
		etags[tc.path+" "+tc.lang] = res.Header.Get("ETag")
	}
	if etags["/ de"] == "" || etags["/ de"] == etags["/ en"] {
		t.Errorf("the German and English forms have ETags %q and %q, want two", etags["/ de"], etags["/ en"])
	}
	// Revalidating the English page from a German browser gets German.
	if res, body := s.pageIn(t, "/", german, etags["/ en"]); res.StatusCode != http.StatusOK || !strings.Contains(body, `<html lang="de">`) {
		t.Errorf("German browser with the English ETag: %d, want 200 with the German page", res.StatusCode)
	}
	if res, _ := s.pageIn(t, "/", german, etags["/ de"]); res.StatusCode != http.StatusNotModified {
		t.Errorf("German browser with the German ETag: %d, want 304", res.StatusCode)
	}
}
