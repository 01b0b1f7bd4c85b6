package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/go-chi/chi/v5"

	"magiclinks/web"
)

// mountPages adds the sign-in page routes: GET /, GET /sign-in, their
// assets under GET /assets/{name}, GET /config.json and GET /me.
func mountPages(r chi.Router, d Deps) {
	p, err := newPages(d, web.FS)
	if err != nil {
		// The pages are compiled in; this is a build mistake, which the
		// package's tests catch before any deploy.
		panic(err)
	}
	me := &meHandler{tokens: d.Tokens}
	r.Group(func(r chi.Router) {
		r.Use(p.securityHeaders)
		r.Get("/", p.serveFile("index.html", "no-cache"))
		// no-store: the page the link opens is never kept, nor is what it shows.
		r.Get("/sign-in", p.serveFile("sign-in.html", "no-store"))
		r.Get("/assets/{name}", handle(p.serveAsset))
		r.Get("/config.json", handle(p.serveConfig))
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
	files map[string]asset // by path in the embedded FS
	csp   string
	// config is the encoded /config.json, or nil with configErr saying why.
	config    []byte
	configErr *Error
}

func newPages(d Deps, fsys fs.FS) (*pages, error) {
	p := &pages{files: map[string]asset{}}
	err := fs.WalkDir(fsys, ".", func(name string, e fs.DirEntry, err error) error {
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
		sum := sha256.Sum256(b)
		p.files[name] = asset{body: b, contentType: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded pages: %w", err)
	}
	for _, name := range []string{"index.html", "sign-in.html"} {
		if _, ok := p.files[name]; !ok {
			return nil, fmt.Errorf("embedded pages: %s is missing", name)
		}
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

func (p *pages) serveFile(name, cacheControl string) http.HandlerFunc {
	a := p.files[name]
	return func(w http.ResponseWriter, r *http.Request) {
		p.write(w, r, a, cacheControl)
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
