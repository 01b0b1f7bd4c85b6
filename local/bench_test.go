package local

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// BenchmarkCustomAuth is one sign-in through the Cognito stand-in (SDK over
// loopback HTTP, fake triggers): InitiateAuth, then the right answer, which
// signs two RS256 tokens.
func BenchmarkCustomAuth(b *testing.B) {
	e := newTestEnv(b, nil)
	ctx := context.Background()
	out, err := e.cip.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(testPool), Username: aws.String("bench@example.com"), MessageAction: ciptypes.MessageActionTypeSuppress})
	if err != nil {
		b.Fatal(err)
	}
	sub := aws.ToString(out.User.Username)
	for i := 0; b.Loop(); i++ {
		secret := fmt.Sprint("s", i)
		if _, err := e.cip.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(testPool), Username: aws.String(sub), UserAttributes: []ciptypes.AttributeType{{Name: aws.String(attrChallenge), Value: aws.String(secret)}}}); err != nil {
			b.Fatal(err)
		}
		ch, err := e.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(testClient), AuthParameters: map[string]string{"USERNAME": sub}})
		if err != nil {
			b.Fatal(err)
		}
		res, err := e.respond(aws.ToString(ch.Session), sub, secret)
		if err != nil || res.AuthenticationResult == nil {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkIssueTokens is what the stand-in spends on the tokens of one
// sign-in: the ID and the access token, each an RS256 signature with the
// 2048-bit key, and the refresh token. It is most of the CPU of a load-run
// cycle (cmd/load), and it is what Cognito does, so it stays.
func BenchmarkIssueTokens(b *testing.B) {
	iss, err := newTokenIssuer("http://127.0.0.1/local/cognito/"+testPool, testClient, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	u := &user{sub: newUUID(), attrs: map[string]string{attrEmail: "bench@example.com", attrEmailVerified: "true"}, status: statusConfirmed, enabled: true}
	for b.Loop() {
		if _, err := iss.issue(u, testClient, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignToken is one RS256 signature of an ID token's claims.
func BenchmarkSignToken(b *testing.B) {
	iss, err := newTokenIssuer("http://127.0.0.1/local/cognito/"+testPool, testClient, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	claims := map[string]any{"sub": newUUID(), "iss": iss.issuer, "token_use": "id", "aud": testClient, "email": "bench@example.com"}
	for b.Loop() {
		if _, err := iss.sign(claims); err != nil {
			b.Fatal(err)
		}
	}
}
