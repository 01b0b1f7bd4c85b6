package local

import (
	"context"
	"fmt"
	"testing"

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
