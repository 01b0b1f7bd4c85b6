package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"magiclinks/challenge"
	"magiclinks/links"
	"magiclinks/logging"
)

// Bounds on the cross-device routes (DESIGN.md "Contract: HTTP"): the
// waiting browser polls with back-off, about a hundred times in a link's
// life; a person approves once.
const (
	// maxPollsPerRequest bounds one handle's polls over its whole life (a
	// 10-minute link); longer links get one poll per 2.5 s of their life.
	maxPollsPerRequest = 600
	// pollsPerLogin: polls per IP are this many times LOGIN_LIMIT_PER_IP.
	pollsPerLogin = 30
	maxHandleLen  = 256
)

// crossDevice serves GET /login/{request} (the waiting browser) and POST
// /approve (the device that opened the link).
type crossDevice struct {
	deps Deps
}

type pollBody struct {
	Status string `json:"status"`
	Answer string `json:"answer,omitempty"`
}

var errNotFound = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such request, or it has ended"}

// poll answers pending while the request waits (for an address without an
// account too, until the link's lifetime ends), the one-time answer once it
// was approved, and 404 after that, after expiry and for a handle this
// deployment did not make. The handle is in the path: it is never logged
// (the route template is).
func (c *crossDevice) poll(w http.ResponseWriter, r *http.Request) error {
	d := c.deps
	ctx := r.Context()
	handle := chi.URLParam(r, "request")
	now := d.Now()
	if len(handle) > maxHandleLen {
		return errNotFound
	}
	user, expires, err := challenge.OpenRequest(d.RequestKey, handle)
	if err != nil || !now.Before(expires) {
		logging.Add(ctx, slog.String("outcome", "unknown_request"))
		return errNotFound
	}
	id := challenge.RequestID(handle)
	if err := limitByIP(w, r, d, "poll", d.Config.LoginLimit.N*pollsPerLogin); err != nil {
		return err
	}
	if d.Limiter != nil {
		polls := max(maxPollsPerRequest, int(d.Config.LinkTTL/(2500*time.Millisecond)))
		if _, ok, err := d.Limiter.Count(ctx, "poll#"+id, polls, challenge.MaxTTL, now); err != nil {
			logging.Fail(ctx, err)
		} else if !ok {
			logging.Add(ctx, slog.String("outcome", "poll_limited"))
			return errNotFound
		}
	}
	res := links.StillPending
	if d.Approvals != nil {
		if res, err = d.Approvals.Poll(ctx, user, id, now); err != nil {
			return &Error{Status: http.StatusBadGateway, Code: "upstream_failed", Message: "try again", Cause: err}
		}
	}
	switch res {
	case links.NowApproved:
		logging.Add(ctx, slog.String("outcome", "approved"))
		writeJSON(w, http.StatusOK, pollBody{Status: "approved", Answer: challenge.ApprovalAnswer(handle)})
	case links.Gone:
		logging.Add(ctx, slog.String("outcome", "gone"))
		return errNotFound
	default:
		writeJSON(w, http.StatusOK, pollBody{Status: "pending"})
	}
	return nil
}

type approveRequest struct {
	Email     string
	Challenge string
	Number    string
}

// approve approves the latest waiting request of the address from the
// device that holds its live link, when number is the one the waiting
// browser shows: 200; a wrong number voids that request (409) and leaves
// the link usable; a spent, expired or unknown link is 410, for an address
// without an account too.
func (c *crossDevice) approve(w http.ResponseWriter, r *http.Request) error {
	d := c.deps
	ctx := r.Context()
	req, err := readApprove(w, r)
	if err != nil {
		return err
	}
	if d.Approvals == nil {
		return &Error{Status: http.StatusNotFound, Code: "not_available", Message: "cross-device approval needs the DynamoDB link store (LINKS_TABLE)"}
	}
	if err := limitByIP(w, r, d, "approve", d.Config.LoginLimit.N); err != nil {
		return err
	}
	logging.Add(ctx, slog.String("user", logging.MaskEmail(req.Email)))
	u, err := d.Users.GetUser(ctx, req.Email)
	user := u.Username
	switch {
	case errors.Is(err, ErrUserNotFound):
		user = "#none" // read all the same: the time taken tells nothing
	case err != nil:
		return &Error{Status: http.StatusBadGateway, Code: "upstream_failed", Message: "the approval could not be checked; try again", Cause: err}
	}
	res, err := d.Approvals.Approve(ctx, user, req.Challenge, req.Number, d.Now())
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Code: "upstream_failed", Message: "the approval could not be checked; try again", Cause: err}
	}
	switch res {
	case links.ApprovedNow:
		logging.Add(ctx, slog.String("outcome", "approved"))
		writeJSON(w, http.StatusOK, map[string]string{"status": "approved"})
		return nil
	case links.WrongNumber:
		logging.Add(ctx, slog.String("outcome", "wrong_number"))
		return &Error{Status: http.StatusConflict, Code: "wrong_number", Message: "that is not the number the other device shows; ask for a new link there"}
	}
	logging.Add(ctx, slog.String("outcome", "link_gone"))
	return &Error{Status: http.StatusGone, Code: "link_expired", Message: "this link has been used or has expired"}
}

// limitByIP counts a request of kind from the client IP against n per
// LOGIN_LIMIT_PER_IP's window; nothing when the limit is off or nothing can
// count. A counter that fails lets the request through (logged): the limits
// guard cost, and failing closed would lock everyone out with them.
func limitByIP(w http.ResponseWriter, r *http.Request, d Deps, kind string, n int) error {
	l := d.Config.LoginLimit
	if d.Limiter == nil || l.Off() {
		return nil
	}
	retry, ok, err := d.Limiter.Count(r.Context(), kind+"#"+clientIP(r), n, l.Per, d.Now())
	if err != nil {
		logging.Fail(r.Context(), err)
		return nil
	}
	if ok {
		return nil
	}
	return rateLimited(w, r, retry)
}

// rateLimited is the one 429 answer, with Retry-After in whole seconds.
func rateLimited(w http.ResponseWriter, r *http.Request, retry time.Duration) error {
	logging.Add(r.Context(), slog.String("outcome", string(limited)))
	secs := int64((retry + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests from this network; try again later"}
}

// readApprove decodes {"email", "challenge", "number"}; anything else is a
// 4xx and nothing is looked up.
func readApprove(w http.ResponseWriter, r *http.Request) (approveRequest, error) {
	body, err := readJSONBody(w, r)
	if err != nil {
		return approveRequest{}, err
	}
	var in struct {
		Email     *string `json:"email"`
		Challenge *string `json:"challenge"`
		Number    *string `json:"number"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return approveRequest{}, &Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: `the body must be a JSON object like {"email": "...", "challenge": "...", "number": "42"}`}
	}
	if in.Email == nil || in.Challenge == nil || in.Number == nil {
		return approveRequest{}, &Error{Status: http.StatusBadRequest, Code: "missing_field", Message: "email, challenge and number are required"}
	}
	email, err := NormalizeEmail(*in.Email)
	if err != nil {
		return approveRequest{}, &Error{Status: http.StatusBadRequest, Code: "invalid_email", Message: err.Error()}
	}
	if !validChallenge(*in.Challenge) {
		return approveRequest{}, &Error{Status: http.StatusBadRequest, Code: "invalid_challenge", Message: fmt.Sprintf("challenge must be the %d characters after the last comma of the link", challenge.Length)}
	}
	n := *in.Number
	if len(n) != 2 || n[0] < '0' || n[0] > '9' || n[1] < '0' || n[1] > '9' {
		return approveRequest{}, &Error{Status: http.StatusBadRequest, Code: "invalid_number", Message: "number must be the two digits the other device shows"}
	}
	return approveRequest{Email: email, Challenge: *in.Challenge, Number: n}, nil
}

func validChallenge(s string) bool {
	if len(s) != challenge.Length {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// readJSONBody enforces the JSON content type and the size limit shared by
// every POST route.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if !isJSON(r) {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "the body must be JSON sent as Content-Type: application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the body must be at most %d bytes", maxBodyBytes)}
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "unreadable_body", Message: "the body could not be read", Cause: err}
	}
	return body, nil
}
