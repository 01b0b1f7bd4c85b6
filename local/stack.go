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
	mux     *http.ServeMux
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
	m.HandleFunc("POST "+sesPath+"/v2/email/outbound-emails", s.serveSendEmail)
	m.HandleFunc("GET /local/outbox", s.serveOutbox)
	m.HandleFunc("DELETE /local/outbox", s.serveClearOutbox)
	m.HandleFunc("GET /local/mail", s.serveMailbox)
	m.HandleFunc("GET /local/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/local/mail", http.StatusFound)
	})
	if o.Clock != nil {
		m.HandleFunc("GET /local/clock", s.serveClock)
		m.HandleFunc("POST /local/clock", s.serveClock)
	}
	s.mux = m
	return s, nil
}

// Handler serves everything under /local/. It expects the full request path
// (mount it at "/local/" without stripping the prefix).
func (s *Stack) Handler() http.Handler { return s.mux }

// CognitoEndpoint is the base endpoint for the Cognito user-pools SDK client.
func (s *Stack) CognitoEndpoint() string { return s.opts.BaseURL + cognitoPath }

// SESEndpoint is the base endpoint for the SES v2 SDK client.
func (s *Stack) SESEndpoint() string { return s.opts.BaseURL + sesPath }

// Issuer is the tokens' iss: CognitoEndpoint()/<pool ID>, as Cognito's is
// https://cognito-idp.<region>.amazonaws.com/<pool ID>.
func (s *Stack) Issuer() string { return s.cognito.cfg.issuer }

// preflight answers CORS preflight for the Cognito endpoint. Real Cognito
// allows any origin, and so do we: a team's own front end on another port may
// call it.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Amz-Target, X-Amz-User-Agent, X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token, Authorization, Amz-Sdk-Invocation-Id, Amz-Sdk-Request, Cache-Control")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
