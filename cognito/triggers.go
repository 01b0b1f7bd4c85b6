// Package cognito implements the Cognito user-pool triggers that make a
// CUSTOM_AUTH sign-in a magic-link sign-in (DESIGN.md "Contract: triggers").
package cognito

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"magiclinks/challenge"
	"magiclinks/logging"
)

// Trigger sources this package answers.
const (
	SourceDefine       = "DefineAuthChallenge_Authentication"
	SourceCreate       = "CreateAuthChallenge_Authentication"
	SourceVerify       = "VerifyAuthChallengeResponse_Authentication"
	SourcePostAuth     = "PostAuthentication_Authentication"
	SourcePreSignUp    = "PreSignUp_SignUp"
	SourcePreSignUpAdm = "PreSignUp_AdminCreateUser"
	SourcePreSignUpExt = "PreSignUp_ExternalProvider"

	customChallenge = "CUSTOM_CHALLENGE"
	// challengeKind names the challenge in parameters and metadata; it is
	// the same for every user, known or not, and carries no secret.
	challengeKind = "MAGIC_LINK"
	// AttrChallenges is the attribute holding the hashed challenges.
	AttrChallenges = "custom:authChallenge"
)

var (
	// ErrUnsupportedTrigger is returned for a trigger source not wired here.
	ErrUnsupportedTrigger = errors.New("cognito: unsupported trigger source")
	errNotObject          = errors.New("cognito: event is not a JSON object")
)

// Users is what the triggers need of the user pool.
type Users interface {
	// CompleteSignIn consumes every outstanding challenge of the user and
	// marks the address email verified. It must be idempotent: Cognito
	// retries.
	CompleteSignIn(ctx context.Context, username, email string, verified bool) error
}

// Triggers answers the custom-auth trigger events.
type Triggers struct {
	Users       Users
	Now         func() time.Time
	MaxAttempts int
}

// PublicError is an error whose message is deliberately shown to the client:
// Cognito passes a trigger's error message through to the caller, so only
// these leave a trigger; the cause is for the log.
type PublicError struct {
	Message string
	Cause   error
}

func (e *PublicError) Error() string { return e.Message }
func (e *PublicError) Unwrap() error { return e.Cause }

// Handle answers one trigger event and returns the whole event with its
// response filled in.
func (t *Triggers) Handle(ctx context.Context, payload []byte) ([]byte, error) {
	e, err := decodeEvent(payload)
	if err != nil {
		return nil, &PublicError{Message: "invalid trigger event", Cause: err}
	}
	logging.Add(ctx, slog.String("trigger", e.TriggerSource))
	if email := e.Request.UserAttributes["email"]; email != "" {
		logging.Add(ctx, slog.String("user", logging.MaskEmail(email)))
	}
	switch e.TriggerSource {
	case SourceDefine:
		return e.respond(t.define(ctx, e))
	case SourceCreate:
		return e.respond(t.create(e))
	case SourceVerify:
		return e.respond(t.verify(ctx, e))
	case SourcePostAuth:
		if err := t.postAuthentication(ctx, e); err != nil {
			return nil, err
		}
		return e.respond(struct{}{})
	case SourcePreSignUp, SourcePreSignUpAdm, SourcePreSignUpExt:
		return e.respond(preSignUp())
	}
	return nil, &PublicError{Message: "unsupported trigger", Cause: fmt.Errorf("%w: %q", ErrUnsupportedTrigger, e.TriggerSource)}
}

type defineResponse struct {
	ChallengeName      *string `json:"challengeName"`
	IssueTokens        bool    `json:"issueTokens"`
	FailAuthentication bool    `json:"failAuthentication"`
}

// define decides the next step from the session so far. Tokens only when
// every step was a magic-link challenge and the last one was answered right:
// a session that began with SRP_A or a password arrives with
// challengeResult true and must never yield tokens here.
func (t *Triggers) define(ctx context.Context, e event) defineResponse {
	session := e.Request.Session
	fail := defineResponse{FailAuthentication: true}
	failures := 0
	for _, s := range session {
		if s.ChallengeName != customChallenge {
			logging.Add(ctx, slog.String("outcome", "fail_foreign_challenge"))
			return fail
		}
		if !s.ChallengeResult || e.Request.UserNotFound {
			failures++ // an unknown user's answers are all wrong
		}
	}
	// An unknown user never gets tokens, whatever a session claims: Verify
	// already answers false for them; this is the second lock.
	if n := len(session); n > 0 && session[n-1].ChallengeResult && !e.Request.UserNotFound {
		logging.Add(ctx, slog.String("outcome", "issue_tokens"))
		return defineResponse{IssueTokens: true}
	}
	if failures >= t.MaxAttempts {
		logging.Add(ctx, slog.String("outcome", "fail_attempts"))
		return fail
	}
	logging.Add(ctx, slog.String("outcome", "challenge"), slog.Int("attempt", len(session)+1))
	name := customChallenge
	return defineResponse{ChallengeName: &name}
}

type createResponse struct {
	PublicChallengeParameters  map[string]string `json:"publicChallengeParameters"`
	PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
	ChallengeMetadata          string            `json:"challengeMetadata"`
}

// create says what the challenge is. The secret is not made here: it was
// mailed by POST /login, and the link starts a fresh session on any device.
// The private parameters must not be empty: Cognito rejects an empty map.
func (t *Triggers) create(e event) createResponse {
	return createResponse{
		PublicChallengeParameters:  map[string]string{"challenge": challengeKind},
		PrivateChallengeParameters: map[string]string{"challenge": challengeKind},
		ChallengeMetadata:          challengeKind,
	}
}

type verifyResponse struct {
	AnswerCorrect bool `json:"answerCorrect"`
}

// verify accepts the answer only if its hash matches a live entry of the
// user's attribute. It reads the attribute from the event and writes
// nothing, so Cognito's retries are harmless; PostAuthentication consumes.
func (t *Triggers) verify(ctx context.Context, e event) verifyResponse {
	r := e.Request
	ok := !r.UserNotFound && r.PrivateChallengeParameters["challenge"] == challengeKind
	if ok {
		set, err := challenge.Parse(r.UserAttributes[AttrChallenges])
		ok = err == nil && set.Verify(r.ChallengeAnswer, t.Now())
	}
	logging.Add(ctx, slog.Bool("answerCorrect", ok))
	return verifyResponse{AnswerCorrect: ok}
}

// postAuthentication runs after tokens were issued: every outstanding link is
// spent, and the address is verified since the user proved the inbox.
func (t *Triggers) postAuthentication(ctx context.Context, e event) error {
	attrs := e.Request.UserAttributes
	set, err := challenge.Parse(attrs[AttrChallenges])
	if err == nil && set.Len() == 0 && attrs["email_verified"] == "true" {
		logging.Add(ctx, slog.String("outcome", "nothing_to_consume"))
		return nil // a retry, or nothing outstanding: skip the write
	}
	if e.UserName == "" {
		return &PublicError{Message: "sign-in could not be completed", Cause: errors.New("cognito: event has no userName")}
	}
	if err := t.Users.CompleteSignIn(ctx, e.UserName, attrs["email"], attrs["email_verified"] == "true"); err != nil {
		return &PublicError{Message: "sign-in could not be completed, please try again", Cause: fmt.Errorf("completing sign-in: %w", err)}
	}
	logging.Add(ctx, slog.String("outcome", "consumed"))
	return nil
}

type preSignUpResponse struct {
	AutoConfirmUser bool `json:"autoConfirmUser"`
	AutoVerifyEmail bool `json:"autoVerifyEmail"`
	AutoVerifyPhone bool `json:"autoVerifyPhone"`
}

// preSignUp confirms the account so it can sign in by link, but never
// verifies the address: signing up proves nothing about the inbox.
func preSignUp() preSignUpResponse {
	return preSignUpResponse{AutoConfirmUser: true}
}
