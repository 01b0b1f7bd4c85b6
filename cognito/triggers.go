// Package cognito implements the Cognito user-pool triggers that make a
// CUSTOM_AUTH sign-in a magic-link sign-in (DESIGN.md "Contract: triggers").
package cognito

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// paramNonce is the private parameter that tells one Cognito challenge
	// from another, so that Cognito's retry of a Verify that spent the links
	// is recognised (links.Store.Redeem).
	paramNonce = "nonce"
)

var (
	// ErrUnsupportedTrigger is returned for a trigger source not wired here.
	ErrUnsupportedTrigger = errors.New("cognito: unsupported trigger source")
	errNotObject          = errors.New("cognito: event is not a JSON object")
)

// Users is what the triggers need of the user pool.
type Users interface {
	// VerifyEmail marks the address verified. It must be idempotent:
	// Cognito retries.
	VerifyEmail(ctx context.Context, username, email string) error
}

// Links is the link store as Verify uses it (package links).
type Links interface {
	// Redeem reports whether answer is a live link of user and, if so,
	// spends every link of the user in the same atomic step.
	Redeem(ctx context.Context, user, answer, nonce string, now time.Time) (bool, error)
}

// Triggers answers the custom-auth trigger events.
type Triggers struct {
	Users       Users
	Links       Links
	Now         func() time.Time
	Rand        io.Reader // crypto/rand.Reader in production
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
		r, err := t.create()
		if err != nil {
			return nil, err
		}
		return e.respond(r)
	case SourceVerify:
		r, err := t.verify(ctx, e)
		if err != nil {
			return nil, err
		}
		return e.respond(r)
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
// The private parameters must not be empty (Cognito rejects an empty map);
// they carry a random nonce for this challenge, which Verify receives back
// and the client never sees. Every user, known or not, gets the same shape.
func (t *Triggers) create() (createResponse, error) {
	nonce, err := challenge.New(t.Rand)
	if err != nil {
		return createResponse{}, &PublicError{Message: "sign-in could not be started, please try again", Cause: err}
	}
	return createResponse{
		PublicChallengeParameters:  map[string]string{"challenge": challengeKind},
		PrivateChallengeParameters: map[string]string{"challenge": challengeKind, paramNonce: nonce},
		ChallengeMetadata:          challengeKind,
	}, nil
}

type verifyResponse struct {
	AnswerCorrect bool `json:"answerCorrect"`
}

// verify accepts the answer only if it is a live link of the user, and spends
// all the user's links in the same step (links.Store.Redeem): of parallel
// uses of one link exactly one is correct. A store failure is an error, not
// a wrong answer, so it neither uses up an attempt nor signs anyone in.
func (t *Triggers) verify(ctx context.Context, e event) (verifyResponse, error) {
	r := e.Request
	if r.UserNotFound || r.PrivateChallengeParameters["challenge"] != challengeKind || e.UserName == "" || r.ChallengeAnswer == "" {
		logging.Add(ctx, slog.Bool("answerCorrect", false))
		return verifyResponse{}, nil
	}
	ok, err := t.Links.Redeem(ctx, e.UserName, r.ChallengeAnswer, r.PrivateChallengeParameters[paramNonce], t.Now())
	if err != nil {
		return verifyResponse{}, &PublicError{Message: "sign-in could not be completed, please try again", Cause: err}
	}
	logging.Add(ctx, slog.Bool("answerCorrect", ok))
	return verifyResponse{AnswerCorrect: ok}, nil
}

// postAuthentication runs after tokens were issued (Verify has spent the
// links): the address is verified, since the user proved the inbox. An
// address already verified costs no write.
func (t *Triggers) postAuthentication(ctx context.Context, e event) error {
	attrs := e.Request.UserAttributes
	if attrs["email_verified"] == "true" {
		logging.Add(ctx, slog.String("outcome", "already_verified"))
		return nil
	}
	if e.UserName == "" {
		return &PublicError{Message: "sign-in could not be completed", Cause: errors.New("cognito: event has no userName")}
	}
	if err := t.Users.VerifyEmail(ctx, e.UserName, attrs["email"]); err != nil {
		return &PublicError{Message: "sign-in could not be completed, please try again", Cause: fmt.Errorf("verifying email: %w", err)}
	}
	logging.Add(ctx, slog.String("outcome", "email_verified"))
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
