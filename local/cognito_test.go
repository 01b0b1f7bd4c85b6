package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	jose "github.com/go-jose/go-jose/v4"
)

// createUser makes a confirmed user through the SDK, as the product does.
func (e *testEnv) createUser(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	out, err := e.cip.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(testPool), Username: aws.String(email),
		MessageAction: ciptypes.MessageActionTypeSuppress,
	})
	if err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	_, err = e.cip.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(testPool), Username: aws.String(email),
		Password: aws.String("Aa1!random-nobody-knows"), Permanent: true,
	})
	if err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	return aws.ToString(out.User.Username)
}

func (e *testEnv) setChallenge(t *testing.T, username, value string) {
	t.Helper()
	_, err := e.cip.AdminUpdateUserAttributes(context.Background(), &cip.AdminUpdateUserAttributesInput{
		UserPoolId: aws.String(testPool), Username: aws.String(username),
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String(attrChallenge), Value: aws.String(value)}},
	})
	if err != nil {
		t.Fatalf("AdminUpdateUserAttributes: %v", err)
	}
}

func (e *testEnv) initiate(t *testing.T, username string) *cip.InitiateAuthOutput {
	t.Helper()
	out, err := e.cip.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(testClient),
		AuthParameters: map[string]string{"USERNAME": username},
	})
	if err != nil {
		t.Fatalf("InitiateAuth: %v", err)
	}
	return out
}

func (e *testEnv) respond(session, username, answer string) (*cip.RespondToAuthChallengeOutput, error) {
	return e.cip.RespondToAuthChallenge(context.Background(), &cip.RespondToAuthChallengeInput{
		ChallengeName: ciptypes.ChallengeNameTypeCustomChallenge, ClientId: aws.String(testClient),
		Session:            aws.String(session),
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
	})
}

// wantAPIError checks an SDK error's code and, when msg is set, message.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func TestFullFlowThroughSDK(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	sub := e.createUser(t, "Alice@Example.com")

	got, err := e.cip.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Username) != sub || got.UserStatus != ciptypes.UserStatusTypeConfirmed || !got.Enabled {
		t.Fatalf("AdminGetUser by alias: %+v", got)
	}
	if got.UserCreateDate == nil || time.Since(*got.UserCreateDate) > time.Minute {
		t.Fatalf("UserCreateDate: %v", got.UserCreateDate)
	}
	e.setChallenge(t, sub, "the-secret")

	list, err := e.cip.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(testPool), Filter: aws.String(`email = "Alice@Example.com"`)})
	if err != nil || len(list.Users) != 1 || aws.ToString(list.Users[0].Username) != sub {
		t.Fatalf("ListUsers: %+v, %v", list, err)
	}

	ch := e.initiate(t, "alice@example.com")
	if ch.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge || ch.ChallengeParameters["USERNAME"] != sub || ch.ChallengeParameters["kind"] != "link" {
		t.Fatalf("InitiateAuth: %+v", ch)
	}
	// A wrong answer gets a new challenge behind a new session.
	wrong, err := e.respond(aws.ToString(ch.Session), sub, "not-it")
	if err != nil || wrong.AuthenticationResult != nil || aws.ToString(wrong.Session) == "" || aws.ToString(wrong.Session) == aws.ToString(ch.Session) {
		t.Fatalf("wrong answer: %+v, %v", wrong, err)
	}
	ok, err := e.respond(aws.ToString(wrong.Session), sub, "the-secret")
	if err != nil || ok.AuthenticationResult == nil {
		t.Fatalf("right answer: %+v, %v", ok, err)
	}
	ar := ok.AuthenticationResult
	if ar.ExpiresIn != 3600 || aws.ToString(ar.TokenType) != "Bearer" || aws.ToString(ar.RefreshToken) == "" {
		t.Fatalf("AuthenticationResult: %+v", ar)
	}

	// The ID token verifies against the published JWKS and says who signed in.
	claims := verifyWithJWKS(t, e, aws.ToString(ar.IdToken))
	want := map[string]any{
		"sub": sub, "iss": e.stack.Issuer(), "aud": testClient, "token_use": "id",
		"cognito:username": sub, "email": "Alice@Example.com", // as created "email_verified": false,
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("ID token %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"auth_time", "iat", "exp", "jti", "origin_jti", "event_id"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("ID token has no %s", k)
		}
	}
	if e.stack.Issuer() != e.stack.CognitoEndpoint()+"/"+testPool {
		t.Errorf("issuer %q", e.stack.Issuer())
	}
	access := verifyWithJWKS(t, e, aws.ToString(ar.AccessToken))
	if access["token_use"] != "access" || access["client_id"] != testClient || access["scope"] != "aws.cognito.signin.user.admin" || access["username"] != sub {
		t.Errorf("access token claims: %v", access)
	}

	me, err := e.cip.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	if err != nil || aws.ToString(me.Username) != sub {
		t.Fatalf("GetUser: %+v, %v", me, err)
	}
	for _, a := range me.UserAttributes {
		if aws.ToString(a.Name) == attrChallenge {
			t.Errorf("GetUser shows %s to the app client", attrChallenge)
		}
	}

	if _, err := e.cip.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: ar.AccessToken}); err != nil {
		t.Fatal(err)
	}
	_, err = e.cip.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	_, err = e.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(testClient),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(ar.RefreshToken)},
	})
	wantAPIError(t, err, "NotAuthorizedException", "")
}

func verifyWithJWKS(t *testing.T, e *testEnv, token string) map[string]any {
	t.Helper()
	resp, err := e.srv.Client().Get(e.stack.Issuer() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(obj.Signatures[0].Header.KeyID)
	if len(keys) != 1 || keys[0].Algorithm != "RS256" || !keys[0].IsPublic() {
		t.Fatalf("JWKS has no public key for kid %q: %+v", obj.Signatures[0].Header.KeyID, set)
	}
	payload, err := obj.Verify(keys[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestTriggerEventsAreShapedLikeCognitos(t *testing.T) {
	e := newTestEnv(t, nil)
	sub := e.createUser(t, "bob@example.com")
	e.setChallenge(t, sub, "s3cret")
	ch := e.initiate(t, "bob@example.com")
	if _, err := e.respond(aws.ToString(ch.Session), "bob@example.com", "wrong"); err != nil {
		t.Fatal(err)
	}

	pre := e.triggers.eventsOf("PreSignUp_AdminCreateUser")
	if len(pre) != 1 || pre[0]["callerContext"].(map[string]any)["clientId"] != "CLIENT_ID_NOT_APPLICABLE" {
		t.Fatalf("PreSignUp events: %v", pre)
	}
	if r := pre[0]["request"].(map[string]any); r["validationData"] != nil || r["userAttributes"].(map[string]any)["email"] != "bob@example.com" {
		t.Errorf("PreSignUp request: %v", r)
	}

	defs := e.triggers.eventsOf("DefineAuthChallenge_Authentication")
	if len(defs) != 2 {
		t.Fatalf("want 2 Define calls, got %d", len(defs))
	}
	first := defs[0]
	for k, v := range map[string]any{"version": "1", "region": testRegion, "userPoolId": testPool, "userName": sub} {
		if first[k] != v {
			t.Errorf("Define %s = %v, want %v", k, first[k], v)
		}
	}
	if cc := first["callerContext"].(map[string]any); cc["clientId"] != testClient || cc["awsSdkVersion"] == "" {
		t.Errorf("callerContext: %v", cc)
	}
	req := first["request"].(map[string]any)
	if s, ok := req["session"].([]any); !ok || len(s) != 0 {
		t.Errorf("first Define session = %#v, want []", req["session"])
	}
	if req["userNotFound"] != false {
		t.Errorf("first Define userNotFound = %v, want false", req["userNotFound"])
	}
	attrs := req["userAttributes"].(map[string]any)
	if attrs["sub"] != sub || attrs["cognito:user_status"] != "CONFIRMED" || attrs["email"] != "bob@example.com" || attrs["email_verified"] != "false" {
		t.Errorf("userAttributes: %v", attrs)
	}
	resp := first["response"].(map[string]any)
	for _, k := range []string{"challengeName", "issueTokens", "failAuthentication"} {
		if v, ok := resp[k]; !ok || v != nil {
			t.Errorf("Define response %s = %v (present %v), want null", k, v, ok)
		}
	}

	second := defs[1]["request"].(map[string]any)
	if _, ok := second["userNotFound"]; ok {
		t.Error("later Define calls carry userNotFound for a known user; Cognito omits it")
	}
	entries := second["session"].([]any)
	if len(entries) != 1 {
		t.Fatalf("second Define session: %v", entries)
	}
	want := map[string]any{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "MAGIC_LINK"}
	for k, v := range want {
		if entries[0].(map[string]any)[k] != v {
			t.Errorf("session entry %s = %v, want %v", k, entries[0].(map[string]any)[k], v)
		}
	}

	creates := e.triggers.eventsOf("CreateAuthChallenge_Authentication")
	if len(creates) != 2 {
		t.Fatalf("want 2 Create calls, got %d", len(creates))
	}
	cr := creates[0]["response"].(map[string]any)
	for _, k := range []string{"publicChallengeParameters", "privateChallengeParameters", "challengeMetadata"} {
		if v, ok := cr[k]; !ok || v != nil {
			t.Errorf("Create response %s = %v, want null", k, v)
		}
	}
	if creates[0]["request"].(map[string]any)["challengeName"] != "CUSTOM_CHALLENGE" {
		t.Error("Create request has no challengeName")
	}

	verifies := e.triggers.eventsOf("VerifyAuthChallengeResponse_Authentication")
	if len(verifies) != 1 {
		t.Fatalf("want 1 Verify call, got %d", len(verifies))
	}
	vr := verifies[0]["request"].(map[string]any)
	if vr["challengeAnswer"] != "wrong" || vr["privateChallengeParameters"].(map[string]any)["challenge"] != "MAGIC_LINK" ||
		vr["userAttributes"].(map[string]any)[attrChallenge] != "s3cret" {
		t.Errorf("Verify request: %v", vr)
	}
	if r := verifies[0]["response"].(map[string]any); r["answerCorrect"] != nil {
		t.Errorf("Verify response: %v", r)
	}
}

func TestSessionsAreSingleUseAndExpire(t *testing.T) {
	e := newTestEnv(t, nil)
	sub := e.createUser(t, "carol@example.com")
	e.setChallenge(t, sub, "s3cret")

	ch := e.initiate(t, "carol@example.com")
	if _, err := e.respond(aws.ToString(ch.Session), sub, "wrong"); err != nil {
		t.Fatal(err)
	}
	_, err := e.respond(aws.ToString(ch.Session), sub, "s3cret")
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")

	_, err = e.respond("made-up-session-string-long-enough", sub, "s3cret")
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")

	ch = e.initiate(t, "carol@example.com")
	e.clock.Advance(3*time.Minute + time.Second)
	_, err = e.respond(aws.ToString(ch.Session), sub, "s3cret")
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
}

func TestThreeWrongAnswersFail(t *testing.T) {
	e := newTestEnv(t, nil)
	sub := e.createUser(t, "dan@example.com")
	e.setChallenge(t, sub, "s3cret")
	session := aws.ToString(e.initiate(t, sub).Session)
	for i := range 2 {
		out, err := e.respond(session, sub, "wrong")
		if err != nil || out.AuthenticationResult != nil {
			t.Fatalf("wrong answer %d: %+v, %v", i+1, out, err)
		}
		session = aws.ToString(out.Session)
	}
	_, err := e.respond(session, sub, "wrong")
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
}

func TestUnknownUserLooksLikeAKnownOne(t *testing.T) {
	// Even a Verify that says yes must not sign in nobody.
	e := newTestEnv(t, &fakeTriggers{alwaysCorrect: true})
	a := e.initiate(t, "nobody@example.com")
	b := e.initiate(t, "NOBODY@example.com")
	name := a.ChallengeParameters["USERNAME"]
	if a.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge || len(name) != 36 || b.ChallengeParameters["USERNAME"] != name {
		t.Fatalf("unknown user's challenges: %+v / %+v", a.ChallengeParameters, b.ChallengeParameters)
	}
	if other := e.initiate(t, "other@example.com"); other.ChallengeParameters["USERNAME"] == name {
		t.Fatal("two unknown addresses share a made-up username")
	}
	def := e.triggers.eventsOf("DefineAuthChallenge_Authentication")[0]
	if def["request"].(map[string]any)["userNotFound"] != true || def["userName"] != name {
		t.Fatalf("Define for an unknown user: %v", def)
	}

	session := aws.ToString(a.Session)
	for i := range 2 {
		out, err := e.respond(session, "nobody@example.com", "anything")
		if err != nil || out.AuthenticationResult != nil {
			t.Fatalf("answer %d: %+v, %v", i+1, out, err)
		}
		session = aws.ToString(out.Session)
	}
	_, err := e.respond(session, name, "anything")
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
	if n := len(e.triggers.eventsOf("PostAuthentication_Authentication")); n != 0 {
		t.Fatalf("PostAuthentication ran %d times for an unknown user", n)
	}
}

func TestDisabledUser(t *testing.T) {
	e := newTestEnv(t, nil)
	sub := e.createUser(t, "erin@example.com")
	if _, err := e.cip.AdminDisableUser(context.Background(), &cip.AdminDisableUserInput{UserPoolId: aws.String(testPool), Username: aws.String(sub)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.cip.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(testClient),
		AuthParameters: map[string]string{"USERNAME": "erin@example.com"},
	})
	wantAPIError(t, err, "NotAuthorizedException", "User is disabled.")
}

func TestTriggerFailures(t *testing.T) {
	cases := map[string]struct {
		fake     *fakeTriggers
		wantType string
		wantMsg  string
	}{
		"Define returns an error": {
			fake:     &fakeTriggers{fail: map[string]func() ([]byte, error){"DefineAuthChallenge_Authentication": func() ([]byte, error) { return nil, errors.New("boom") }}},
			wantType: "UserLambdaValidationException", wantMsg: "DefineAuthChallenge failed with error boom.",
		},
		"Create returns invalid JSON": {
			fake:     &fakeTriggers{fail: map[string]func() ([]byte, error){"CreateAuthChallenge_Authentication": func() ([]byte, error) { return []byte("{not json"), nil }}},
			wantType: "InvalidLambdaResponseException", wantMsg: "Unrecognizable lambda output",
		},
		"Create returns a response of the wrong shape": {
			fake:     &fakeTriggers{fail: map[string]func() ([]byte, error){"CreateAuthChallenge_Authentication": func() ([]byte, error) { return []byte(`{"response":{"privateChallengeParameters":[1]}}`), nil }}},
			wantType: "InvalidLambdaResponseException",
		},
		"Create returns no private parameters": {
			fake:     &fakeTriggers{emptyPrivate: true},
			wantType: "NotAuthorizedException", wantMsg: "Incorrect username or password.",
		},
		"Define names no challenge": {
			fake:     &fakeTriggers{fail: map[string]func() ([]byte, error){"DefineAuthChallenge_Authentication": func() ([]byte, error) { return []byte(`{"response":{"challengeName":null}}`), nil }}},
			wantType: "InvalidLambdaResponseException",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, tc.fake)
			e.createUser(t, "frank@example.com")
			_, err := e.cip.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
				AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(testClient),
				AuthParameters: map[string]string{"USERNAME": "frank@example.com"},
			})
			wantAPIError(t, err, tc.wantType, tc.wantMsg)
		})
	}
}

func TestPostAuthenticationFailureMeansNoTokens(t *testing.T) {
	e := newTestEnv(t, &fakeTriggers{fail: map[string]func() ([]byte, error){
		"PostAuthentication_Authentication": func() ([]byte, error) { return nil, errors.New("db down") },
	}})
	sub := e.createUser(t, "gina@example.com")
	e.setChallenge(t, sub, "s3cret")
	_, err := e.respond(aws.ToString(e.initiate(t, sub).Session), sub, "s3cret")
	wantAPIError(t, err, "UserLambdaValidationException", "PostAuthentication failed with error db down.")
}

// rawCall posts a JSON 1.1 request the way a browser's fetch does.
func rawCall(t *testing.T, e *testEnv, path, op, body string, signed bool) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	if signed {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20240101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=00")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: not JSON: %q", op, b)
	}
	flat := map[string]string{}
	for k, v := range out {
		if s, ok := v.(string); ok {
			flat[k] = s
		}
	}
	return resp.StatusCode, flat
}

func TestRejectsWhatCognitoRejects(t *testing.T) {
	e := newTestEnv(t, nil)
	e.createUser(t, "hank@example.com")
	long := strings.Repeat("x", 2049)
	cases := map[string]struct {
		op, body string
		signed   bool
		wantType string
	}{
		"unknown client":             {"InitiateAuth", `{"AuthFlow":"CUSTOM_AUTH","ClientId":"nope","AuthParameters":{"USERNAME":"hank@example.com"}}`, false, "ResourceNotFoundException"},
		"missing client":             {"InitiateAuth", `{"AuthFlow":"CUSTOM_AUTH","AuthParameters":{"USERNAME":"hank@example.com"}}`, false, "InvalidParameterException"},
		"missing USERNAME":           {"InitiateAuth", `{"AuthFlow":"CUSTOM_AUTH","ClientId":"localclient","AuthParameters":{}}`, false, "InvalidParameterException"},
		"password flow":              {"InitiateAuth", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"localclient","AuthParameters":{"USERNAME":"hank@example.com","PASSWORD":"x"}}`, false, "InvalidParameterException"},
		"unknown flow":               {"InitiateAuth", `{"AuthFlow":"MAGIC","ClientId":"localclient"}`, false, "InvalidParameterException"},
		"malformed JSON":             {"InitiateAuth", `{"AuthFlow":`, false, "SerializationException"},
		"respond without session":    {"RespondToAuthChallenge", `{"ChallengeName":"CUSTOM_CHALLENGE","ClientId":"localclient","ChallengeResponses":{"USERNAME":"x","ANSWER":"y"}}`, false, "InvalidParameterException"},
		"respond with wrong client":  {"RespondToAuthChallenge", `{"ChallengeName":"CUSTOM_CHALLENGE","ClientId":"nope","Session":"s","ChallengeResponses":{"USERNAME":"x","ANSWER":"y"}}`, false, "ResourceNotFoundException"},
		"respond without ANSWER":     {"RespondToAuthChallenge", `{"ChallengeName":"CUSTOM_CHALLENGE","ClientId":"localclient","Session":"s","ChallengeResponses":{"USERNAME":"x"}}`, false, "InvalidParameterException"},
		"respond to SRP":             {"RespondToAuthChallenge", `{"ChallengeName":"PASSWORD_VERIFIER","ClientId":"localclient","Session":"s","ChallengeResponses":{"USERNAME":"x"}}`, false, "InvalidParameterException"},
		"unsigned admin call":        {"AdminGetUser", `{"UserPoolId":"us-east-1_localpool","Username":"hank@example.com"}`, false, "MissingAuthenticationTokenException"},
		"unknown pool":               {"AdminGetUser", `{"UserPoolId":"us-east-1_other","Username":"hank@example.com"}`, true, "ResourceNotFoundException"},
		"unknown user":               {"AdminGetUser", `{"UserPoolId":"us-east-1_localpool","Username":"ivy@example.com"}`, true, "UserNotFoundException"},
		"missing username":           {"AdminGetUser", `{"UserPoolId":"us-east-1_localpool"}`, true, "InvalidParameterException"},
		"duplicate user":             {"AdminCreateUser", `{"UserPoolId":"us-east-1_localpool","Username":"HANK@example.com","MessageAction":"SUPPRESS"}`, true, "UsernameExistsException"},
		"create with invitation":     {"AdminCreateUser", `{"UserPoolId":"us-east-1_localpool","Username":"new@example.com"}`, true, "InvalidParameterException"},
		"create with RESEND":         {"AdminCreateUser", `{"UserPoolId":"us-east-1_localpool","Username":"new@example.com","MessageAction":"RESEND"}`, true, "InvalidParameterException"},
		"create non-email username":  {"AdminCreateUser", `{"UserPoolId":"us-east-1_localpool","Username":"new","MessageAction":"SUPPRESS"}`, true, "InvalidParameterException"},
		"undeclared custom attr":     {"AdminUpdateUserAttributes", `{"UserPoolId":"us-east-1_localpool","Username":"hank@example.com","UserAttributes":[{"Name":"custom:other","Value":"x"}]}`, true, "InvalidParameterException"},
		"attr value too long":        {"AdminUpdateUserAttributes", `{"UserPoolId":"us-east-1_localpool","Username":"hank@example.com","UserAttributes":[{"Name":"custom:authChallenge","Value":"` + long + `"}]}`, true, "InvalidParameterException"},
		"write sub":                  {"AdminUpdateUserAttributes", `{"UserPoolId":"us-east-1_localpool","Username":"hank@example.com","UserAttributes":[{"Name":"sub","Value":"x"}]}`, true, "InvalidParameterException"},
		"bad filter":                 {"ListUsers", `{"UserPoolId":"us-east-1_localpool","Filter":"email = hank"}`, true, "InvalidParameterException"},
		"short password":             {"AdminSetUserPassword", `{"UserPoolId":"us-east-1_localpool","Username":"hank@example.com","Password":"short","Permanent":true}`, true, "InvalidPasswordException"},
		"GetUser with garbage token": {"GetUser", `{"AccessToken":"a.b.c"}`, false, "NotAuthorizedException"},
		"revoke an ID token":         {"RevokeToken", `{"Token":"a.b.c","ClientId":"localclient"}`, false, "UnsupportedTokenTypeException"},
		"unknown operation":          {"CreateUserPool", `{}`, true, "UnknownOperationException"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, out := rawCall(t, e, "/local/cognito", tc.op, tc.body, tc.signed)
			if status != http.StatusBadRequest || out["__type"] != tc.wantType || out["message"] == "" {
				t.Fatalf("got %d %v, want 400 %s", status, out, tc.wantType)
			}
		})
	}
}

func TestEndpointPathWithAndWithoutSlash(t *testing.T) {
	e := newTestEnv(t, nil)
	e.createUser(t, "jo@example.com")
	for _, path := range []string{"/local/cognito", "/local/cognito/"} {
		status, out := rawCall(t, e, path, "InitiateAuth", `{"AuthFlow":"CUSTOM_AUTH","ClientId":"localclient","AuthParameters":{"USERNAME":"jo@example.com"}}`, false)
		if status != http.StatusOK || out["ChallengeName"] != "CUSTOM_CHALLENGE" || out["Session"] == "" {
			t.Errorf("%s: %d %v", path, status, out)
		}
	}
}

func TestCORSPreflight(t *testing.T) {
	e := newTestEnv(t, nil)
	req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/local/cognito/", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Amz-Target") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
	// Only admin operations are signed, and no page may call them.
	if strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight allows Authorization: %q", h.Get("Access-Control-Allow-Headers"))
	}
}

func TestRefreshAndRevoke(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	sub := e.createUser(t, "kim@example.com")
	e.setChallenge(t, sub, "s3cret")
	out, err := e.respond(aws.ToString(e.initiate(t, sub).Session), sub, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	rt := aws.ToString(out.AuthenticationResult.RefreshToken)
	refreshed, err := e.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(testClient),
		AuthParameters: map[string]string{"REFRESH_TOKEN": rt},
	})
	if err != nil || refreshed.AuthenticationResult == nil || aws.ToString(refreshed.AuthenticationResult.IdToken) == "" {
		t.Fatalf("refresh: %+v, %v", refreshed, err)
	}
	if _, err := e.cip.RevokeToken(ctx, &cip.RevokeTokenInput{Token: aws.String(rt), ClientId: aws.String(testClient)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.cip.GetUser(ctx, &cip.GetUserInput{AccessToken: refreshed.AuthenticationResult.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	_, err = e.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(testClient),
		AuthParameters: map[string]string{"REFRESH_TOKEN": rt},
	})
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
}

func TestAccessTokenChecks(t *testing.T) {
	e := newTestEnv(t, nil)
	sub := e.createUser(t, "lee@example.com")
	e.setChallenge(t, sub, "s3cret")
	out, err := e.respond(aws.ToString(e.initiate(t, sub).Session), sub, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	access := aws.ToString(out.AuthenticationResult.AccessToken)
	parts := strings.Split(access, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	cases := map[string]struct {
		token   string
		advance time.Duration
		msg     string
	}{
		"tampered": {token: tampered, msg: "Invalid Access Token"},
		"ID token": {token: aws.ToString(out.AuthenticationResult.IdToken), msg: "Invalid Access Token"},
		"expired":  {token: access, advance: time.Hour, msg: "Access Token has expired"},
	}
	for _, name := range []string{"tampered", "ID token", "expired"} { // expired last: it moves the clock
		tc := cases[name]
		e.clock.Advance(tc.advance)
		_, err := e.cip.GetUser(context.Background(), &cip.GetUserInput{AccessToken: aws.String(tc.token)})
		if err == nil {
			t.Fatalf("%s: GetUser accepted it", name)
		}
		wantAPIError(t, err, "NotAuthorizedException", tc.msg)
	}
}

func TestListUsersPagesAndFilters(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	for _, a := range []string{"m1@example.com", "m2@example.com", "m3@example.org"} {
		e.createUser(t, a)
	}
	var seen []string
	var token *string
	for {
		out, err := e.cip.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(testPool), Limit: aws.Int32(2), PaginationToken: token, Filter: aws.String(`email ^= "m"`)})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Users {
			seen = append(seen, aws.ToString(u.Username))
		}
		if token = out.PaginationToken; token == nil {
			break
		}
	}
	if len(seen) != 3 {
		t.Fatalf("paged through %d users, want 3", len(seen))
	}
	out, err := e.cip.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(testPool), Filter: aws.String(`email = "m3@example.org"`), AttributesToGet: []string{"email"}})
	if err != nil || len(out.Users) != 1 || len(out.Users[0].Attributes) != 1 || aws.ToString(out.Users[0].Attributes[0].Value) != "m3@example.org" {
		t.Fatalf("filtered: %+v %v", out, err)
	}
}

func TestDeleteUserAttributes(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	sub := e.createUser(t, "nia@example.com")
	e.setChallenge(t, sub, "x")
	if _, err := e.cip.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{UserPoolId: aws.String(testPool), Username: aws.String(sub), UserAttributeNames: []string{attrChallenge}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.cip.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String(sub)})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got.UserAttributes {
		if aws.ToString(a.Name) == attrChallenge {
			t.Fatal("attribute still there")
		}
	}
}

// TestConcurrentSignIns runs whole sign-ins side by side; with -race it
// checks the stores' locking.
func TestConcurrentSignIns(t *testing.T) {
	e := newTestEnv(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := "c" + string(rune('a'+i)) + "@example.com"
			ctx := context.Background()
			out, err := e.cip.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(testPool), Username: aws.String(email), MessageAction: ciptypes.MessageActionTypeSuppress})
			if err != nil {
				errs <- err
				return
			}
			sub := aws.ToString(out.User.Username)
			if _, err := e.cip.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(testPool), Username: aws.String(sub), UserAttributes: []ciptypes.AttributeType{{Name: aws.String(attrChallenge), Value: aws.String("s-" + email)}}}); err != nil {
				errs <- err
				return
			}
			ch, err := e.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(testClient), AuthParameters: map[string]string{"USERNAME": email}})
			if err != nil {
				errs <- err
				return
			}
			res, err := e.respond(aws.ToString(ch.Session), sub, "s-"+email)
			if err == nil && res.AuthenticationResult == nil {
				err = errors.New("no tokens for " + email)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSessionStoreIsBounded(t *testing.T) {
	s := newSessionStore(2)
	now := time.Now()
	for range 2 {
		if _, err := s.put(now, &authSession{expires: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.put(now, &authSession{expires: now.Add(time.Minute)}); !errors.Is(err, errTooManySessions) {
		t.Fatalf("third session: %v", err)
	}
	// Once they expire, they make room.
	if _, err := s.put(now.Add(2*time.Minute), &authSession{}); err != nil || s.len() != 1 {
		t.Fatalf("after expiry: %v, %d sessions", err, s.len())
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := map[string]Options{
		"no pool":        {Region: "r", ClientID: "c", BaseURL: "http://127.0.0.1:1", Triggers: &fakeTriggers{}},
		"no triggers":    {Region: "r", UserPoolID: "p", ClientID: "c", BaseURL: "http://127.0.0.1:1"},
		"base with path": {Region: "r", UserPoolID: "p", ClientID: "c", BaseURL: "http://127.0.0.1:1/x", Triggers: &fakeTriggers{}},
		"relative base":  {Region: "r", UserPoolID: "p", ClientID: "c", BaseURL: "127.0.0.1:1", Triggers: &fakeTriggers{}},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := New(o); !errors.Is(err, ErrOptions) {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestClockEndpoint(t *testing.T) {
	e := newTestEnv(t, nil)
	post := func(body string) int {
		resp, err := e.srv.Client().Post(e.srv.URL+"/local/clock", "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`{"advance":"16m"}`); code != http.StatusOK || e.clock.Offset() != 16*time.Minute {
		t.Fatalf("advance: %d, offset %v", code, e.clock.Offset())
	}
	for _, bad := range []string{`{"advance":"-1m"}`, `{"advance":"soon"}`, `not json`} {
		if code := post(bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, code)
		}
	}
	if e.clock.Offset() != 16*time.Minute {
		t.Fatalf("bad requests moved the clock to %v", e.clock.Offset())
	}
}
