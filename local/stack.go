// Package local holds the stand-ins for the AWS services the binary calls,
// served by the binary itself outside Lambda (make dev, the e2e tests, the
// load run): a Cognito user-pool endpoint and an SES v2 outbox.
//
// The binary's own AWS SDK clients are pointed at these endpoints, so the code
// that runs in AWS is the code that runs here. The Cognito stand-in calls the
// real trigger handlers through the binary's dispatcher with JSON events
// shaped as Cognito shapes them (DESIGN.md "Facts about Cognito that bite").
//
// Everything is in memory and bounded; nothing here is reachable in Lambda
// mode, because main only builds a Stack when it is not running in Lambda.
package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Invoker is the Lambda handler shape: the stand-ins call the triggers with
// JSON bytes exactly as Lambda would. main passes the dispatcher.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Options configure a Stack.
type Options struct {
	Region, UserPoolID, ClientID string
	// BaseURL is where the binary listens, e.g. "http://127.0.0.1:8080"; the
	// Cognito endpoint is BaseURL+"/local/cognito", SES is BaseURL+"/local/ses".
	BaseURL  string
	Triggers Invoker
	// Now is the stand-ins' clock; time.Now by default, or Clock.Now when a
	// Clock is given.
	Now func() time.Time
	// Clock, when set, is served at /local/clock so tests can move the time
	// forward (e.g. past a link's expiry). main must give the same Clock's Now
	// to the handlers and the triggers, or moving it proves nothing.
	Clock *Clock
	// SessionTTL is how long a Cognito auth session lives (the app client's
	// auth_session_validity); 3m by default, 3m–15m like Cognito.
	SessionTTL time.Duration
	Logger     *slog.Logger
}

// Stack is the set of stand-ins, served by Handler.
type Stack struct {
	opts    Options
	now     func() time.Time
	log     *slog.Logger
	cognito *cognito
	outbox  *outbox
	handler http.Handler
}

// Route prefixes, relative to BaseURL.
const (
	cognitoPath = "/local/cognito"
	sesPath     = "/local/ses"
)

// ErrOptions wraps every problem with Options.
var ErrOptions = errors.New("local: invalid options")

// New builds the stand-ins. It generates the token signing key (RSA 2048), so
// it takes a moment.
func New(o Options) (*Stack, error) {
	var problems []string
	if o.Region == "" {
		problems = append(problems, "Region is required")
	}
	if o.UserPoolID == "" {
		problems = append(problems, "UserPoolID is required")
	}
	if o.ClientID == "" {
		problems = append(problems, "ClientID is required")
	}
	if o.Triggers == nil {
		problems = append(problems, "Triggers is required")
	}
	if u, err := url.Parse(o.BaseURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || strings.Trim(u.Path, "/") != "" {
		problems = append(problems, fmt.Sprintf("BaseURL must be an absolute http(s) URL without a path, got %q", o.BaseURL))
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 3 * time.Minute
	}
	if o.SessionTTL < 0 {
		problems = append(problems, "SessionTTL must be positive")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrOptions, strings.Join(problems, "; "))
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	now := o.Now
	if now == nil && o.Clock != nil {
		now = o.Clock.Now
	}
	if now == nil {
		now = time.Now
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	s := &Stack{opts: o, now: now, log: logger, outbox: newOutbox(maxOutbox)}
	var err error
	s.cognito, err = newCognito(cognitoConfig{
		region:     o.Region,
		poolID:     o.UserPoolID,
		clientID:   o.ClientID,
		issuer:     o.BaseURL + cognitoPath + "/" + o.UserPoolID,
		triggers:   o.Triggers,
		now:        now,
		sessionTTL: o.SessionTTL,
		log:        logger,
		rand:       rand.Reader,
	})
	if err != nil {
		return nil, err
	}

	m := http.NewServeMux()
	// smithy joins the operation path "/" to the endpoint's path, so the SDK
	// may post to /local/cognito or /local/cognito/: accept both.
	for _, p := range []string{cognitoPath, cognitoPath + "/{$}"} {
		m.HandleFunc("POST "+p, s.cognito.serveAPI)
		m.HandleFunc("OPTIONS "+p, preflight)
	}
	m.HandleFunc("GET "+cognitoPath+"/{pool}/.well-known/jwks.json", s.cognito.serveJWKS)
	m.HandleFunc("GET "+cognitoPath+"/{pool}/.well-known/openid-configuration", s.cognito.serveOpenIDConfig)
	m.HandleFunc("POST "+sesPath+"/v2/email/outbound-emails", s.ownOriginOnly(s.serveSendEmail))
	m.HandleFunc("GET /local/outbox", s.serveOutbox)
	m.HandleFunc("DELETE /local/outbox", s.ownOriginOnly(s.serveClearOutbox))
	m.HandleFunc("GET /local/mail", s.serveMailbox)
	m.HandleFunc("GET /local/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/local/mail", http.StatusFound)
	})
	if o.Clock != nil {
		m.HandleFunc("GET /local/clock", s.serveClock)
		m.HandleFunc("POST /local/clock", s.ownOriginOnly(s.serveClock))
	}
	s.handler = loopbackOnly(m)
	return s, nil
}

// Handler serves everything under /local/. It expects the full request path
// (mount it at "/local/" without stripping the prefix). It answers only
// requests addressed to a loopback name (see loopbackOnly).
func (s *Stack) Handler() http.Handler { return s.handler }

// loopbackOnly refuses every request whose Host is not 127.0.0.1, localhost
// or [::1]. The binary listens on 127.0.0.1 only, but a browser still sends it
// requests for any name that resolves there: a page on evil.example that
// rebinds its own name to 127.0.0.1 (DNS rebinding) is same-origin with
// itself and could read /local/outbox, links and all. Its requests say
// Host: evil.example:<port>, which is refused here.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "the local stand-ins answer only requests to 127.0.0.1, localhost or [::1]"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isLoopbackHost reports whether a Host header names a loopback address, with
// or without a port.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	switch strings.ToLower(host) {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

// ownOriginOnly guards the endpoints that change the stack's state (moving
// the clock, emptying the outbox) from other web pages. A page on any origin
// may POST a "simple" request here without a preflight (text/plain bodies
// are still read as JSON), and the browser sends its Origin when it does.
// Tests, curl and the load run send no Origin, and the stack's own pages send
// the stack's own.
func (s *Stack) ownOriginOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origins, ok := r.Header["Origin"]; ok && (len(origins) != 1 || !strings.EqualFold(origins[0], s.opts.BaseURL)) {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "cross-origin requests may not change the local stack"})
			return
		}
		next(w, r)
	}
}

// CognitoEndpoint is the base endpoint for the Cognito user-pools SDK client.
func (s *Stack) CognitoEndpoint() string { return s.opts.BaseURL + cognitoPath }

// SESEndpoint is the base endpoint for the SES v2 SDK client.
func (s *Stack) SESEndpoint() string { return s.opts.BaseURL + sesPath }

// Issuer is the tokens' iss: CognitoEndpoint()/<pool ID>, as Cognito's is
// https://cognito-idp.<region>.amazonaws.com/<pool ID>.
func (s *Stack) Issuer() string { return s.cognito.cfg.issuer }

// preflight answers CORS preflight for the Cognito endpoint. Real Cognito
// allows any origin, and so do we: a team's own front end on another port may
// call the public operations. Authorization is not among the allowed headers:
// the public operations carry their token in the body, and only the admin
// operations are SigV4-signed, which no web page may call (serveAPI).
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Amz-Target, X-Amz-User-Agent, X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token, Amz-Sdk-Invocation-Id, Amz-Sdk-Request, Cache-Control")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
