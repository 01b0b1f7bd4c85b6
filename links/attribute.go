package links

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"magiclinks/challenge"
)

// Attribute is the Cognito custom attribute of the seed's mode.
const Attribute = "custom:authChallenge"

// CognitoAPI is the part of the Cognito client the attribute backend uses;
// *cip.Client satisfies it.
type CognitoAPI interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	AdminUpdateUserAttributes(ctx context.Context, in *cip.AdminUpdateUserAttributesInput, optFns ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error)
}

var (
	_ CognitoAPI = (*cip.Client)(nil)
	_ Backend    = (*CognitoAttribute)(nil)
)

// CognitoAttribute is the seed's mode, used when LINKS_TABLE is unset: the
// links live in the user's custom:authChallenge attribute. Cognito has no
// conditional write, so Save cannot compare versions: two parallel uses of
// one link can both succeed, and a write from an older read can bring spent
// links back until they expire. It keeps no receipt (Cognito's retry of a
// spending Verify fails) and no counters (no per-IP limit). Every write is
// an AdminUpdateUserAttributes, under Cognito's 25 per second UserUpdate
// quota for the whole account.
type CognitoAttribute struct {
	api    CognitoAPI
	poolID string
}

// NewCognitoAttribute returns the attribute backend on the pool poolID.
func NewCognitoAttribute(api CognitoAPI, poolID string) *CognitoAttribute {
	return &CognitoAttribute{api: api, poolID: poolID}
}

// Load reads the attribute. A value in none of this package's formats is
// taken as empty: it is the seed's own plain "challenge,timestamp", which
// nothing here can verify, and it must not lock its user out.
func (c *CognitoAttribute) Load(ctx context.Context, user string) (Record, Version, error) {
	out, err := c.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &c.poolID, Username: &user})
	if err != nil {
		return Record{}, 0, fmt.Errorf("links: Cognito AdminGetUser: %w", err)
	}
	var value string
	for _, a := range out.UserAttributes {
		if aws.ToString(a.Name) == Attribute {
			value = aws.ToString(a.Value)
		}
	}
	if !strings.HasPrefix(value, "v1") {
		return Record{}, 0, nil
	}
	set, err := challenge.Parse(value)
	if err != nil {
		return Record{}, 0, fmt.Errorf("%w: attribute %s: %v", ErrCorrupt, Attribute, err)
	}
	return Record{Links: set}, 0, nil
}

// Save writes the links; see the type's comment for what it cannot promise.
func (c *CognitoAttribute) Save(ctx context.Context, user string, rec Record, _ Version, _ time.Time) error {
	_, err := c.api.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{
		UserPoolId: &c.poolID,
		Username:   &user,
		UserAttributes: []types.AttributeType{
			{Name: aws.String(Attribute), Value: aws.String(rec.Links.String())},
		},
	})
	if err != nil {
		return fmt.Errorf("links: Cognito AdminUpdateUserAttributes: %w", err)
	}
	return nil
}

// Incr is not supported: LOGIN_LIMIT_PER_IP needs LINKS_TABLE.
func (c *CognitoAttribute) Incr(context.Context, string, time.Time) (int64, error) {
	return 0, ErrUnsupported
}
