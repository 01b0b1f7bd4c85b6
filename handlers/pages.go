package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"magiclinks/lang"
	"magiclinks/web"
)

// mountPages adds the sign-in page routes: GET /, GET /sign-in, their
// assets under GET /assets/{name}, GET /config.json and GET /me.
func mountPages(r chi.Router, d Deps) {
	// The pages are rendered on the first request that needs them, not at
	// start: a function's first event is often a trigger, which needs none,
	// and rendering every page in every language is most of the router's
	// init. They are compiled in and checked by this package's tests, so a
	// failure here is a build mistake.
	get := sync.OnceValue(func() *pages {
		p, err := newPages(d, web.FS)
		if err != nil {
			panic(err)
		}
		return p
	})
	me := &meHandler{tokens: d.Tokens}
	r.Group(func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				get().securityHeaders(next).ServeHTTP(w, r)
			})
		})
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { get().servePage("index", "no-cache")(w, r) })
		// no-store: the page the link opens is never kept, nor is what it shows.
		r.Get("/sign-in", func(w http.ResponseWriter, r *http.Request) { get().servePage("sign-in", "no-store")(w, r) })
		r.Get("/assets/{name}", handle(func(w http.ResponseWriter, r *http.Request) error { return get().serveAsset(w, r) }))
		r.Get("/config.json", handle(func(w http.ResponseWriter, r *http.Request) error { return get().serveConfig(w, r) }))
		r.Get("/me", handle(me.serve))
	})
}

// pageConfig is GET /config.json: what the sign-in page (or a team's own
// front end) needs to call Cognito itself.
type pageConfig struct {
	Region          string `json:"region"`
	UserPoolID      string `json:"userPoolId"`
	ClientID        string `json:"clientId"`
	CognitoEndpoint string `json:"cognitoEndpoint"`
	// CrossDevice: GET /login/{request} and POST /approve work; Codes: the
	// mail carries a code to type. Both need a link store that compares and
	// sets (DynamoDB; in process under make dev), not the Cognito attribute.
	CrossDevice bool `json:"crossDevice"`
	Codes       bool `json:"codes"`
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

type pages struct {
	files map[string]asset // the assets, by path in the embedded FS ("assets/style.css")
	// html holds each page ("index", "sign-in") rendered in each language.
	html map[string]map[string]asset
	csp  string
	// config is the encoded /config.json, or nil with configErr saying why.
	config    []byte
	configErr *Error
}

func newPages(d Deps, fsys fs.FS) (*pages, error) {
	p := &pages{files: map[string]asset{}}
	err := fs.WalkDir(fsys, "assets", func(name string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(name))
		switch path.Ext(name) { // not left to the host's mime tables
		case ".html":
			ct = "text/html; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		p.files[name] = newAsset(b, ct)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded pages: %w", err)
	}
	if p.html, err = renderPages(fsys); err != nil {
		return nil, fmt.Errorf("embedded pages: %w", err)
	}

	cfg := pageConfig{
		Region:          d.Region,
		UserPoolID:      d.Config.UserPoolID,
		ClientID:        d.Config.UserPoolClientID,
		CognitoEndpoint: CognitoEndpoint(d.Config.CognitoEndpoint, d.Region),
		CrossDevice:     d.Approvals != nil,
		Codes:           d.Codes,
	}
	switch {
	case cfg.ClientID == "":
		p.configErr = &Error{Status: http.StatusServiceUnavailable, Code: "not_configured",
			Message: "sign-in is not configured: USER_POOL_CLIENT_ID is not set"}
	case cfg.CognitoEndpoint == "":
		p.configErr = &Error{Status: http.StatusServiceUnavailable, Code: "not_configured",
			Message: "sign-in is not configured: neither the AWS region nor COGNITO_ENDPOINT is set"}
	default:
		p.config, _ = json.Marshal(cfg) // strings and booleans: cannot fail
	}

	connect := "'self'"
	if u, err := url.Parse(cfg.CognitoEndpoint); err == nil && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	p.csp = "default-src 'self'; connect-src " + connect +
		"; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	return p, nil
}

// CognitoEndpoint is the Cognito user-pool endpoint the browser calls: the
// configured one, else the region's public one ("" when neither is known).
func CognitoEndpoint(configured, region string) string {
	if configured != "" {
		return configured
	}
	if region == "" {
		return ""
	}
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://cognito-idp." + region + "." + domain + "/"
}

// securityHeaders lets the pages run only their own scripts and styles, talk
// only to us and Cognito, never be framed, and leak nothing in Referer.
func (p *pages) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", p.csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// newAsset is body with its ETag: a hash of the bytes served, so each
// language of a page has its own.
func newAsset(body []byte, contentType string) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// servePage serves page in the language the request's Accept-Language
// prefers (DESIGN.md "Contract: templates and languages"), the way POST
// /login picks the mail's. Vary tells caches that the header chose the
// body; the ETag differs per language, so a revalidation never hands one
// language's page to another.
func (p *pages) servePage(page, cacheControl string) http.HandlerFunc {
	byLang := p.html[page]
	return func(w http.ResponseWriter, r *http.Request) {
		l := lang.Negotiate(r.Header.Get("Accept-Language"), lang.Supported())
		h := w.Header()
		h.Set("Content-Language", l)
		h.Add("Vary", "Accept-Language")
		p.write(w, r, byLang[l], cacheControl)
	}
}

// serveAsset serves /assets/{name}. The assets are revalidated on each use
// (no-cache + ETag, so a 304 when unchanged): the pages load them by fixed
// names, and a deploy must not pair new HTML with an old cached script.
func (p *pages) serveAsset(w http.ResponseWriter, r *http.Request) error {
	a, ok := p.files["assets/"+chi.URLParam(r, "name")]
	if !ok {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such asset"}
	}
	p.write(w, r, a, "no-cache")
	return nil
}

func (p *pages) write(w http.ResponseWriter, r *http.Request, a asset, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(a.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// serveConfig is GET /config.json. Without USER_POOL_CLIENT_ID the page
// cannot sign in, so it says so plainly; /login and the triggers still work.
func (p *pages) serveConfig(w http.ResponseWriter, r *http.Request) error {
	if p.configErr != nil {
		return p.configErr
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// Short: it changes only with a deploy, and a stale client ID breaks
	// sign-in until it expires.
	h.Set("Cache-Control", "public, max-age=60")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.config)
	return nil
}

// pageNames are the pages, each web/<name>.html; the catalogs' section
// <name> holds its words and <name>.js what its script says.
var pageNames = []string{"index", "sign-in"}

// placeholder is a {name} in a message, filled in by the page or its script.
var placeholder = regexp.MustCompile(`\{[A-Za-z]+\}`)

// catalog is one language's words: section → key → message.
type catalog map[string]map[string]string

// renderPages renders every page in every language, once: the pages are
// static per language, so serving one is a map lookup. Any gap — a
// catalog that does not parse, lacks a key of en's or has one en lacks,
// changes a placeholder, or a page that names an unknown key — is an error,
// so a half-translated build never starts.
func renderPages(fsys fs.FS) (map[string]map[string]asset, error) {
	catalogs := map[string]catalog{}
	for _, l := range lang.Supported() {
		b, err := fs.ReadFile(fsys, "i18n/"+l+".json")
		if err != nil {
			return nil, err
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", l, err)
		}
		catalogs[l] = c
	}
	en := catalogs[lang.Default]
	for l, c := range catalogs {
		if err := sameKeys(en, c); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", l, err)
		}
	}

	out := map[string]map[string]asset{}
	for _, name := range pageNames {
		src, err := fs.ReadFile(fsys, name+".html")
		if err != nil {
			return nil, err
		}
		// The functions are replaced per language below; these only let
		// the template parse.
		base, err := template.New(name).Funcs(template.FuncMap{"t": noWords, "around": noWords}).Parse(string(src))
		if err != nil {
			return nil, err
		}
		out[name] = map[string]asset{}
		for l, c := range catalogs {
			words := c[name]
			t := func(key string) (string, error) {
				s, ok := words[key]
				if !ok {
					return "", fmt.Errorf("i18n/%s.json has no %q in %q", l, key, name)
				}
				return s, nil
			}
			// around splits a message at its one placeholder, for the
			// element the page puts there ("If {email} can sign in").
			around := func(key string) (split struct{ Before, After string }, err error) {
				s, err := t(key)
				if err != nil {
					return split, err
				}
				loc := placeholder.FindAllStringIndex(s, -1)
				if len(loc) != 1 {
					return split, fmt.Errorf("i18n/%s.json: %s.%s needs exactly one {placeholder}: %q", l, name, key, s)
				}
				split.Before, split.After = s[:loc[0][0]], s[loc[0][1]:]
				return split, nil
			}
			tmpl, err := base.Clone()
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			data := struct {
				Lang string
				// Messages go into a <script type="application/json">
				// block, which html/template escapes as JSON.
				Messages map[string]string
			}{l, c[name+".js"]}
			if err := tmpl.Funcs(template.FuncMap{"t": t, "around": around}).Execute(&buf, data); err != nil {
				return nil, fmt.Errorf("%s.html in %s: %w", name, l, err)
			}
			out[name][l] = newAsset(buf.Bytes(), "text/html; charset=utf-8")
		}
	}
	return out, nil
}

func noWords(string) (string, error) { return "", nil }

// sameKeys reports the first difference of c from en: a section or key
// missing or extra, or a message whose placeholders are not en's.
func sameKeys(en, c catalog) error {
	for _, section := range slices.Sorted(maps.Keys(en)) {
		for _, key := range slices.Sorted(maps.Keys(en[section])) {
			s, ok := c[section][key]
			if !ok {
				return fmt.Errorf("%s.%s is missing", section, key)
			}
			want := slices.Sorted(slices.Values(placeholder.FindAllString(en[section][key], -1)))
			if got := slices.Sorted(slices.Values(placeholder.FindAllString(s, -1))); !slices.Equal(got, want) {
				return fmt.Errorf("%s.%s has placeholders %q, en has %q", section, key, got, want)
			}
		}
	}
	for section, keys := range c {
		for key := range keys {
			if _, ok := en[section][key]; !ok {
				return fmt.Errorf("%s.%s is not in en.json", section, key)
			}
		}
	}
	return nil
}
