// Package handlers is the HTTP side of the function: the routes API Gateway
// sends to it, served by one chi router.
package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"

	"magiclinks/config"
	"magiclinks/links"
	"magiclinks/logging"
)

// Users is what the handlers need of the user pool.
type Users interface {
	// GetUser finds the account whose address is email; ErrUserNotFound if none.
	GetUser(ctx context.Context, email string) (User, error)
	// CreateUser makes an account for email that can sign in with a link
	// only; ErrUserExists if one appeared meanwhile.
	CreateUser(ctx context.Context, email string) (User, error)
	// SetRandomPassword gives the account a permanent password nobody
	// knows, which makes it CONFIRMED and keeps it from expiring.
	SetRandomPassword(ctx context.Context, username string) error
}

// User is an account as the handlers see it.
type User struct {
	Username string // the pool's username (the sub), which keys the user's links
	Enabled  bool
	// NeedsPassword is true for an account left half-created (for example
	// FORCE_CHANGE_PASSWORD after a failed or raced sign-up), which Cognito
	// would let expire.
	NeedsPassword bool
}

// Links is the link store as POST /login uses it (package links).
type Links interface {
	// Issue stores a link (with its code and request) unless the user's
	// newest link is younger than hold, in one atomic step; held reports
	// the latter.
	Issue(ctx context.Context, user string, l links.NewLink, now time.Time, ttl, hold time.Duration) (held bool, err error)
	// Revoke takes back a link whose mail was not sent, with its request
	// and hold.
	Revoke(ctx context.Context, user, secret, requestID string, now time.Time) error
}

// Approvals is the link store as the cross-device routes use it; nil where
// the store cannot keep requests (the Cognito attribute mode).
type Approvals interface {
	Approve(ctx context.Context, user, secret, number string, now time.Time) (links.ApproveResult, error)
	Poll(ctx context.Context, user, requestID string, now time.Time) (links.PollResult, error)
}

// Limiter counts requests per key in fixed windows (package links).
type Limiter interface {
	Count(ctx context.Context, key string, n int, per time.Duration, now time.Time) (retryAfter time.Duration, ok bool, err error)
}

// Mailer sends the link and its code ("" for none) in language lang, one
// of lang.Supported (package lang).
type Mailer interface {
	SendMagicLink(ctx context.Context, lang, to, link, code string, ttl time.Duration) error
}

// Deps is everything the router needs; main wires the concrete values.
type Deps struct {
	Config config.Config
	Users  Users
	Links  Links
	// Approvals serves GET /login/{request} and POST /approve; nil turns
	// cross-device approval off.
	Approvals Approvals
	// Codes: every mail carries a code (the store keeps their MACs).
	Codes bool
	// RequestKey seals the request handles POST /login hands out (32 bytes).
	RequestKey []byte
	// Limiter applies Config.LoginLimit; nil when there is no store that
	// can count (the Cognito attribute mode).
	Limiter Limiter
	Mailer  Mailer
	Now     func() time.Time // time.Now in production
	Rand    io.Reader        // crypto/rand.Reader in production
	// Wait pauses for d unless ctx ends first; nil means a real timer.
	// Tests pass one that records instead of sleeping.
	Wait func(ctx context.Context, d time.Duration)

	// Page and token dependencies (sign-in page issue) go below.

	// Region is the AWS region: /config.json tells it to the page, and the
	// Cognito endpoint defaults to the region's (Config.CognitoEndpoint wins).
	Region string
	// Tokens verifies GET /me's Bearer token when the binary serves HTTP
	// itself (the local stack). Nil in Lambda, where API Gateway's JWT
	// authorizer has checked the token and /me reads its verified claims.
	Tokens TokenVerifier
}

// logRoute puts the matched route's template on the log line ("GET
// /login/{request}"), never the path: a path can carry a request handle.
func logRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		pattern := "(no route)"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			pattern = rc.RoutePattern()
		}
		logging.Add(r.Context(), slog.String("route", r.Method+" "+pattern))
	})
}

// New returns the router.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(logRoute)
	login := &loginHandler{deps: d}
	cross := &crossDevice{deps: d}
	// CORS only where a browser on another origin calls us (a team's own
	// front end); the middleware answers preflight requests itself.
	r.Group(func(r chi.Router) {
		r.Use(cors.Handler(cors.Options{
			AllowedOrigins: d.Config.AllowedOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Content-Type"},
			MaxAge:         600,
		}))
		r.Method(http.MethodPost, "/login", handle(login.serve))
		r.Method(http.MethodGet, "/login/{request}", handle(cross.poll))
		r.Method(http.MethodPost, "/approve", handle(cross.approve))
		preflight := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
		r.Options("/login", preflight)
		r.Options("/login/{request}", preflight)
		r.Options("/approve", preflight)
	})
	mountPages(r, d)
	r.NotFound(handle(func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such route"}
	}))
	r.MethodNotAllowed(handle(func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed on this route"}
	}))
	return r
}
