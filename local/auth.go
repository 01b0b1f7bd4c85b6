package local

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// maxSessions bounds the open auth sessions kept in memory.
const maxSessions = 20000

// A Session string has the shape of Cognito's: standard base64 (with + and
// /) of an AWS Encryption SDK message, whose header (version 1, type 0x80,
// algorithm 0x0178) makes every session start "AYABe". So a session never
// starts with "-", which command-line parsers such as the AWS CLI's would
// take for an option, and a client that mangles "+" or "/" fails here as it
// would against AWS.
const sessionBytes = 384 // 512 characters

var sessionHeader = []byte{0x01, 0x80, 0x01, 0x78}

// authSession is what Cognito remembers between InitiateAuth and
// RespondToAuthChallenge, behind the opaque Session string.
type authSession struct {
	clientID     string
	username     string // the user's sub, or the made-up name of an unknown user
	entered      string // the USERNAME the client gave (an address, usually)
	userNotFound bool
	entries      []sessionEntry
	answered     bool // a CUSTOM_CHALLENGE answer has been verified
	private      map[string]string
	metadata     *string
	expires      time.Time
}

// sessionStore keeps open sessions; each is taken out on use, so a Session
// string works once.
type sessionStore struct {
	mu        sync.Mutex
	m         map[string]*authSession
	max       int
	lastSweep time.Time
}

func newSessionStore(max int) *sessionStore {
	return &sessionStore{m: map[string]*authSession{}, max: max}
}

func (s *sessionStore) put(now time.Time, a *authSession) (string, error) {
	b := make([]byte, sessionBytes)
	copy(b, sessionHeader)
	if _, err := rand.Read(b[len(sessionHeader):]); err != nil {
		return "", err
	}
	id := base64.StdEncoding.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max || now.Sub(s.lastSweep) > time.Minute {
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
		}
		s.lastSweep = now
	}
	if len(s.m) >= s.max {
		return "", errTooManySessions
	}
	s.m[id] = a
	return id, nil
}

// take removes the session and returns it; a second take of the same string
// finds nothing.
func (s *sessionStore) take(id string) (*authSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[id]
	delete(s.m, id)
	return a, ok
}

func (s *sessionStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// authResult is what the auth operations answer.
type authResult struct {
	ChallengeName        string            `json:"ChallengeName,omitempty"`
	Session              string            `json:"Session,omitempty"`
	ChallengeParameters  map[string]string `json:"ChallengeParameters"`
	AuthenticationResult *tokenSet         `json:"AuthenticationResult,omitempty"`
}

func (c *cognito) initiateAuth(ctx context.Context, body []byte) (any, error) {
	var in struct {
		AuthFlow       string
		ClientID       string `json:"ClientId"`
		AuthParameters map[string]string
		ClientMetadata map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.AuthFlow == "" {
		return nil, missing("authFlow")
	}
	if err := c.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	switch in.AuthFlow {
	case "CUSTOM_AUTH":
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		return c.refresh(in.AuthParameters["REFRESH_TOKEN"])
	case "USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH":
		return nil, errorf("InvalidParameterException", "%s flow not enabled for this client", in.AuthFlow)
	default:
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%s' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]", in.AuthFlow)
	}
	name := in.AuthParameters["USERNAME"]
	if name == "" {
		return nil, errorf("InvalidParameterException", "Missing required parameter USERNAME")
	}
	a := &authSession{clientID: in.ClientID, entered: name, entries: []sessionEntry{}}
	if in.AuthParameters["SRP_A"] != "" {
		// A client that sends SRP_A with CUSTOM_AUTH (amazon-cognito-identity-js
		// authenticateUser, Amplify's CUSTOM_WITH_SRP) makes Cognito run the
		// SRP step first: Define sees it as a passed SRP_A entry (DESIGN.md,
		// facts of turn 2) and decides whether a PASSWORD_VERIFIER follows.
		a.entries = append(a.entries, sessionEntry{ChallengeName: "SRP_A", ChallengeResult: true})
	}
	attrs := map[string]string{}
	if u, ok := c.users.get(name); ok {
		if !u.enabled {
			return nil, errUserDisabled
		}
		if u.tempPasswordExpired(c.cfg.now()) {
			return nil, errTempExpired
		}
		a.username, attrs = u.sub, u.eventAttributes()
	} else {
		// PreventUserExistenceErrors: go through the motions with a
		// made-up user whose answers are always wrong.
		a.username, a.userNotFound = c.unknownUsername(name), true
	}
	// ClientMetadata given to InitiateAuth does not reach the custom-auth
	// triggers (DESIGN.md "Facts"), so it is dropped here.
	return c.nextStep(ctx, a, attrs, nil)
}

// unknownUsername is a stable made-up sub for an address with no account.
func (c *cognito) unknownUsername(name string) string {
	m := hmac.New(sha256.New, c.unknownKey)
	m.Write([]byte(strings.ToLower(name)))
	id, err := uuid.NewRandomFromReader(bytes.NewReader(m.Sum(nil)))
	if err != nil { // cannot happen: the sum is 32 bytes and 16 are read
		panic(err)
	}
	return id.String()
}

// nextStep runs Define with the session so far and acts on its answer:
// tokens, failure, or a new challenge behind a new Session.
func (c *cognito) nextStep(ctx context.Context, a *authSession, attrs map[string]string, meta map[string]string) (any, error) {
	var def defineResponse
	err := c.invokeInto(ctx, "DefineAuthChallenge", triggerEvent{
		UserName:      a.username,
		ClientID:      a.clientID,
		TriggerSource: "DefineAuthChallenge_Authentication",
		Request: defineRequest{
			UserAttributes: attrs,
			Session:        a.entries,
			ClientMetadata: meta,
			UserNotFound:   a.notFoundFlag(),
		},
		Response: defineResponse{},
	}, &def)
	if err != nil {
		return nil, err
	}
	switch {
	case def.IssueTokens != nil && *def.IssueTokens:
		if a.userNotFound {
			// A trigger that lets an unknown user through is a bug; tokens
			// for nobody cannot be made.
			return nil, errIncorrect
		}
		return c.issue(ctx, a, meta)
	case def.FailAuthentication != nil && *def.FailAuthentication:
		return nil, errIncorrect
	case def.ChallengeName == nil:
		return nil, errInvalidLambdaResponse
	case *def.ChallengeName != "CUSTOM_CHALLENGE":
		// Cognito would go on with PASSWORD_VERIFIER after SRP_A; the
		// stand-in keeps no passwords and runs only custom challenges.
		return nil, errorf("InvalidLambdaResponseException", "DefineAuthChallenge asked for %q; the local stand-in only runs CUSTOM_CHALLENGE", *def.ChallengeName)
	}

	var cr createResponse
	err = c.invokeInto(ctx, "CreateAuthChallenge", triggerEvent{
		UserName:      a.username,
		ClientID:      a.clientID,
		TriggerSource: "CreateAuthChallenge_Authentication",
		Request: createRequest{
			UserAttributes: attrs,
			ChallengeName:  "CUSTOM_CHALLENGE",
			Session:        a.entries,
			ClientMetadata: meta,
			UserNotFound:   a.notFoundFlag(),
		},
		Response: createResponse{},
	}, &cr)
	if err != nil {
		return nil, err
	}
	if len(cr.PrivateChallengeParameters) == 0 {
		// Cognito refuses an empty private map, and says only this.
		return nil, errIncorrect
	}
	a.private, a.metadata = cr.PrivateChallengeParameters, cr.ChallengeMetadata
	a.expires = c.cfg.now().Add(c.cfg.sessionTTL)
	id, err := c.sessions.put(c.cfg.now(), a)
	if err != nil {
		return nil, err
	}
	params := make(map[string]string, len(cr.PublicChallengeParameters)+1)
	for k, v := range cr.PublicChallengeParameters {
		params[k] = v
	}
	params["USERNAME"] = a.username
	return authResult{ChallengeName: "CUSTOM_CHALLENGE", Session: id, ChallengeParameters: params}, nil
}

// notFoundFlag is request.userNotFound as Cognito sends it: always when
// true, and for a known user only before the first answer.
func (a *authSession) notFoundFlag() *bool {
	if a.userNotFound || !a.answered {
		v := a.userNotFound
		return &v
	}
	return nil
}

func (c *cognito) respondToAuthChallenge(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ChallengeName      string
		ClientID           string `json:"ClientId"`
		Session            string
		ChallengeResponses map[string]string
		ClientMetadata     map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ChallengeName == "" {
		return nil, missing("challengeName")
	}
	if err := c.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	if in.ChallengeName != "CUSTOM_CHALLENGE" {
		return nil, errorf("InvalidParameterException", "Unsupported challenge %s for this flow", in.ChallengeName)
	}
	if in.Session == "" {
		return nil, errorf("InvalidParameterException", "Missing required parameter Session")
	}
	name := in.ChallengeResponses["USERNAME"]
	if name == "" {
		return nil, errorf("InvalidParameterException", "Missing required parameter USERNAME")
	}
	answer, ok := in.ChallengeResponses["ANSWER"]
	if !ok {
		return nil, errorf("InvalidParameterException", "Missing required parameter ANSWER")
	}

	a, ok := c.sessions.take(in.Session)
	switch {
	case !ok || a.clientID != in.ClientID:
		return nil, errInvalidSession
	case !c.cfg.now().Before(a.expires):
		return nil, errExpiredSession
	}
	if name != a.username && !strings.EqualFold(name, a.entered) {
		return nil, errInvalidSession
	}

	attrs := map[string]string{}
	if !a.userNotFound {
		// Read afresh: the link may have been issued since InitiateAuth.
		u, ok := c.users.get(a.username)
		if !ok {
			return nil, errIncorrect
		}
		if !u.enabled {
			return nil, errUserDisabled
		}
		attrs = u.eventAttributes()
	}
	var vr verifyResponse
	err := c.invokeInto(ctx, "VerifyAuthChallengeResponse", triggerEvent{
		UserName:      a.username,
		ClientID:      a.clientID,
		TriggerSource: "VerifyAuthChallengeResponse_Authentication",
		Request: verifyRequest{
			UserAttributes:             attrs,
			PrivateChallengeParameters: a.private,
			ChallengeAnswer:            answer,
			ClientMetadata:             in.ClientMetadata,
			UserNotFound:               &a.userNotFound,
		},
		Response: verifyResponse{},
	}, &vr)
	if err != nil {
		return nil, err
	}
	correct := vr.AnswerCorrect != nil && *vr.AnswerCorrect && !a.userNotFound
	a.entries = append(a.entries, sessionEntry{ChallengeName: "CUSTOM_CHALLENGE", ChallengeResult: correct, ChallengeMetadata: a.metadata})
	a.answered = true

	if !a.userNotFound {
		// Verify may have changed the user (consumed the challenge).
		u, ok := c.users.get(a.username)
		if !ok {
			return nil, errIncorrect
		}
		attrs = u.eventAttributes()
	}
	return c.nextStep(ctx, a, attrs, in.ClientMetadata)
}

// issue runs PostAuthentication and then mints the tokens, as Cognito does:
// a failing PostAuthentication means no tokens.
func (c *cognito) issue(ctx context.Context, a *authSession, meta map[string]string) (any, error) {
	u, ok := c.users.get(a.username)
	if !ok {
		return nil, errIncorrect
	}
	_, err := c.invoke(ctx, "PostAuthentication", triggerEvent{
		UserName:      u.sub,
		ClientID:      a.clientID,
		TriggerSource: "PostAuthentication_Authentication",
		Request:       postAuthRequest{UserAttributes: u.eventAttributes(), ClientMetadata: meta},
		Response:      struct{}{},
	})
	if err != nil {
		return nil, err
	}
	// Tokens carry the attributes as PostAuthentication left them (it sets
	// email_verified).
	if fresh, ok := c.users.get(u.sub); ok {
		u = fresh
	}
	ts, err := c.tokens.issue(u, a.clientID, c.cfg.now())
	if err != nil {
		return nil, err
	}
	return authResult{ChallengeParameters: map[string]string{}, AuthenticationResult: ts}, nil
}
