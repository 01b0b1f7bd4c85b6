package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"magiclinks/links"
)

// call is one recorded AWS call, kept in golden files so that "no AWS call
// on bad input" and "nothing sent for an unknown user" are asserted.
type call struct {
	Op    string `json:"op"`
	Input any    `json:"input"`
}

type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) record(op string, in any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{op, in})
}

func (r *recorder) Calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

type fakeUser struct {
	sub     string
	enabled bool
	attrs   map[string]string
}

// fakeCognito is a user pool in memory whose users are found by address or
// sub, as a pool with email as username attribute does.
type fakeCognito struct {
	*recorder
	mu    sync.Mutex
	users map[string]*fakeUser // by email
	fail  error                // returned by every call when set
}

func (f *fakeCognito) find(username string) (string, *fakeUser) {
	username = strings.ToLower(username)
	for email, u := range f.users {
		if email == username || u.sub == username {
			return email, u
		}
	}
	return "", nil
}

func (f *fakeCognito) AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, _ ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	f.record("AdminGetUser", in)
	if f.fail != nil {
		return nil, f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	email, u := f.find(aws.ToString(in.Username))
	if u == nil {
		return nil, &types.UserNotFoundException{Message: aws.String("User does not exist.")}
	}
	out := &cip.AdminGetUserOutput{Username: aws.String(u.sub), Enabled: u.enabled}
	out.UserAttributes = append(out.UserAttributes, types.AttributeType{Name: aws.String("email"), Value: aws.String(email)})
	for k, v := range u.attrs {
		out.UserAttributes = append(out.UserAttributes, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeCognito) AdminCreateUser(ctx context.Context, in *cip.AdminCreateUserInput, _ ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	f.record("AdminCreateUser", in)
	if f.fail != nil {
		return nil, f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	email := strings.ToLower(aws.ToString(in.Username))
	if _, u := f.find(email); u != nil {
		return nil, &types.UsernameExistsException{Message: aws.String("An account with the given email already exists.")}
	}
	u := &fakeUser{sub: "00000000-0000-4000-8000-" + strings.Repeat("0", 12-len(f.users)) + strings.Repeat("1", len(f.users)), enabled: true, attrs: map[string]string{}}
	f.users[email] = u
	return &cip.AdminCreateUserOutput{User: &types.UserType{Username: aws.String(u.sub), Enabled: true}}, nil
}

func (f *fakeCognito) AdminSetUserPassword(ctx context.Context, in *cip.AdminSetUserPasswordInput, _ ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error) {
	// The password is random; record only that it was set, and how.
	f.record("AdminSetUserPassword", map[string]any{"Username": in.Username, "Permanent": in.Permanent, "PasswordLen": len(aws.ToString(in.Password))})
	if f.fail != nil {
		return nil, f.fail
	}
	return &cip.AdminSetUserPasswordOutput{}, nil
}

func (f *fakeCognito) AdminUpdateUserAttributes(ctx context.Context, in *cip.AdminUpdateUserAttributesInput, _ ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error) {
	f.record("AdminUpdateUserAttributes", in)
	if f.fail != nil {
		return nil, f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, u := f.find(aws.ToString(in.Username))
	if u == nil {
		return nil, &types.UserNotFoundException{Message: aws.String("User does not exist.")}
	}
	for _, a := range in.UserAttributes {
		u.attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return &cip.AdminUpdateUserAttributesOutput{}, nil
}

type fakeSES struct {
	*recorder
	fail error
	sent []*sesv2.SendEmailInput
}

func (f *fakeSES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.record("SendEmail", in)
	if f.fail != nil {
		return nil, f.fail
	}
	f.sent = append(f.sent, in)
	return &sesv2.SendEmailOutput{MessageId: aws.String("0100018e-fake")}, nil
}

var errFakeOutage = errors.New("fake outage: service unavailable")

// recordingBackend is the in-process link store with every operation
// recorded beside the AWS calls, so golden files and flow tests see what
// each event costs the store (DynamoDB in production: Load is a GetItem,
// Save a conditional PutItem, Incr an UpdateItem).
type recordingBackend struct {
	links.Backend
	*recorder
}

func (b recordingBackend) Load(ctx context.Context, user string) (links.Record, links.Version, error) {
	b.record("links.Load", user)
	return b.Backend.Load(ctx, user)
}

func (b recordingBackend) Save(ctx context.Context, user string, rec links.Record, prev links.Version, expires time.Time) error {
	b.record("links.Save", map[string]any{"user": user, "links": rec.Links.Len(), "spent": rec.SpentAt > 0, "expires": expires.UTC()})
	return b.Backend.Save(ctx, user, rec, prev, expires)
}

func (b recordingBackend) Incr(ctx context.Context, key string, expires time.Time) (int64, error) {
	b.record("links.Incr", key)
	return b.Backend.Incr(ctx, key, expires)
}
