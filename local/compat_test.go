package local

// Tests of what real clients met on the stand-in (issue 11): Amplify's
// refresh operation, SRP_A in CUSTOM_AUTH, the shape of a Session, a message
// on every error, and the account status an admin-created user goes through.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// signIn signs a confirmed user in through the SDK and returns the tokens.
func (e *testEnv) signIn(t *testing.T, email string) *ciptypes.AuthenticationResultType {
	t.Helper()
	sub := e.createUser(t, email)
	e.setChallenge(t, sub, "s3cret")
	out, err := e.respond(aws.ToString(e.initiate(t, sub).Session), sub, "s3cret")
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in: %+v, %v", out, err)
	}
	return out.AuthenticationResult
}

func (e *testEnv) getTokens(refresh string) (*cip.GetTokensFromRefreshTokenOutput, error) {
	return e.cip.GetTokensFromRefreshToken(context.Background(), &cip.GetTokensFromRefreshTokenInput{
		ClientId: aws.String(testClient), RefreshToken: aws.String(refresh),
	})
}

func TestGetTokensFromRefreshToken(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	first := e.signIn(t, "amy@example.com")
	rt := aws.ToString(first.RefreshToken)

	e.clock.Advance(time.Minute) // a later iat, so the tokens differ
	out, err := e.getTokens(rt)
	if err != nil {
		t.Fatalf("GetTokensFromRefreshToken: %v", err)
	}
	ar := out.AuthenticationResult
	if ar == nil || aws.ToString(ar.AccessToken) == "" || aws.ToString(ar.IdToken) == "" || ar.ExpiresIn != 3600 || aws.ToString(ar.TokenType) != "Bearer" {
		t.Fatalf("AuthenticationResult: %+v", ar)
	}
	if aws.ToString(ar.RefreshToken) != "" {
		t.Errorf("a new refresh token %q, but rotation is off", aws.ToString(ar.RefreshToken))
	}
	if aws.ToString(ar.AccessToken) == aws.ToString(first.AccessToken) {
		t.Errorf("the refreshed access token is the old one")
	}
	// The new tokens belong to the same sign-in (origin_jti) and work.
	oldID, newID := verifyWithJWKS(t, e, aws.ToString(first.IdToken)), verifyWithJWKS(t, e, aws.ToString(ar.IdToken))
	if newID["origin_jti"] != oldID["origin_jti"] || newID["auth_time"] != oldID["auth_time"] || newID["sub"] != oldID["sub"] {
		t.Errorf("refreshed ID token %v does not continue sign-in %v", newID, oldID)
	}
	if _, err := e.cip.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken}); err != nil {
		t.Fatalf("GetUser with the refreshed access token: %v", err)
	}

	cases := map[string]struct {
		body, wantType, wantMsg string
	}{
		"missing token":  {`{"ClientId":"localclient"}`, "InvalidParameterException", "1 validation error detected: Value null at 'refreshToken' failed to satisfy constraint: Member must not be null"},
		"unknown client": {`{"ClientId":"other","RefreshToken":"` + rt + `"}`, "ResourceNotFoundException", "User pool client other does not exist."},
		"garbage token":  {`{"ClientId":"localclient","RefreshToken":"nope"}`, "NotAuthorizedException", "Invalid Refresh Token"},
	}
	for name, tc := range cases {
		status, got := rawCall(t, e, "/local/cognito", "GetTokensFromRefreshToken", tc.body, false)
		if status != http.StatusBadRequest || got["__type"] != tc.wantType || got["message"] != tc.wantMsg {
			t.Errorf("%s: %d %v, want 400 %s %q", name, status, got, tc.wantType, tc.wantMsg)
		}
	}

	// GlobalSignOut ends the sign-in for both refresh operations.
	if _, err := e.cip.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: ar.AccessToken}); err != nil {
		t.Fatal(err)
	}
	_, err = e.getTokens(rt)
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
}

func TestRevokeTokenEndsBothRefreshPaths(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	ar := e.signIn(t, "ben@example.com")
	rt := aws.ToString(ar.RefreshToken)
	refreshed, err := e.getTokens(rt)
	if err != nil {
		t.Fatal(err)
	}
	// Revoking an unknown token succeeds (RFC 7009), and changes nothing.
	if _, err := e.cip.RevokeToken(ctx, &cip.RevokeTokenInput{Token: aws.String("unknown"), ClientId: aws.String(testClient)}); err != nil {
		t.Fatalf("RevokeToken of an unknown token: %v", err)
	}
	if _, err := e.getTokens(rt); err != nil {
		t.Fatalf("refresh after revoking another token: %v", err)
	}
	if _, err := e.cip.RevokeToken(ctx, &cip.RevokeTokenInput{Token: aws.String(rt), ClientId: aws.String(testClient)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.getTokens(rt)
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
	_, err = e.cip.GetUser(ctx, &cip.GetUserInput{AccessToken: refreshed.AuthenticationResult.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
}

func TestSRPAInCustomAuthRunsTheSRPStep(t *testing.T) {
	for name, email := range map[string]string{"known user": "cy@example.com", "unknown user": "nobody@example.com"} {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			if name == "known user" {
				e.setChallenge(t, e.createUser(t, email), "s3cret")
			}
			_, err := e.cip.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
				AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(testClient),
				AuthParameters: map[string]string{"USERNAME": email, "SRP_A": strings.Repeat("ab", 384)},
			})
			wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
			defs := e.triggers.eventsOf("DefineAuthChallenge_Authentication")
			if len(defs) != 1 {
				t.Fatalf("want 1 Define call, got %d", len(defs))
			}
			got, _ := json.Marshal(defs[0]["request"].(map[string]any)["session"])
			if want := `[{"challengeMetadata":null,"challengeName":"SRP_A","challengeResult":true}]`; string(got) != want {
				t.Errorf("Define's session = %s, want %s", got, want)
			}
			if n := len(e.triggers.eventsOf("CreateAuthChallenge_Authentication")); n != 0 {
				t.Errorf("Create ran %d times after Define failed the SRP session", n)
			}
		})
	}
	// Without SRP_A the same user gets the custom challenge.
	e := newTestEnv(t, nil)
	e.createUser(t, "cy@example.com")
	if ch := e.initiate(t, "cy@example.com"); ch.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge {
		t.Fatalf("InitiateAuth without SRP_A: %+v", ch)
	}
}

func TestSessionsAreShapedLikeCognitos(t *testing.T) {
	e := newTestEnv(t, nil)
	e.createUser(t, "dee@example.com")
	seen := map[string]bool{}
	for range 200 { // a leading "-" came 1 in 64 before
		s := aws.ToString(e.initiate(t, "dee@example.com").Session)
		if strings.HasPrefix(s, "-") || !strings.HasPrefix(s, "AYABe") {
			t.Fatalf("session %q does not start as Cognito's do (AYABe…)", s[:8])
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(s) != 512 || len(b) != sessionBytes {
			t.Fatalf("session of %d characters is not 512 characters of standard base64: %v", len(s), err)
		}
		if seen[s] {
			t.Fatalf("session repeated")
		}
		seen[s] = true
	}
}

func TestRefreshTokensAreShapedLikeCognitos(t *testing.T) {
	e := newTestEnv(t, nil)
	for i := range 100 { // a leading "-" came 1 in 64 before
		rt := aws.ToString(e.signIn(t, fmt.Sprintf("rt%d@example.com", i)).RefreshToken)
		parts := strings.Split(rt, ".")
		if len(parts) != 5 || parts[0] != refreshHeader {
			t.Fatalf("refresh token %q… is not a five-part JWE with Cognito's header", rt[:12])
		}
		for _, p := range parts {
			if _, err := base64.RawURLEncoding.DecodeString(p); err != nil || p == "" {
				t.Fatalf("refresh token part %q: %v", p, err)
			}
		}
	}
}

func TestUnknownOperationsNameTheOperation(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, op := range []string{"CreateUserPool", "AssociateSoftwareToken", "SignUp"} {
		status, out := rawCall(t, e, "/local/cognito", op, `{}`, true)
		if status != http.StatusBadRequest || out["__type"] != "UnknownOperationException" || !strings.Contains(out["message"], "AWSCognitoIdentityProviderService."+op) {
			t.Errorf("%s: %d %v, want 400 UnknownOperationException naming it", op, status, out)
		}
	}
	status, body := send(t, e, http.MethodPost, "/local/cognito", `{}`, map[string]string{"Content-Type": "application/x-amz-json-1.1"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "X-Amz-Target") {
		t.Errorf("no X-Amz-Target: %d %s", status, body)
	}
}

// TestEveryErrorHasAMessage reads the package's source: every apiError it
// builds names a non-empty message (a client shows the message, and an empty
// one hid which operation the stand-in lacked).
func TestEveryErrorHasAMessage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			switch x := node.(type) {
			case *ast.CompositeLit:
				if id, ok := x.Type.(*ast.Ident); ok && id.Name == "apiError" {
					n++
					if len(x.Elts) != 2 || emptyString(x.Elts[1]) {
						t.Errorf("%s: apiError without a message", fset.Position(x.Pos()))
					}
				}
			case *ast.CallExpr:
				if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "errorf" {
					n++
					if len(x.Args) < 2 || emptyString(x.Args[1]) {
						t.Errorf("%s: errorf without a message", fset.Position(x.Pos()))
					}
				}
			}
			return true
		})
	}
	if n < 20 {
		t.Fatalf("found only %d errors in the source; is the test still looking in the right place?", n)
	}
}

func emptyString(e ast.Expr) bool {
	if kv, ok := e.(*ast.KeyValueExpr); ok {
		e = kv.Value
	}
	lit, ok := e.(*ast.BasicLit)
	return ok && (lit.Value == `""` || lit.Value == "``")
}

func TestAccountStatusOfAdminCreatedUsers(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	status := func(email string) ciptypes.UserStatusType {
		t.Helper()
		out, err := e.cip.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String(email)})
		if err != nil {
			t.Fatal(err)
		}
		return out.UserStatus
	}
	create := func(email string) {
		t.Helper()
		_, err := e.cip.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(testPool), Username: aws.String(email), MessageAction: ciptypes.MessageActionTypeSuppress,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setPassword := func(email string, permanent bool) {
		t.Helper()
		_, err := e.cip.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(testPool), Username: aws.String(email),
			Password: aws.String("Aa1!random-nobody-knows"), Permanent: permanent,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	initiate := func(email string) error {
		_, err := e.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{
			AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(testClient),
			AuthParameters: map[string]string{"USERNAME": email},
		})
		return err
	}

	create("new@example.com")     // stays FORCE_CHANGE_PASSWORD
	create("kept@example.com")    // is given a permanent password
	create("renewed@example.com") // gets a new temporary password on day 6
	if got := status("new@example.com"); got != ciptypes.UserStatusTypeForceChangePassword {
		t.Fatalf("after AdminCreateUser: %s, want FORCE_CHANGE_PASSWORD", got)
	}
	// Custom auth works in FORCE_CHANGE_PASSWORD, and the triggers see it.
	if err := initiate("new@example.com"); err != nil {
		t.Fatalf("a fresh FORCE_CHANGE_PASSWORD account: %v", err)
	}
	defs := e.triggers.eventsOf("DefineAuthChallenge_Authentication")
	if s := defs[len(defs)-1]["request"].(map[string]any)["userAttributes"].(map[string]any)["cognito:user_status"]; s != "FORCE_CHANGE_PASSWORD" {
		t.Errorf("Define's cognito:user_status = %v", s)
	}
	setPassword("kept@example.com", true)
	if got := status("kept@example.com"); got != ciptypes.UserStatusTypeConfirmed {
		t.Fatalf("after a permanent password: %s, want CONFIRMED", got)
	}

	e.clock.Advance(6 * 24 * time.Hour)
	setPassword("renewed@example.com", false)
	e.clock.Advance(24 * time.Hour) // day 7: the first temporary passwords expire
	err := initiate("new@example.com")
	wantAPIError(t, err, "NotAuthorizedException", "Temporary password has expired and must be reset by an administrator.")
	if got := status("new@example.com"); got != ciptypes.UserStatusTypeForceChangePassword {
		t.Errorf("an expired account reads %s, want FORCE_CHANGE_PASSWORD", got)
	}
	for _, ok := range []string{"kept@example.com", "renewed@example.com"} {
		if err := initiate(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	// An administrator's permanent password brings the expired account back.
	setPassword("new@example.com", true)
	if got := status("new@example.com"); got != ciptypes.UserStatusTypeConfirmed {
		t.Fatalf("after the permanent password: %s, want CONFIRMED", got)
	}
	if err := initiate("new@example.com"); err != nil {
		t.Fatalf("after the permanent password: %v", err)
	}
}
