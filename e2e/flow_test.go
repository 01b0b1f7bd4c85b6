package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
)

// The steps of a sign-in, each one real HTTP against the server.

var client = &http.Client{Timeout: 10 * time.Second}

func (s *server) do(t *testing.T, method, path string, body []byte, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// login is POST /login as the address form sends it.
func (s *server) login(t *testing.T, email string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email})
	status, body := s.do(t, http.MethodPost, "/login", b, map[string]string{"Content-Type": "application/json", "Origin": s.URL})
	var out map[string]any
	json.Unmarshal(body, &out)
	return status, out
}

type mail struct {
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	HTML    string    `json:"html"`
	SentAt  time.Time `json:"sentAt"`
}

// mails lists the outbox for one address, oldest first.
func (s *server) mails(t *testing.T, to string) []mail {
	t.Helper()
	status, body := s.do(t, http.MethodGet, "/local/outbox?to="+url.QueryEscape(to), nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /local/outbox: %d %s", status, body)
	}
	var out []mail
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("outbox: %v: %s", err, body)
	}
	return out
}

// link finds the sign-in link in the latest mail to the address.
func (s *server) link(t *testing.T, to string) string {
	t.Helper()
	ms := s.mails(t, to)
	if len(ms) == 0 {
		t.Fatalf("no mail to %s in the outbox", to)
	}
	m := ms[len(ms)-1]
	re := regexp.MustCompile(regexp.QuoteMeta(s.Env["SIGN_IN_URL"]) + `#[^\s"<>]+`)
	link := re.FindString(m.Text)
	if link == "" {
		t.Fatalf("no link to %s in the mail's text:\n%s", s.Env["SIGN_IN_URL"], m.Text)
	}
	if !strings.Contains(m.HTML, link) {
		t.Errorf("the HTML body does not carry the same link")
	}
	return link
}

// parseLink reads the fragment as the page does: split at the last comma,
// the address QueryEscape'd before it, the answer after it.
func parseLink(t *testing.T, link string) (email, answer string) {
	t.Helper()
	_, frag, ok := strings.Cut(link, "#")
	i := strings.LastIndex(frag, ",")
	if !ok || i < 0 {
		t.Fatalf("link without a fragment of the form email,challenge")
	}
	email, err := url.QueryUnescape(frag[:i])
	if err != nil {
		t.Fatalf("link's address: %v", err)
	}
	return email, frag[i+1:]
}

// cognito is the SDK client pointed at the server's Cognito stand-in, as a
// back end or a test would build it.
func (s *server) cognito() *cip.Client {
	return cip.New(cip.Options{
		Region:           s.Env["AWS_REGION"],
		BaseEndpoint:     aws.String(s.URL + "/local/cognito"),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 1,
	})
}

func (s *server) initiate(t *testing.T, email string) *cip.InitiateAuthOutput {
	t.Helper()
	out, err := s.cognito().InitiateAuth(t.Context(), &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(s.Env["USER_POOL_CLIENT_ID"]),
		AuthParameters: map[string]string{"USERNAME": email},
	})
	if err != nil {
		t.Fatalf("InitiateAuth: %v", err)
	}
	if out.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge || aws.ToString(out.Session) == "" {
		t.Fatalf("InitiateAuth: no custom challenge: %+v", out)
	}
	return out
}

// answer sends ANSWER for the challenge (session, username) and returns
// Cognito's reply.
func (s *server) answer(t *testing.T, session, username, answer string) (*cip.RespondToAuthChallengeOutput, error) {
	t.Helper()
	return s.cognito().RespondToAuthChallenge(t.Context(), &cip.RespondToAuthChallengeInput{
		ChallengeName: ciptypes.ChallengeNameTypeCustomChallenge, ClientId: aws.String(s.Env["USER_POOL_CLIENT_ID"]),
		Session:            aws.String(session),
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
	})
}

// me is GET /me with a bearer token.
func (s *server) me(t *testing.T, token string) (int, map[string]any) {
	t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	status, body := s.do(t, http.MethodGet, "/me", nil, h)
	var out map[string]any
	json.Unmarshal(body, &out)
	return status, out
}

func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
}

// signIn runs the whole flow with the SDK and returns the tokens and the
// user's sub.
func (s *server) signIn(t *testing.T, email string) (*ciptypes.AuthenticationResultType, string) {
	t.Helper()
	if status, _ := s.login(t, email); status != http.StatusAccepted {
		t.Fatalf("POST /login: %d", status)
	}
	linkEmail, answer := parseLink(t, s.link(t, email))
	if linkEmail != email {
		t.Fatalf("link is for %q, want %q", linkEmail, email)
	}
	ch := s.initiate(t, linkEmail)
	sub := ch.ChallengeParameters["USERNAME"]
	out, err := s.answer(t, aws.ToString(ch.Session), sub, answer)
	if err != nil {
		t.Fatalf("RespondToAuthChallenge: %v", err)
	}
	if out.AuthenticationResult == nil {
		t.Fatalf("the link's answer got another challenge, not tokens: %+v", out)
	}
	return out.AuthenticationResult, sub
}

func TestSignInWithTheSDK(t *testing.T) {
	s := startServer(t, nil)
	email := "ada+sdk@example.com" // a + must survive the link's encoding
	status, body := s.login(t, email)
	if status != http.StatusAccepted || body["status"] != "accepted" {
		t.Fatalf("POST /login: %d %v", status, body)
	}
	ms := s.mails(t, email)
	if len(ms) != 1 || len(ms[0].To) != 1 || ms[0].To[0] != email || ms[0].SentAt.IsZero() || ms[0].Subject == "" {
		t.Fatalf("outbox: %+v", ms)
	}
	linkEmail, answer := parseLink(t, s.link(t, email))
	if linkEmail != email || len(answer) < 22 {
		t.Fatalf("link: email %q, answer of %d chars", linkEmail, len(answer))
	}

	ch := s.initiate(t, linkEmail)
	sub := ch.ChallengeParameters["USERNAME"]
	if len(sub) != 36 {
		t.Fatalf("ChallengeParameters.USERNAME = %q, want the user's sub", sub)
	}
	out, err := s.answer(t, aws.ToString(ch.Session), sub, answer)
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("RespondToAuthChallenge: %+v, %v", out, err)
	}

	status, claims := s.me(t, aws.ToString(out.AuthenticationResult.IdToken))
	if status != http.StatusOK || claims["sub"] != sub || claims["email"] != email {
		t.Fatalf("GET /me: %d %v", status, claims)
	}
	// The user proved the inbox is theirs: PostAuthentication said so.
	u, err := s.cognito().GetUser(t.Context(), &cip.GetUserInput{AccessToken: out.AuthenticationResult.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range u.UserAttributes {
		if aws.ToString(a.Name) == "email_verified" && aws.ToString(a.Value) != "true" {
			t.Errorf("email_verified = %s after a sign-in", aws.ToString(a.Value))
		}
	}
}

// TestSignInLikeTheBrowser does what the sign-in page does: read
// /config.json, then call Cognito with fetch-style JSON requests.
func TestSignInLikeTheBrowser(t *testing.T) {
	s := startServer(t, nil)
	email := "grace@example.com"
	if status, _ := s.login(t, email); status != http.StatusAccepted {
		t.Fatalf("POST /login: %d", status)
	}
	linkEmail, answer := parseLink(t, s.link(t, email))

	status, body := s.do(t, http.MethodGet, "/config.json", nil, nil)
	var cfg struct {
		Region, UserPoolID, ClientID, CognitoEndpoint string
	}
	if err := json.Unmarshal(body, &cfg); status != http.StatusOK || err != nil {
		t.Fatalf("GET /config.json: %d %s", status, body)
	}
	if cfg.ClientID != s.Env["USER_POOL_CLIENT_ID"] || cfg.CognitoEndpoint != s.URL+"/local/cognito" {
		t.Fatalf("config.json: %+v", cfg)
	}
	endpoint, err := url.Parse(cfg.CognitoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	call := func(op string, in any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(in)
		status, body := s.do(t, http.MethodPost, endpoint.Path, b, map[string]string{
			"Content-Type": "application/x-amz-json-1.1",
			"X-Amz-Target": "AWSCognitoIdentityProviderService." + op,
			"Origin":       s.URL,
		})
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: not JSON: %s", op, body)
		}
		return status, out
	}

	status, ch := call("InitiateAuth", map[string]any{
		"AuthFlow": "CUSTOM_AUTH", "ClientId": cfg.ClientID, "AuthParameters": map[string]string{"USERNAME": linkEmail},
	})
	if status != http.StatusOK || ch["ChallengeName"] != "CUSTOM_CHALLENGE" {
		t.Fatalf("InitiateAuth: %d %v", status, ch)
	}
	params := ch["ChallengeParameters"].(map[string]any)
	status, res := call("RespondToAuthChallenge", map[string]any{
		"ChallengeName": "CUSTOM_CHALLENGE", "ClientId": cfg.ClientID, "Session": ch["Session"],
		"ChallengeResponses": map[string]any{"USERNAME": params["USERNAME"], "ANSWER": answer},
	})
	ar, _ := res["AuthenticationResult"].(map[string]any)
	if status != http.StatusOK || ar == nil || ar["TokenType"] != "Bearer" || ar["ExpiresIn"] != float64(3600) {
		t.Fatalf("RespondToAuthChallenge: %d %v", status, res)
	}

	for _, tok := range []string{"IdToken", "AccessToken"} {
		status, claims := s.me(t, ar[tok].(string))
		if status != http.StatusOK || claims["sub"] != params["USERNAME"] {
			t.Errorf("GET /me with the %s: %d %v", tok, status, claims)
		}
	}

	// Signing out through Cognito ends the session for GetUser.
	if status, out := call("GlobalSignOut", map[string]any{"AccessToken": ar["AccessToken"]}); status != http.StatusOK {
		t.Fatalf("GlobalSignOut: %d %v", status, out)
	}
	status, out := call("GetUser", map[string]any{"AccessToken": ar["AccessToken"]})
	if status != http.StatusBadRequest || out["__type"] != "NotAuthorizedException" {
		t.Fatalf("GetUser after sign-out: %d %v", status, out)
	}
}

func TestLinkWorksOnce(t *testing.T) {
	s := startServer(t, nil)
	email := "alan@example.com"
	s.signIn(t, email)
	_, answer := parseLink(t, s.link(t, email))

	ch := s.initiate(t, email)
	out, err := s.answer(t, aws.ToString(ch.Session), ch.ChallengeParameters["USERNAME"], answer)
	if err != nil {
		t.Fatalf("a spent link should be a wrong answer, not an error: %v", err)
	}
	if out.AuthenticationResult != nil {
		t.Fatal("the same link signed in twice")
	}
}

func TestExpiredLink(t *testing.T) {
	s := startServer(t, map[string]string{"LINK_TTL": "1m"})
	email := "edsger@example.com"
	if status, _ := s.login(t, email); status != http.StatusAccepted {
		t.Fatalf("POST /login: %d", status)
	}
	_, answer := parseLink(t, s.link(t, email))

	// Move the local stack's clock (shared by the handlers, the triggers
	// and the stand-ins) past the link's lifetime.
	status, body := s.do(t, http.MethodPost, "/local/clock", []byte(`{"advance":"2m"}`), map[string]string{"Content-Type": "application/json"})
	if status != http.StatusOK {
		t.Fatalf("POST /local/clock: %d %s", status, body)
	}
	ch := s.initiate(t, email)
	out, err := s.answer(t, aws.ToString(ch.Session), ch.ChallengeParameters["USERNAME"], answer)
	if err != nil {
		t.Fatalf("an expired link should be a wrong answer: %v", err)
	}
	if out.AuthenticationResult != nil {
		t.Fatal("an expired link signed in")
	}
}

func TestWrongAnswersUntilFailure(t *testing.T) {
	s := startServer(t, nil) // MAX_ATTEMPTS defaults to 3
	email := "barbara@example.com"
	if status, _ := s.login(t, email); status != http.StatusAccepted {
		t.Fatalf("POST /login: %d", status)
	}
	_, answer := parseLink(t, s.link(t, email))

	ch := s.initiate(t, email)
	user := ch.ChallengeParameters["USERNAME"]
	first := aws.ToString(ch.Session)
	session := first
	for i := range 2 {
		out, err := s.answer(t, session, user, "wrong-"+answer)
		if err != nil || out.AuthenticationResult != nil || aws.ToString(out.Session) == session {
			t.Fatalf("wrong answer %d: want a new challenge, got %+v, %v", i+1, out, err)
		}
		session = aws.ToString(out.Session)
	}
	// A session is single-use: the first one is spent, even with the right answer.
	_, err := s.answer(t, first, user, answer)
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")

	_, err = s.answer(t, session, user, "wrong-"+answer)
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
	// The failed session is over too.
	_, err = s.answer(t, session, user, answer)
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")
}

func TestUnknownUserWithSignUpOff(t *testing.T) {
	s := startServer(t, map[string]string{"SIGN_UP": "off"})
	email := "nobody@example.com"
	status, body := s.login(t, email)
	if status != http.StatusAccepted || body["status"] != "accepted" {
		t.Fatalf("POST /login for an unknown address: %d %v", status, body)
	}
	if ms := s.mails(t, email); len(ms) != 0 {
		t.Fatalf("mail sent to an unknown address with SIGN_UP=off: %+v", ms)
	}

	// Cognito does not tell either: a challenge, answers that never work.
	ch := s.initiate(t, email)
	user := ch.ChallengeParameters["USERNAME"]
	if again := s.initiate(t, email); again.ChallengeParameters["USERNAME"] != user {
		t.Error("the unknown user's made-up username changes between sign-ins")
	}
	session := aws.ToString(ch.Session)
	for i := range 2 {
		out, err := s.answer(t, session, user, "guess")
		if err != nil || out.AuthenticationResult != nil {
			t.Fatalf("answer %d: %+v, %v", i+1, out, err)
		}
		session = aws.ToString(out.Session)
	}
	_, err := s.answer(t, session, user, "guess")
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
}

func TestMeRejectsTamperedTokens(t *testing.T) {
	s := startServer(t, nil)
	tokens, sub := s.signIn(t, "linus@example.com")
	id := aws.ToString(tokens.IdToken)
	if status, claims := s.me(t, id); status != http.StatusOK || claims["sub"] != sub {
		t.Fatalf("GET /me with the real token: %d %v", status, claims)
	}

	parts := strings.Split(id, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	claims["sub"] = "00000000-0000-4000-8000-000000000000"
	claims["email"] = "mallory@example.com"
	forged, _ := json.Marshal(claims)
	flipped := []byte(parts[2])
	flipped[10] ^= 1

	cases := map[string]string{
		"claims changed":    parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2],
		"signature changed": parts[0] + "." + parts[1] + "." + string(flipped),
		"unsigned":          base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"no token":          "",
		"garbage":           "not-a-token",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if status, body := s.me(t, tok); status != http.StatusUnauthorized {
				t.Fatalf("GET /me: %d %v, want 401", status, body)
			}
		})
	}
}
