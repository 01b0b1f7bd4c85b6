package handlers

import (
	"encoding/json"
	"io/fs"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"magiclinks/lang"
	"magiclinks/web"
)

// The pages speak the language Accept-Language prefers (lang.Negotiate; its
// own tests hold the header's edge cases) and say which one they chose.
func TestPagesLanguage(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	tests := map[string]struct {
		header []string // Accept-Language values; nil: none
		want   string
		title  map[string]string // by path
	}{
		"no header":      {want: "en", title: map[string]string{"/": "Sign in", "/sign-in": "Signing in"}},
		"Swiss German":   {header: []string{"de-CH,de;q=0.9"}, want: "de", title: map[string]string{"/": "Anmelden", "/sign-in": "Anmeldung"}},
		"French":         {header: []string{"fr-FR,fr;q=0.9,en;q=0.8"}, want: "fr", title: map[string]string{"/": "Connexion", "/sign-in": "Connexion en cours"}},
		"quality wins":   {header: []string{"en;q=0.4, es;q=0.8"}, want: "es", title: map[string]string{"/": "Iniciar sesión", "/sign-in": "Iniciando sesión"}},
		"unknown":        {header: []string{"ja-JP,ja;q=0.9"}, want: "en", title: map[string]string{"/": "Sign in"}},
		"malformed":      {header: []string{"de;q=abc, ;;, ="}, want: "en", title: map[string]string{"/": "Sign in"}},
		"garbage":        {header: []string{"\x00\xff<script>"}, want: "en", title: map[string]string{"/sign-in": "Signing in"}},
		"refused (q=0)":  {header: []string{"de;q=0, fr;q=0.1"}, want: "fr", title: map[string]string{"/": "Connexion"}},
		"empty":          {header: []string{""}, want: "en", title: map[string]string{"/": "Sign in"}},
		"wildcard only":  {header: []string{"*"}, want: "en", title: map[string]string{"/": "Sign in"}},
		"Latin American": {header: []string{"es-419"}, want: "es", title: map[string]string{"/sign-in": "Iniciando sesión"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for path, title := range tc.title {
				rec := pagesGet(t, h, path, http.Header{"Accept-Language": tc.header})
				if tc.header == nil {
					rec = pagesGet(t, h, path, nil)
				}
				if rec.Code != http.StatusOK {
					t.Fatalf("GET %s = %d", path, rec.Code)
				}
				body := rec.Body.String()
				if !strings.Contains(body, `<html lang="`+tc.want+`">`) {
					t.Errorf("GET %s: want <html lang=%q>, page starts %.80q", path, tc.want, body)
				}
				if !strings.Contains(body, "<title>"+title+"</title>") {
					t.Errorf("GET %s: want the title %q", path, title)
				}
				if got := rec.Header().Get("Content-Language"); got != tc.want {
					t.Errorf("GET %s: Content-Language = %q, want %q", path, got, tc.want)
				}
				if got := rec.Header().Values("Vary"); !slices.Contains(got, "Accept-Language") {
					t.Errorf("GET %s: Vary = %q, want Accept-Language", path, got)
				}
			}
		})
	}
}

// Each language of a page has its own ETag, so a cache or a browser that
// revalidates never gets a 304 for a page in another language.
func TestPagesETagPerLanguage(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	for _, path := range []string{"/", "/sign-in"} {
		etags := map[string]string{}
		for _, l := range lang.Supported() {
			etag := pagesGet(t, h, path, http.Header{"Accept-Language": {l}}).Header().Get("ETag")
			if etag == "" {
				t.Fatalf("GET %s in %s: no ETag", path, l)
			}
			for other, e := range etags {
				if e == etag {
					t.Errorf("GET %s: %s and %s share the ETag %s", path, l, other, etag)
				}
			}
			etags[l] = etag
		}
		de := http.Header{"Accept-Language": {"de"}}
		de.Set("If-None-Match", etags["en"])
		if rec := pagesGet(t, h, path, de); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<html lang="de">`) {
			t.Errorf("GET %s in German with the English ETag = %d, want 200 and the German page", path, rec.Code)
		}
		de.Set("If-None-Match", etags["de"])
		rec := pagesGet(t, h, path, de)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("GET %s in German with the German ETag = %d (%d bytes), want an empty 304", path, rec.Code, rec.Body.Len())
		}
		if rec.Header().Get("Content-Language") != "de" || !slices.Contains(rec.Header().Values("Vary"), "Accept-Language") {
			t.Errorf("GET %s 304: Content-Language %q, Vary %q", path, rec.Header().Get("Content-Language"), rec.Header().Values("Vary"))
		}
	}
}

// The words are data: the JSON block holds what the page's script says, the
// CSP still allows no inline code at all.
func TestPagesMessagesBlockAndCSP(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	catalogs := readCatalogs(t)
	for _, page := range pageNames {
		path := map[string]string{"index": "/", "sign-in": "/sign-in"}[page]
		for _, l := range lang.Supported() {
			rec := pagesGet(t, h, path, http.Header{"Accept-Language": {l}})
			csp := rec.Header().Get("Content-Security-Policy")
			for _, bad := range []string{"unsafe-inline", "unsafe-eval", "nonce-", "sha256-", "script-src"} {
				if strings.Contains(csp, bad) {
					t.Errorf("%s (%s): the CSP has %q: %s", path, l, bad, csp)
				}
			}
			if !strings.HasPrefix(csp, "default-src 'self';") || !strings.Contains(csp, "style-src 'self';") {
				t.Errorf("%s (%s): CSP %q, want scripts and styles from 'self' only", path, l, csp)
			}
			m := regexp.MustCompile(`<script type="application/json" id="messages">(.*?)</script>`).FindStringSubmatch(rec.Body.String())
			if m == nil {
				t.Fatalf("%s (%s): no messages block", path, l)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
				t.Fatalf("%s (%s): messages block: %v", path, l, err)
			}
			if want := catalogs[l][page+".js"]; !maps.Equal(got, want) {
				t.Errorf("%s (%s): the block holds %d messages, not the %d of i18n/%s.json %q", path, l, len(got), len(want), l, page+".js")
			}
		}
	}
}

// sameAsEnglish are the messages a language may leave as in English, each
// with the reason. None so far: every message of the pages is a phrase, and
// a word that happens to be the same ("Code", "OK") would go here with why.
var sameAsEnglish = map[string]string{
	// "de index.js.example": "a word German shares with English",
}

// Every language has exactly en's sections and keys, the same {placeholders}
// in each message, and nothing left in English.
func TestPageTranslationsMatchEnglish(t *testing.T) {
	t.Parallel()
	catalogs := readCatalogs(t)
	en := catalogs["en"]
	used := map[string]bool{}
	for _, l := range lang.Supported()[1:] {
		t.Run(l, func(t *testing.T) {
			c := catalogs[l]
			for section, keys := range en {
				for key, enText := range keys {
					id := l + " " + section + "." + key
					text, ok := c[section][key]
					if !ok {
						t.Errorf("%s is missing", id)
						continue
					}
					if p, e := placeholders(text), placeholders(enText); !slices.Equal(p, e) {
						t.Errorf("%s has placeholders %q, en has %q", id, p, e)
					}
					if text == enText {
						if _, ok := sameAsEnglish[id]; !ok {
							t.Errorf("%s is the English text %q", id, text)
						}
						used[id] = true
					} else if strings.TrimSpace(text) == "" {
						t.Errorf("%s is empty", id)
					}
				}
			}
			for section, keys := range c {
				for key := range keys {
					if _, ok := en[section][key]; !ok {
						t.Errorf("%s %s.%s is not in en.json", l, section, key)
					}
				}
			}
		})
	}
	t.Cleanup(func() {
		for id := range sameAsEnglish {
			if !used[id] {
				t.Errorf("sameAsEnglish lists %s, which is translated now (or gone): drop it", id)
			}
		}
	})
}

// Every key the pages and their scripts name is in the catalog, and every
// key of the catalog is named somewhere: no dead words to translate.
func TestPageKeysAreUsed(t *testing.T) {
	t.Parallel()
	en := readCatalogs(t)["en"]
	tmplKey := regexp.MustCompile(`\{\{(?:with )?(?:t|around) "([A-Za-z]+)"`)
	jsKey := regexp.MustCompile(`\bt\('([A-Za-z]+)'`)
	// sign-in.js names each failure's messages as ERRORS[kind].key plus
	// "Title" and "Text".
	errorKey := regexp.MustCompile(`\bkey: '([A-Za-z]+)'`)
	for _, page := range pageNames {
		named := map[string]map[string]bool{page: {}, page + ".js": {}}
		html, err := fs.ReadFile(web.FS, page+".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tmplKey.FindAllStringSubmatch(string(html), -1) {
			named[page][m[1]] = true
		}
		js, err := fs.ReadFile(web.FS, "assets/"+page+".js")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range jsKey.FindAllStringSubmatch(string(js), -1) {
			named[page+".js"][m[1]] = true
		}
		for _, m := range errorKey.FindAllStringSubmatch(string(js), -1) {
			named[page+".js"][m[1]+"Title"] = true
			named[page+".js"][m[1]+"Text"] = true
		}
		for section, keys := range named {
			if len(keys) == 0 {
				t.Errorf("%s names no keys: is the pattern of this test out of date?", section)
			}
			for key := range keys {
				if _, ok := en[section][key]; !ok {
					t.Errorf("%s names %q, which i18n/en.json's %q lacks", section, key, section)
				}
			}
			for key := range en[section] {
				if !keys[key] {
					t.Errorf("i18n/en.json %s.%s is named nowhere", section, key)
				}
			}
		}
	}
	if len(en) != 2*len(pageNames) {
		t.Errorf("i18n/en.json has sections %q, want a page and a .js section per page", slices.Sorted(maps.Keys(en)))
	}
}

// A build with a gap in its words does not start: renderPages refuses it
// and names what is wrong.
func TestRenderPagesRefusesGaps(t *testing.T) {
	t.Parallel()
	good := func() fstest.MapFS {
		fsys := fstest.MapFS{
			"index.html":   {Data: []byte(`<html lang="{{.Lang}}"><p>{{with around "who"}}{{.Before}}<b></b>{{.After}}{{end}}</p><script type="application/json">{{.Messages}}</script>`)},
			"sign-in.html": {Data: []byte(`<html lang="{{.Lang}}"><title>{{t "title"}}</title>`)},
		}
		for _, l := range lang.Supported() {
			fsys["i18n/"+l+".json"] = &fstest.MapFile{Data: []byte(`{"index": {"who": "` + l + ` {email}"}, "index.js": {"x": "` + l + `"},
				"sign-in": {"title": "` + l + `"}, "sign-in.js": {}}`)}
		}
		return fsys
	}
	if _, err := renderPages(good()); err != nil {
		t.Fatalf("the good pages: %v", err)
	}
	tests := map[string]struct {
		file, data string
		want       string
	}{
		"a key missing":           {"i18n/fr.json", `{"index": {"who": "{email}"}, "index.js": {}, "sign-in": {"title": "t"}, "sign-in.js": {}}`, "i18n/fr.json: index.js.x is missing"},
		"a key en lacks":          {"i18n/de.json", `{"index": {"who": "{email}", "new": "n"}, "index.js": {"x": "x"}, "sign-in": {"title": "t"}, "sign-in.js": {}}`, "i18n/de.json: index.new is not in en.json"},
		"another placeholder":     {"i18n/es.json", `{"index": {"who": "{mail}"}, "index.js": {"x": "x"}, "sign-in": {"title": "t"}, "sign-in.js": {}}`, `i18n/es.json: index.who has placeholders ["{mail}"], en has ["{email}"]`},
		"not JSON":                {"i18n/de.json", `{"index": `, "i18n/de.json: unexpected end of JSON input"},
		"an unknown key":          {"sign-in.html", `<title>{{t "titel"}}</title>`, `has no "titel" in "sign-in"`},
		"an unknown key (around)": {"index.html", `<p>{{t "who"}}</p>{{with around "nope"}}{{end}}`, `has no "nope" in "index"`},
		"a template error":        {"index.html", `{{t "who"`, "unclosed action"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fsys := good()
			fsys[tc.file] = &fstest.MapFile{Data: []byte(tc.data)}
			_, err := renderPages(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("renderPages = %v, want an error with %q", err, tc.want)
			}
		})
	}
	// around needs exactly one placeholder: en's message with two.
	fsys := good()
	for _, l := range lang.Supported() {
		fsys["i18n/"+l+".json"] = &fstest.MapFile{Data: []byte(`{"index": {"who": "{a} {b}"}, "index.js": {"x": "x"}, "sign-in": {"title": "t"}, "sign-in.js": {}}`)}
	}
	if _, err := renderPages(fsys); err == nil || !strings.Contains(err.Error(), "needs exactly one {placeholder}") {
		t.Errorf("two placeholders for around: %v", err)
	}
}

func readCatalogs(t *testing.T) map[string]catalog {
	t.Helper()
	out := map[string]catalog{}
	for _, l := range lang.Supported() {
		b, err := fs.ReadFile(web.FS, "i18n/"+l+".json")
		if err != nil {
			t.Fatal(err)
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("i18n/%s.json: %v", l, err)
		}
		out[l] = c
	}
	return out
}

func placeholders(s string) []string {
	return slices.Sorted(slices.Values(placeholder.FindAllString(s, -1)))
}
