package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"

	"magiclinks/challenge"
	"magiclinks/config"
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

// accepted is the one answer to every well-formed request, whatever the
// account's state, so the endpoint does not tell who has an account.
var accepted = map[string]string{
	"status":  "accepted",
	"message": "If that address can sign in, a link is on its way. Check your inbox.",
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
	throttled outcome = "throttled"
)

func (h *loginHandler) serve(w http.ResponseWriter, r *http.Request) error {
	start := time.Now() // real time: the floor is about what a client measures
	email, err := readEmail(w, r)
	if err != nil {
		return err
	}
	logging.Add(r.Context(), slog.String("user", logging.MaskEmail(email)))
	o, err := h.login(r, email)
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Code: "upstream_failed", Message: "the link could not be sent; try again", Cause: err}
	}
	logging.Add(r.Context(), slog.String("outcome", string(o)))
	// Every 202 takes at least LoginMinDuration, so the time to answer does
	// not tell a known address (lookup, write, mail) from an unknown one
	// (lookup only).
	if rest := h.deps.Config.LoginMinDuration - time.Since(start); rest > 0 {
		h.wait(r.Context(), rest)
	}
	writeJSON(w, http.StatusAccepted, accepted)
	return nil
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

func (h *loginHandler) login(r *http.Request, email string) (outcome, error) {
	ctx := r.Context()
	d := h.deps
	user, err := d.Users.GetUser(ctx, email)
	switch {
	case errors.Is(err, ErrUserNotFound) && d.Config.SignUp == config.SignUpAuto:
		user, err = d.Users.CreateUser(ctx, email)
		if errors.Is(err, ErrUserExists) { // created by a concurrent request
			user, err = d.Users.GetUser(ctx, email)
		}
		if err != nil {
			return "", fmt.Errorf("creating user: %w", err)
		}
		logging.Add(ctx, slog.Bool("created", true))
	case errors.Is(err, ErrUserNotFound):
		return unknown, nil
	case err != nil:
		return "", fmt.Errorf("getting user: %w", err)
	}
	if !user.Enabled {
		return disabled, nil
	}

	now := d.Now()
	set, err := challenge.Parse(user.Challenges)
	if err != nil {
		// Not ours (e.g. the seed's plain "uuid,timestamp"): start afresh
		// rather than lock the user out.
		set = challenge.Set{}
	}
	if last, ok := set.LastIssued(now); ok && d.Config.ResendInterval > 0 && now.Sub(last) < d.Config.ResendInterval {
		return throttled, nil
	}
	secret, err := challenge.New(d.Rand)
	if err != nil {
		return "", err
	}
	next := set.Add(secret, now, d.Config.LinkTTL)
	if err := d.Users.SetChallenges(ctx, user.Username, next.String()); err != nil {
		return "", fmt.Errorf("storing challenge: %w", err)
	}
	if err := d.Mailer.SendMagicLink(ctx, email, Link(d.Config.SignInURL, email, secret), d.Config.LinkTTL); err != nil {
		// Take the unsent link back so the resend interval does not hold off
		// the user's retry; if that fails too, the entry just expires.
		if rbErr := d.Users.SetChallenges(ctx, user.Username, set.Live(now).String()); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("rolling back challenge: %w", rbErr))
		}
		return "", fmt.Errorf("sending mail: %w", err)
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
	// Only JSON: a browser sends it cross-origin only after a CORS preflight,
	// so ALLOWED_ORIGINS really decides which sites can make it send mail
	// (a text/plain form post would need no preflight).
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return "", &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "the body must be JSON sent as Content-Type: application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return "", &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the body must be at most %d bytes", maxBodyBytes)}
	}
	if err != nil {
		return "", &Error{Status: http.StatusBadRequest, Code: "unreadable_body", Message: "the body could not be read", Cause: err}
	}
	return ParseLogin(body)
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
