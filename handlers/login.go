package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"

	"magiclinks/challenge"
	"magiclinks/config"
	"magiclinks/lang"
	"magiclinks/links"
	"magiclinks/logging"
)

var (
	// ErrUserNotFound is returned by Users.GetUser for an unknown address.
	ErrUserNotFound = errors.New("user not found")
	// ErrUserExists is returned by Users.CreateUser when the account exists.
	ErrUserExists = errors.New("user exists")
)

const (
	maxBodyBytes = 4 << 10
	maxEmailLen  = 254 // RFC 5321 path limit
)

// acceptedMessage is in the one answer to every well-formed request,
// whatever the account's state, so the endpoint does not tell who has an
// account; only the random request handle and number differ.
const acceptedMessage = "If that address can sign in, a link is on its way. Check your inbox."

type acceptedBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	// Request is the handle the waiting browser polls GET /login/{request}
	// with; Number is what it shows, for the other device to confirm.
	Request string `json:"request"`
	Number  string `json:"number"`
}

type loginHandler struct {
	deps Deps
}

// outcome names what happened, for the log line only.
type outcome string

const (
	sent      outcome = "sent"
	unknown   outcome = "unknown_user"
	disabled  outcome = "disabled_user"
	throttled outcome = "throttled" // the resend hold is on
	limited   outcome = "rate_limited"
	// After a successful lookup every failure still answers 202: the
	// status must not tell a known address from an unknown one. These are
	// logged at ERROR for the operator (and the alarms).
	createFailed outcome = "create_failed"
	repairFailed outcome = "repair_failed"
	storeFailed  outcome = "store_failed"
	sendFailed   outcome = "send_failed"
)

// errLookup marks the one failure that answers 502: the account lookup,
// which happens for every address alike.
var errLookup = errors.New("account lookup failed")

func (h *loginHandler) serve(w http.ResponseWriter, r *http.Request) error {
	start := time.Now() // real time: the floor is about what a client measures
	email, err := readEmail(w, r)
	if err != nil {
		return err
	}
	if err := h.limit(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	logging.Add(ctx, slog.String("user", logging.MaskEmail(email)))
	body := acceptedBody{Status: "accepted", Message: acceptedMessage}
	// The mail speaks the language of the browser that asked.
	language := lang.Negotiate(r.Header.Get("Accept-Language"), lang.Supported())
	o, err := h.login(ctx, email, language, &body)
	if errors.Is(err, errLookup) {
		return &Error{Status: http.StatusBadGateway, Code: "upstream_failed", Message: "the link could not be sent; try again", Cause: err}
	}
	logging.Add(ctx, slog.String("outcome", string(o)))
	if err != nil {
		logging.Fail(ctx, err)
	}
	// Every 202 takes at least LoginMinDuration, so the time to answer does
	// not tell a known address (lookup, write, mail) from an unknown one
	// (lookup only), nor a failure after the lookup from a success.
	if rest := h.deps.Config.LoginMinDuration - time.Since(start); rest > 0 {
		h.wait(ctx, rest)
	}
	writeJSON(w, http.StatusAccepted, body)
	return nil
}

// limit applies LOGIN_LIMIT_PER_IP before anything about the address is
// looked at, so its answer is the same for every address. The client IP is
// API Gateway's sourceIp (the adapter puts it in RemoteAddr), never a header
// the client wrote. A store that cannot count lets the request through: the
// limit guards cost, and failing closed would lock everyone out with it.
func (h *loginHandler) limit(w http.ResponseWriter, r *http.Request) error {
	return limitByIP(w, r, h.deps, "ip", h.deps.Config.LoginLimit.N)
}

func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func (h *loginHandler) wait(ctx context.Context, d time.Duration) {
	if h.deps.Wait != nil {
		h.deps.Wait(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// login does the work behind one well-formed request: at most one Cognito
// read, a Cognito write only for an account that needs repair or creation,
// one atomic store write (two if the mail fails) and one mail.
//
// Every well-formed request gets a fresh sealed request handle and number in
// body, for an account or not, so they tell nothing either.
func (h *loginHandler) login(ctx context.Context, email, language string, body *acceptedBody) (outcome, error) {
	d := h.deps
	now := d.Now()
	number, err := challenge.NewNumber(d.Rand)
	if err != nil {
		return storeFailed, err
	}
	body.Number = number
	// Sealed for nobody until the account is known; resealed below. Both
	// look alike.
	if body.Request, err = challenge.SealRequest(d.RequestKey, d.Rand, "", now.Add(d.Config.LinkTTL)); err != nil {
		return storeFailed, err
	}

	user, err := d.Users.GetUser(ctx, email)
	switch {
	case errors.Is(err, ErrUserNotFound) && d.Config.SignUp == config.SignUpAuto:
		user, err = d.Users.CreateUser(ctx, email)
		if errors.Is(err, ErrUserExists) { // created by a concurrent request
			if user, err = d.Users.GetUser(ctx, email); err != nil {
				return "", fmt.Errorf("%w: %w", errLookup, err)
			}
		}
		if err != nil {
			return createFailed, fmt.Errorf("creating user: %w", err)
		}
		logging.Add(ctx, slog.Bool("created", true))
	case errors.Is(err, ErrUserNotFound):
		return unknown, nil
	case err != nil:
		return "", fmt.Errorf("%w: %w", errLookup, err)
	}
	if !user.Enabled {
		return disabled, nil
	}
	if user.NeedsPassword {
		if err := d.Users.SetRandomPassword(ctx, user.Username); err != nil {
			return repairFailed, fmt.Errorf("repairing account: %w", err)
		}
		logging.Add(ctx, slog.Bool("repaired", true))
	}

	l := links.NewLink{}
	if l.Secret, err = challenge.New(d.Rand); err != nil {
		return storeFailed, err
	}
	if d.Codes {
		if l.Code, err = challenge.NewCode(d.Rand); err != nil {
			return storeFailed, err
		}
	}
	if d.Approvals != nil {
		expires := now.Add(d.Config.LinkTTL)
		if body.Request, err = challenge.SealRequest(d.RequestKey, d.Rand, user.Username, expires); err != nil {
			return storeFailed, err
		}
		l.Request = links.Request{
			ID:         challenge.RequestID(body.Request),
			AnswerHash: challenge.Hash(challenge.ApprovalAnswer(body.Request)),
			Number:     number,
			Expires:    expires.Unix(),
		}
	}
	held, err := d.Links.Issue(ctx, user.Username, l, now, d.Config.LinkTTL, d.Config.ResendInterval)
	if err != nil {
		return storeFailed, err
	}
	if held {
		return throttled, nil
	}
	if err := d.Mailer.SendMagicLink(ctx, language, email, Link(d.Config.SignInURL, email, l.Secret), l.Code, d.Config.LinkTTL); err != nil {
		// Take the unsent link back so it cannot be used and its hold does
		// not stop the user's retry; if that fails too, the link just
		// expires unseen.
		if rbErr := d.Links.Revoke(ctx, user.Username, l.Secret, l.Request.ID, now); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
		return sendFailed, fmt.Errorf("sending mail: %w", err)
	}
	return sent, nil
}

// Link builds the magic link (DESIGN.md "Contract: the link"): the address
// and the challenge travel in the fragment, which browsers never send to a
// server, so they stay out of access logs and Referer headers.
func Link(signInURL, email, secret string) string {
	return signInURL + "#" + url.QueryEscape(email) + "," + secret
}

// readEmail decodes and validates the body; any problem is a 400 or 413 and
// nothing downstream is called.
func readEmail(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := readJSONBody(w, r)
	if err != nil {
		return "", err
	}
	return ParseLogin(body)
}

// isJSON: only JSON is read. A browser sends it cross-origin only after a
// CORS preflight, so ALLOWED_ORIGINS really decides which sites can make the
// function send mail or approve (a text/plain form post needs no preflight).
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// ParseLogin reads {"email": "..."} and returns the normalised address.
func ParseLogin(body []byte) (string, error) {
	var req struct {
		Email *string `json:"email"`
	}
	// Unmarshal, not a Decoder: Decoder.More reports false before a stray
	// ']' or '}', which would accept `{"email":"…"}]`.
	if err := json.Unmarshal(body, &req); err != nil {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: `the body must be a JSON object like {"email": "you@example.com"}`}
	}
	if req.Email == nil {
		return "", &Error{Status: http.StatusBadRequest, Code: "missing_email", Message: "email is required"}
	}
	email, err := NormalizeEmail(*req.Email)
	if err != nil {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_email", Message: err.Error()}
	}
	return email, nil
}

// NormalizeEmail trims and lower-cases an address and checks that it is a
// plain addr-spec (no display name, no comments, no control characters).
func NormalizeEmail(s string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(s))
	if email == "" {
		return "", errors.New("email is required")
	}
	if len(email) > maxEmailLen {
		return "", fmt.Errorf("email must be at most %d characters", maxEmailLen)
	}
	for _, c := range email {
		if unicode.IsControl(c) || unicode.IsSpace(c) || unicode.Is(unicode.Cf, c) {
			return "", errors.New("email must not contain spaces, control or invisible formatting characters")
		}
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", errors.New("email is not a valid address")
	}
	local, domain, _ := strings.Cut(email, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") {
		return "", errors.New("email is not a valid address")
	}
	return email, nil
}
