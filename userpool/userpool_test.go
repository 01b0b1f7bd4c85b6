package userpool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"magiclinks/handlers"
	"magiclinks/userpool"
)

const poolID = "ap-south-1_Ex4mpl3Ab"

// fakeAPI records each call's input and answers from its fields.
type fakeAPI struct {
	calls     []string
	inputs    []any
	getOut    *cip.AdminGetUserOutput
	createOut *cip.AdminCreateUserOutput
	err       map[string]error
}

func (f *fakeAPI) rec(op string, in any) error {
	f.calls = append(f.calls, op)
	f.inputs = append(f.inputs, in)
	return f.err[op]
}

func (f *fakeAPI) AdminGetUser(_ context.Context, in *cip.AdminGetUserInput, _ ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	if err := f.rec("AdminGetUser", in); err != nil {
		return nil, err
	}
	return f.getOut, nil
}

func (f *fakeAPI) AdminCreateUser(_ context.Context, in *cip.AdminCreateUserInput, _ ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	if err := f.rec("AdminCreateUser", in); err != nil {
		return nil, err
	}
	return f.createOut, nil
}

func (f *fakeAPI) AdminSetUserPassword(_ context.Context, in *cip.AdminSetUserPasswordInput, _ ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error) {
	if err := f.rec("AdminSetUserPassword", in); err != nil {
		return nil, err
	}
	return &cip.AdminSetUserPasswordOutput{}, nil
}

func (f *fakeAPI) AdminUpdateUserAttributes(_ context.Context, in *cip.AdminUpdateUserAttributesInput, _ ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error) {
	if err := f.rec("AdminUpdateUserAttributes", in); err != nil {
		return nil, err
	}
	return &cip.AdminUpdateUserAttributesOutput{}, nil
}

func attrs(in []types.AttributeType) map[string]string {
	m := map[string]string{}
	for _, a := range in {
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

// strictAPI refuses email_verified without email, as cognito-local does.
type strictAPI struct{ fakeAPI }

func (f *strictAPI) AdminUpdateUserAttributes(ctx context.Context, in *cip.AdminUpdateUserAttributesInput, o ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error) {
	a := attrs(in.UserAttributes)
	if _, ok := a["email_verified"]; ok && a["email"] == "" {
		_ = f.rec("AdminUpdateUserAttributes", in)
		return nil, &types.InvalidParameterException{Message: aws.String("Email is required to verify/un-verify an email")}
	}
	return f.fakeAPI.AdminUpdateUserAttributes(ctx, in, o...)
}

func TestVerifyEmailWhereEmailIsRequired(t *testing.T) {
	t.Parallel()
	api := &strictAPI{}
	if err := userpool.New(api, poolID).VerifyEmail(context.Background(), "sub-1", "user@example.com"); err != nil {
		t.Fatal(err)
	}
	if len(api.inputs) != 2 {
		t.Fatalf("calls %v, want a refused write then a retry", api.calls)
	}
	got := attrs(api.inputs[1].(*cip.AdminUpdateUserAttributesInput).UserAttributes)
	if want := map[string]string{"email_verified": "true", "email": "user@example.com"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("retry wrote %v, want %v", got, want)
	}
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	outage := errors.New("fake outage")
	tests := map[string]struct {
		out     *cip.AdminGetUserOutput
		err     error
		want    handlers.User
		wantIs  error
		wantErr bool
	}{
		"found, confirmed": {
			out: &cip.AdminGetUserOutput{Username: aws.String("sub-1"), Enabled: true, UserStatus: types.UserStatusTypeConfirmed, UserAttributes: []types.AttributeType{
				{Name: aws.String("email"), Value: aws.String("user@example.com")},
			}},
			want: handlers.User{Username: "sub-1", Enabled: true},
		},
		"half-created (FORCE_CHANGE_PASSWORD)": {
			out:  &cip.AdminGetUserOutput{Username: aws.String("sub-1"), Enabled: true, UserStatus: types.UserStatusTypeForceChangePassword},
			want: handlers.User{Username: "sub-1", Enabled: true, NeedsPassword: true},
		},
		"reset by an administrator": {
			out:  &cip.AdminGetUserOutput{Username: aws.String("sub-1"), Enabled: true, UserStatus: types.UserStatusTypeResetRequired},
			want: handlers.User{Username: "sub-1", Enabled: true, NeedsPassword: true},
		},
		"unconfirmed": {
			out:  &cip.AdminGetUserOutput{Username: aws.String("sub-1"), Enabled: true, UserStatus: types.UserStatusTypeUnconfirmed},
			want: handlers.User{Username: "sub-1", Enabled: true, NeedsPassword: true},
		},
		"federated: never given a password": {
			out:  &cip.AdminGetUserOutput{Username: aws.String("sub-1"), Enabled: true, UserStatus: types.UserStatusTypeExternalProvider},
			want: handlers.User{Username: "sub-1", Enabled: true},
		},
		"found, no attribute, disabled": {out: &cip.AdminGetUserOutput{Username: aws.String("sub-2")}, want: handlers.User{Username: "sub-2"}},
		"not found":                     {err: &types.UserNotFoundException{Message: aws.String("User does not exist.")}, wantIs: handlers.ErrUserNotFound},
		"not found, wrapped":            {err: fmt.Errorf("operation error: %w", &types.UserNotFoundException{}), wantIs: handlers.ErrUserNotFound},
		"other error":                   {err: outage, wantIs: outage},
		"throttled":                     {err: &types.TooManyRequestsException{}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{getOut: tc.out, err: map[string]error{"AdminGetUser": tc.err}}
			got, err := userpool.New(api, poolID).GetUser(context.Background(), "user@example.com")
			if tc.wantIs != nil || tc.wantErr {
				if err == nil || (tc.wantIs != nil && !errors.Is(err, tc.wantIs)) {
					t.Fatalf("GetUser error = %v, want %v", err, tc.wantIs)
				}
				if tc.wantIs != handlers.ErrUserNotFound && errors.Is(err, handlers.ErrUserNotFound) {
					t.Errorf("%v reads as not found", err)
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("GetUser = %+v, %v; want %+v", got, err, tc.want)
			}
			in := api.inputs[0].(*cip.AdminGetUserInput)
			if aws.ToString(in.UserPoolId) != poolID || aws.ToString(in.Username) != "user@example.com" {
				t.Errorf("input %+v", in)
			}
		})
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{createOut: &cip.AdminCreateUserOutput{User: &types.UserType{Username: aws.String("sub-new")}}}
	u, err := userpool.New(api, poolID).CreateUser(context.Background(), "new@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u != (handlers.User{Username: "sub-new", Enabled: true}) {
		t.Errorf("user %+v", u)
	}
	if got := strings.Join(api.calls, ","); got != "AdminCreateUser,AdminSetUserPassword" {
		t.Fatalf("calls %s", got)
	}
	c := api.inputs[0].(*cip.AdminCreateUserInput)
	if aws.ToString(c.UserPoolId) != poolID || aws.ToString(c.Username) != "new@example.com" || c.MessageAction != types.MessageActionTypeSuppress {
		t.Errorf("AdminCreateUser input %+v", c)
	}
	if a := attrs(c.UserAttributes); a["email"] != "new@example.com" || a["email_verified"] != "false" || len(a) != 2 {
		t.Errorf("attributes %v", a)
	}
	if c.TemporaryPassword != nil || len(c.DesiredDeliveryMediums) != 0 {
		t.Errorf("invitation settings on a suppressed account: %+v", c)
	}
	p := api.inputs[1].(*cip.AdminSetUserPasswordInput)
	if !p.Permanent || aws.ToString(p.Username) != "sub-new" || aws.ToString(p.UserPoolId) != poolID || len(aws.ToString(p.Password)) < 40 {
		t.Errorf("AdminSetUserPassword input: permanent %v, user %q, password length %d", p.Permanent, aws.ToString(p.Username), len(aws.ToString(p.Password)))
	}

	// Each account gets its own password.
	api2 := &fakeAPI{createOut: &cip.AdminCreateUserOutput{}}
	u, err = userpool.New(api2, poolID).CreateUser(context.Background(), "other@example.com")
	if err != nil || u.Username != "other@example.com" {
		t.Fatalf("without a username in the output: %+v, %v", u, err)
	}
	if aws.ToString(api2.inputs[1].(*cip.AdminSetUserPasswordInput).Password) == aws.ToString(p.Password) {
		t.Error("two accounts got the same password")
	}
}

func TestCreateUserErrors(t *testing.T) {
	t.Parallel()
	outage := errors.New("fake outage")
	tests := map[string]struct {
		err       map[string]error
		wantIs    error
		wantCalls string
	}{
		"exists":         {err: map[string]error{"AdminCreateUser": &types.UsernameExistsException{}}, wantIs: handlers.ErrUserExists, wantCalls: "AdminCreateUser"},
		"create fails":   {err: map[string]error{"AdminCreateUser": outage}, wantIs: outage, wantCalls: "AdminCreateUser"},
		"password fails": {err: map[string]error{"AdminSetUserPassword": outage}, wantIs: outage, wantCalls: "AdminCreateUser,AdminSetUserPassword"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{createOut: &cip.AdminCreateUserOutput{}, err: tc.err}
			_, err := userpool.New(api, poolID).CreateUser(context.Background(), "new@example.com")
			if !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v, want %v", err, tc.wantIs)
			}
			if tc.wantIs != handlers.ErrUserExists && errors.Is(err, handlers.ErrUserExists) {
				t.Errorf("%v reads as exists", err)
			}
			if got := strings.Join(api.calls, ","); got != tc.wantCalls {
				t.Errorf("calls %s, want %s", got, tc.wantCalls)
			}
		})
	}
}

func TestWrites(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		call func(p *userpool.Pool) error
		want map[string]string
	}{
		"VerifyEmail": {call: func(p *userpool.Pool) error {
			return p.VerifyEmail(context.Background(), "sub-1", "user@example.com")
		}, want: map[string]string{"email_verified": "true"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{}
			if err := tc.call(userpool.New(api, poolID)); err != nil {
				t.Fatal(err)
			}
			if len(api.calls) != 1 || api.calls[0] != "AdminUpdateUserAttributes" {
				t.Fatalf("calls %v, want one AdminUpdateUserAttributes", api.calls)
			}
			in := api.inputs[0].(*cip.AdminUpdateUserAttributesInput)
			if aws.ToString(in.UserPoolId) != poolID || aws.ToString(in.Username) != "sub-1" {
				t.Errorf("input %+v", in)
			}
			got := attrs(in.UserAttributes)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("attributes %v, want %v", got, tc.want)
			}

			outage := errors.New("fake outage")
			failing := &fakeAPI{err: map[string]error{"AdminUpdateUserAttributes": outage}}
			if err := tc.call(userpool.New(failing, poolID)); !errors.Is(err, outage) {
				t.Errorf("error %v does not wrap the cause", err)
			}
		})
	}
}
