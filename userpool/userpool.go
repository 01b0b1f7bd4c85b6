// Package userpool adapts the Cognito admin API to what the HTTP handlers and
// the triggers need. It is the only code that knows Cognito's API shapes.
package userpool

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"magiclinks/challenge"
	"magiclinks/cognito"
	"magiclinks/handlers"
)

// API is the part of the Cognito client used here; *cip.Client satisfies it.
type API interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	AdminCreateUser(ctx context.Context, in *cip.AdminCreateUserInput, optFns ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error)
	AdminSetUserPassword(ctx context.Context, in *cip.AdminSetUserPasswordInput, optFns ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error)
	AdminUpdateUserAttributes(ctx context.Context, in *cip.AdminUpdateUserAttributesInput, optFns ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error)
}

var (
	_ API            = (*cip.Client)(nil)
	_ handlers.Users = (*Pool)(nil)
	_ cognito.Users  = (*Pool)(nil)
)

// Pool is one user pool.
type Pool struct {
	api    API
	poolID string
}

// New returns the pool poolID reached through api.
func New(api API, poolID string) *Pool {
	return &Pool{api: api, poolID: poolID}
}

// GetUser finds a user by address; the pool's username attribute is the
// email, so Cognito accepts the address as Username.
func (p *Pool) GetUser(ctx context.Context, email string) (handlers.User, error) {
	out, err := p.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &p.poolID, Username: &email})
	var nf *types.UserNotFoundException
	if errors.As(err, &nf) {
		return handlers.User{}, handlers.ErrUserNotFound
	}
	if err != nil {
		return handlers.User{}, fmt.Errorf("userpool: AdminGetUser: %w", err)
	}
	return handlers.User{
		Username:      aws.ToString(out.Username),
		Enabled:       out.Enabled,
		NeedsPassword: needsPassword(out.UserStatus),
	}, nil
}

// needsPassword is true for the states a permanent password moves to
// CONFIRMED: an account created by AdminCreateUser whose password step
// failed or raced (FORCE_CHANGE_PASSWORD expires with the temporary
// password), one an administrator reset, one never confirmed. Federated
// accounts (EXTERNAL_PROVIDER) are left alone: a password would make them
// native users.
func needsPassword(s types.UserStatusType) bool {
	switch s {
	case types.UserStatusTypeForceChangePassword, types.UserStatusTypeResetRequired, types.UserStatusTypeUnconfirmed:
		return true
	}
	return false
}

// CreateUser makes an account that can only sign in by link: no invitation
// mail, the address unverified until a link is used, and a random permanent
// password nobody knows so the account is CONFIRMED and never expires as an
// unused admin-created account would. If the password step fails, the next
// POST /login repairs the account (GetUser reports NeedsPassword).
func (p *Pool) CreateUser(ctx context.Context, email string) (handlers.User, error) {
	out, err := p.api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:    &p.poolID,
		Username:      &email,
		MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: &email},
			{Name: aws.String("email_verified"), Value: aws.String("false")},
		},
	})
	var exists *types.UsernameExistsException
	if errors.As(err, &exists) {
		return handlers.User{}, handlers.ErrUserExists
	}
	if err != nil {
		return handlers.User{}, fmt.Errorf("userpool: AdminCreateUser: %w", err)
	}
	username := email
	if out.User != nil && out.User.Username != nil {
		username = *out.User.Username
	}
	if err := p.SetRandomPassword(ctx, username); err != nil {
		return handlers.User{}, err
	}
	return handlers.User{Username: username, Enabled: true}, nil
}

// SetRandomPassword sets a permanent password nobody ever sees, which makes
// the account CONFIRMED.
func (p *Pool) SetRandomPassword(ctx context.Context, username string) error {
	password, err := randomPassword()
	if err != nil {
		return err
	}
	if _, err := p.api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: &p.poolID, Username: &username, Password: &password, Permanent: true,
	}); err != nil {
		return fmt.Errorf("userpool: AdminSetUserPassword: %w", err)
	}
	return nil
}

// VerifyEmail marks the address verified: the user just proved the inbox is
// theirs. Cognito takes email_verified alone (and refuses any write to email
// where that attribute is immutable); cognito-local refuses email_verified
// without email, so only then is the same address written back with it.
func (p *Pool) VerifyEmail(ctx context.Context, username, email string) error {
	attrs := []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("true")}}
	err := p.update(ctx, username, attrs...)
	var invalid *types.InvalidParameterException
	if errors.As(err, &invalid) && email != "" {
		attrs = append(attrs, types.AttributeType{Name: aws.String("email"), Value: aws.String(email)})
		err = p.update(ctx, username, attrs...)
	}
	return err
}

func (p *Pool) update(ctx context.Context, username string, attrs ...types.AttributeType) error {
	_, err := p.api.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{
		UserPoolId: &p.poolID, Username: &username, UserAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("userpool: AdminUpdateUserAttributes: %w", err)
	}
	return nil
}

// randomPassword satisfies any password policy Cognito allows (upper, lower,
// digit, symbol, up to 99 characters) with 256 bits nobody ever sees.
func randomPassword() (string, error) {
	s, err := challenge.New(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("userpool: password: %w", err)
	}
	return "Aa1!" + s, nil
}
