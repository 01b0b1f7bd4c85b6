package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"magiclinks/config"
	"magiclinks/lang"
	"magiclinks/links"
)

// pagesDeps is a configured deployment as main wires it, minus the parts the
// page routes do not use.
func pagesDeps() Deps {
	return Deps{
		Config: config.Config{
			UserPoolID:       "eu-west-1_AbCdEf123",
			UserPoolClientID: "3n4b5urk1ft4fl3mg5e4example",
			SignInURL:        "https://auth.example.com/sign-in",
			AllowedOrigins:   []string{"https://auth.example.com"},
		},
		Region: "eu-west-1",
	}
}

func pagesGet(t *testing.T, h http.Handler, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPagesServeHTMLWithStrictHeaders(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	tests := map[string]struct {
		path         string
		cacheControl string
		mustContain  []string
	}{
		"address form": {
			path: "/", cacheControl: "no-cache",
			mustContain: []string{`<label for="email">`, `type="email"`, `src="assets/index.js"`, "Check your inbox"},
		},
		"sign-in page": {
			path: "/sign-in", cacheControl: "no-store",
			mustContain: []string{`src="assets/sign-in.js"`, `id="continue"`, `id="sign-out"`, `id="new-link"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := pagesGet(t, h, tc.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", tc.path, rec.Code)
			}
			want := map[string]string{
				"Content-Type":            "text/html; charset=utf-8",
				"Cache-Control":           tc.cacheControl,
				"Referrer-Policy":         "no-referrer",
				"X-Content-Type-Options":  "nosniff",
				"Content-Security-Policy": "default-src 'self'; connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
			}
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			body := rec.Body.String()
			for _, s := range tc.mustContain {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
}

// The CSP forbids inline script and style; a page that relied on them would
// silently break in the browser, so catch it here.
var (
	inlineScript   = regexp.MustCompile(`(?i)<script\b[^>]*>\s*[^<\s]`)
	inlineHandler  = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	inlineStyle    = regexp.MustCompile(`(?i)<style\b|\sstyle\s*=`)
	javascriptHref = regexp.MustCompile(`(?i)href\s*=\s*["']?\s*javascript:`)
	assetRef       = regexp.MustCompile(`(?:src|href)="(assets/[^"]+)"`)
	jsImport       = regexp.MustCompile(`from '\./([a-z-]+\.js)'`)
)

func TestPagesHaveNoInlineCode(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	for _, path := range []string{"/", "/sign-in"} {
		for _, l := range lang.Supported() {
			body := pagesGet(t, h, path, http.Header{"Accept-Language": {l}}).Body.String()
			// The one script element without src is the page's words: a
			// JSON data block, which the browser never runs (so the CSP
			// needs no exception). It must be nothing else: valid JSON, with
			// no '<' that could end the element or open a comment early.
			blocks := 0
			for _, m := range scriptElement.FindAllStringSubmatch(body, -1) {
				tag, content := m[1], m[2]
				switch {
				case strings.Contains(tag, ` src="`) && content == "":
				case tag == ` type="application/json" id="messages"` && json.Valid([]byte(content)) && !strings.Contains(content, "<"):
					blocks++
				default:
					t.Errorf("%s (%s): a script that is neither a file nor the JSON data block: <script%s>%.60s", path, l, tag, content)
				}
			}
			if blocks != 1 {
				t.Errorf("%s (%s): %d message blocks, want 1", path, l, blocks)
			}
			body = scriptElement.ReplaceAllString(body, "")
			for name, re := range map[string]*regexp.Regexp{
				"inline script": inlineScript, "inline event handler": inlineHandler,
				"inline style": inlineStyle, "javascript: URL": javascriptHref,
			} {
				if m := re.FindString(body); m != "" {
					t.Errorf("%s (%s) has an %s: %q", path, l, name, m)
				}
			}
		}
	}
}

// scriptElement is a whole <script> element: its attributes and content.
var scriptElement = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)

// Every asset a page or script refers to is served, with the right type
// (browsers refuse module scripts served as anything but JavaScript).
func TestPagesAssetsResolve(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	seen := map[string]bool{}
	var queue []string
	for _, path := range []string{"/", "/sign-in"} {
		for _, m := range assetRef.FindAllStringSubmatch(pagesGet(t, h, path, nil).Body.String(), -1) {
			queue = append(queue, "/"+m[1])
		}
	}
	if len(queue) < 4 {
		t.Fatalf("found %d asset references, want the stylesheet and a script per page", len(queue))
	}
	wantType := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		rec := pagesGet(t, h, path, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, rec.Code)
			continue
		}
		ext := path[strings.LastIndex(path, "."):]
		if got := rec.Header().Get("Content-Type"); got != wantType[ext] {
			t.Errorf("%s Content-Type = %q, want %q", path, got, wantType[ext])
		}
		if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s lacks the security headers", path)
		}
		for _, m := range jsImport.FindAllStringSubmatch(rec.Body.String(), -1) {
			queue = append(queue, "/assets/"+m[1])
		}
	}
	if !seen["/assets/common.js"] {
		t.Error("the scripts' import of common.js was not followed")
	}
}

func TestPagesAssetRevalidation(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	first := pagesGet(t, h, "/assets/sign-in.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, first.Header().Get("Cache-Control"))
	}
	tests := map[string]struct {
		ifNoneMatch string
		want        int
	}{
		"same etag":        {etag, http.StatusNotModified},
		"weak same etag":   {"W/" + etag, http.StatusNotModified},
		"one of several":   {`"zzz", ` + etag, http.StatusNotModified},
		"other etag":       {`"zzz"`, http.StatusOK},
		"other file's tag": {pagesGet(t, h, "/assets/index.js", nil).Header().Get("ETag"), http.StatusOK},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := pagesGet(t, h, "/assets/sign-in.js", http.Header{"If-None-Match": {tc.ifNoneMatch}})
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d", rec.Code, tc.want)
			}
			if tc.want == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Error("304 with a body")
			}
		})
	}
}

func TestPagesUnknownAssets(t *testing.T) {
	t.Parallel()
	h := New(pagesDeps())
	for name, path := range map[string]string{
		"unknown":          "/assets/nope.js",
		"the html":         "/assets/index.html",
		"escaped slash":    "/assets/..%2Fweb.go",
		"dot dot":          "/assets/../web.go",
		"the package file": "/assets/web.go",
	} {
		t.Run(name, func(t *testing.T) {
			rec := pagesGet(t, h, path, nil)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("GET %s = %d, want 404", path, rec.Code)
			}
			if !strings.Contains(rec.Body.String(), `"not_found"`) {
				t.Errorf("body %q, want the JSON not_found error", rec.Body.String())
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change     func(*Deps)
		wantStatus int
		want       map[string]any
	}{
		"regional endpoint by default": {
			change:     func(*Deps) {},
			wantStatus: http.StatusOK,
			want: map[string]any{
				"region": "eu-west-1", "userPoolId": "eu-west-1_AbCdEf123",
				"clientId": "3n4b5urk1ft4fl3mg5e4example", "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
				"crossDevice": false, "codes": false,
			},
		},
		"configured endpoint (the local stack)": {
			change:     func(d *Deps) { d.Config.CognitoEndpoint = "http://127.0.0.1:8080/local/cognito" },
			wantStatus: http.StatusOK,
			want: map[string]any{
				"region": "eu-west-1", "userPoolId": "eu-west-1_AbCdEf123",
				"clientId": "3n4b5urk1ft4fl3mg5e4example", "cognitoEndpoint": "http://127.0.0.1:8080/local/cognito",
				"crossDevice": false, "codes": false,
			},
		},
		"with the link store: codes and cross-device approval": {
			change:     func(d *Deps) { d.Approvals, d.Codes = noApprovals{}, true },
			wantStatus: http.StatusOK,
			want: map[string]any{
				"region": "eu-west-1", "userPoolId": "eu-west-1_AbCdEf123",
				"clientId": "3n4b5urk1ft4fl3mg5e4example", "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
				"crossDevice": true, "codes": true,
			},
		},
		"no client ID": {
			change:     func(d *Deps) { d.Config.UserPoolClientID = "" },
			wantStatus: http.StatusServiceUnavailable,
			want:       map[string]any{"error": "not_configured", "message": "sign-in is not configured: USER_POOL_CLIENT_ID is not set"},
		},
		"no region and no endpoint": {
			change:     func(d *Deps) { d.Region = "" },
			wantStatus: http.StatusServiceUnavailable,
			want:       map[string]any{"error": "not_configured", "message": "sign-in is not configured: neither the AWS region nor COGNITO_ENDPOINT is set"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := pagesDeps()
			tc.change(&d)
			rec := pagesGet(t, New(d), "/config.json", nil)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			wantCache := "no-store"
			if tc.wantStatus == http.StatusOK {
				wantCache = "public, max-age=60"
			}
			if got := rec.Header().Get("Cache-Control"); got != wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, wantCache)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("body = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// Without a client ID the pages still load (they explain the problem) and
// /login keeps its own route: only /config.json reports it.
func TestPagesWorkWithoutClientID(t *testing.T) {
	t.Parallel()
	d := pagesDeps()
	d.Config.UserPoolClientID = ""
	h := New(d)
	for _, path := range []string{"/", "/sign-in", "/assets/common.js"} {
		if rec := pagesGet(t, h, path, nil); rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, rec.Code)
		}
	}
}

func TestCognitoEndpoint(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ configured, region, want string }{
		"configured wins": {"http://127.0.0.1:9/local/cognito", "us-east-1", "http://127.0.0.1:9/local/cognito"},
		"regional":        {"", "us-east-1", "https://cognito-idp.us-east-1.amazonaws.com/"},
		"china":           {"", "cn-north-1", "https://cognito-idp.cn-north-1.amazonaws.com.cn/"},
		"unknown":         {"", "", ""},
	}
	for name, tc := range tests {
		if got := CognitoEndpoint(tc.configured, tc.region); got != tc.want {
			t.Errorf("%s: CognitoEndpoint(%q, %q) = %q, want %q", name, tc.configured, tc.region, got, tc.want)
		}
	}
}

// noApprovals stands in for a store that keeps requests.
type noApprovals struct{}

func (noApprovals) Approve(context.Context, string, string, string, time.Time) (links.ApproveResult, error) {
	return links.LinkGone, nil
}

func (noApprovals) Poll(context.Context, string, string, time.Time) (links.PollResult, error) {
	return links.StillPending, nil
}
