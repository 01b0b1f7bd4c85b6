package local

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	smithytime "github.com/aws/smithy-go/time"
)

// userView is a user as the admin APIs return it. AdminGetUser names the
// attribute list UserAttributes; ListUsers and AdminCreateUser name it
// Attributes.
type userView struct {
	Username             string      `json:"Username"`
	UserAttributes       []attribute `json:"UserAttributes,omitempty"`
	Attributes           []attribute `json:"Attributes,omitempty"`
	UserCreateDate       epoch       `json:"UserCreateDate"`
	UserLastModifiedDate epoch       `json:"UserLastModifiedDate"`
	Enabled              bool        `json:"Enabled"`
	UserStatus           string      `json:"UserStatus"`
}

func view(u *user, keep func(string) bool) userView {
	return userView{
		Username:             u.sub,
		Attributes:           u.attributeList(keep),
		UserCreateDate:       epoch(u.created),
		UserLastModifiedDate: epoch(u.modified),
		Enabled:              u.enabled,
		UserStatus:           u.status,
	}
}

type userRef struct {
	UserPoolID string `json:"UserPoolId"`
	Username   string `json:"Username"`
}

func (c *cognito) ref(body []byte, in any, r *userRef) error {
	if err := decode(body, in); err != nil {
		return err
	}
	if err := c.checkPool(r.UserPoolID); err != nil {
		return err
	}
	if r.Username == "" {
		return missing("username")
	}
	return nil
}

func (c *cognito) adminGetUser(_ context.Context, body []byte) (any, error) {
	var in userRef
	if err := c.ref(body, &in, &in); err != nil {
		return nil, err
	}
	u, ok := c.users.get(in.Username)
	if !ok {
		return nil, errUserNotFound
	}
	v := view(u, nil)
	v.UserAttributes, v.Attributes = v.Attributes, nil
	return v, nil
}

func (c *cognito) adminCreateUser(ctx context.Context, body []byte) (any, error) {
	var in struct {
		userRef
		UserAttributes         []attribute
		MessageAction          string
		TemporaryPassword      string
		DesiredDeliveryMediums []string
		ClientMetadata         map[string]string
		ValidationData         []attribute
	}
	if err := c.ref(body, &in, &in.userRef); err != nil {
		return nil, err
	}
	// Without SUPPRESS, Cognito mails an invitation with a temporary
	// password; nothing here sends that, and the product must never ask for
	// it, so the stand-in refuses instead of pretending.
	switch in.MessageAction {
	case "SUPPRESS":
	case "RESEND":
		return nil, errorf("InvalidParameterException", "MessageAction RESEND is not supported by the local stand-in (it sends no invitations)")
	case "":
		return nil, errorf("InvalidParameterException", "the local stand-in sends no invitation mails: pass MessageAction SUPPRESS")
	default:
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%s' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]", in.MessageAction)
	}
	// username_attributes = ["email"]: the Username given is the address and
	// the account's real Username becomes a fresh sub.
	if err := checkEmail(in.Username); err != nil {
		return nil, errorf("InvalidParameterException", "Username should be an email.")
	}
	if err := checkAttributes(in.UserAttributes); err != nil {
		return nil, err
	}
	now := c.cfg.now()
	// Whatever PreSignUp answers (autoConfirmUser too), an admin-created
	// account starts in FORCE_CHANGE_PASSWORD with a temporary password.
	u := &user{
		sub:       newUUID(),
		attrs:     map[string]string{attrEmailVerified: "false"},
		status:    statusForceChange,
		tempSince: now,
		enabled:   true,
		created:   now, modified: now,
	}
	for _, a := range in.UserAttributes {
		u.attrs[a.Name] = a.Value
	}
	if e, ok := u.attrs[attrEmail]; ok && !strings.EqualFold(e, in.Username) {
		return nil, errorf("InvalidParameterException", "email attribute does not match the Username")
	}
	u.attrs[attrEmail] = in.Username
	if _, exists := c.users.get(in.Username); exists {
		return nil, errorf("UsernameExistsException", "An account with the given email already exists.")
	}

	resp, err := c.invoke(ctx, "PreSignUp", triggerEvent{
		UserName:      u.sub,
		ClientID:      "CLIENT_ID_NOT_APPLICABLE",
		TriggerSource: "PreSignUp_AdminCreateUser",
		Request: preSignUpRequest{
			UserAttributes: mapOf(in.UserAttributes, attrEmail, in.Username),
			ValidationData: mapOrNil(in.ValidationData),
			ClientMetadata: in.ClientMetadata,
		},
		Response: preSignUpResponse{},
	})
	if err != nil {
		return nil, err
	}
	var out struct {
		Response struct {
			AutoVerifyEmail *bool `json:"autoVerifyEmail"`
		} `json:"response"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		return nil, errInvalidLambdaResponse
	}
	if out.Response.AutoVerifyEmail != nil && *out.Response.AutoVerifyEmail {
		u.attrs[attrEmailVerified] = "true"
	}
	if err := c.users.insert(u); err != nil { // a concurrent create won
		return nil, err
	}
	return map[string]userView{"User": view(u, nil)}, nil
}

func mapOf(attrs []attribute, k, v string) map[string]string {
	m := map[string]string{}
	for _, a := range attrs {
		m[a.Name] = a.Value
	}
	m[k] = v
	return m
}

func mapOrNil(attrs []attribute) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m[a.Name] = a.Value
	}
	return m
}

func (c *cognito) adminSetUserPassword(_ context.Context, body []byte) (any, error) {
	var in struct {
		userRef
		Password  *string
		Permanent bool
	}
	if err := c.ref(body, &in, &in.userRef); err != nil {
		return nil, err
	}
	if in.Password == nil {
		return nil, missing("password")
	}
	// The pool's policy: at least 8 characters (Cognito's minimum), at most
	// 256 (the API's). Nobody ever types this password; it only has to pass.
	if n := utf8.RuneCountInString(*in.Password); n < 8 || n > 256 {
		return nil, errorf("InvalidPasswordException", "Password did not conform with policy: Password not long enough")
	}
	now := c.cfg.now()
	err := c.users.update(in.Username, now, func(u *user) error {
		// A permanent password confirms the account, also one whose
		// temporary password has expired (Cognito's remedy for it); a
		// temporary one starts a new validity period.
		if in.Permanent {
			u.status = statusConfirmed
		} else {
			u.status, u.tempSince = statusForceChange, now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (c *cognito) adminUpdateUserAttributes(_ context.Context, body []byte) (any, error) {
	var in struct {
		userRef
		UserAttributes []attribute
		ClientMetadata map[string]string
	}
	if err := c.ref(body, &in, &in.userRef); err != nil {
		return nil, err
	}
	if in.UserAttributes == nil {
		return nil, missing("userAttributes")
	}
	if err := checkAttributes(in.UserAttributes); err != nil {
		return nil, err
	}
	err := c.users.update(in.Username, c.cfg.now(), func(u *user) error {
		verifiedGiven := false
		for _, a := range in.UserAttributes {
			verifiedGiven = verifiedGiven || a.Name == attrEmailVerified
		}
		for _, a := range in.UserAttributes {
			if a.Name == attrEmail && !strings.EqualFold(a.Value, u.attrs[attrEmail]) && !verifiedGiven {
				u.attrs[attrEmailVerified] = "false" // a new address is unproven
			}
			u.attrs[a.Name] = a.Value
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (c *cognito) adminDeleteUserAttributes(_ context.Context, body []byte) (any, error) {
	var in struct {
		userRef
		UserAttributeNames []string
	}
	if err := c.ref(body, &in, &in.userRef); err != nil {
		return nil, err
	}
	if in.UserAttributeNames == nil {
		return nil, missing("userAttributeNames")
	}
	for _, n := range in.UserAttributeNames {
		switch {
		case n == attrSub:
			return nil, errorf("InvalidParameterException", "Cannot modify the non-mutable attribute sub")
		case n == attrEmail:
			return nil, errorf("InvalidParameterException", "user.email: The attribute is required")
		case !writableAttrs[n]:
			return nil, errorf("InvalidParameterException", "Attribute does not exist in the schema.")
		}
	}
	err := c.users.update(in.Username, c.cfg.now(), func(u *user) error {
		for _, n := range in.UserAttributeNames {
			delete(u.attrs, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (c *cognito) setEnabled(body []byte, enabled bool) (any, error) {
	var in userRef
	if err := c.ref(body, &in, &in); err != nil {
		return nil, err
	}
	if err := c.users.update(in.Username, c.cfg.now(), func(u *user) error { u.enabled = enabled; return nil }); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (c *cognito) adminDisableUser(_ context.Context, body []byte) (any, error) {
	return c.setEnabled(body, false)
}

func (c *cognito) adminEnableUser(_ context.Context, body []byte) (any, error) {
	return c.setEnabled(body, true)
}

func (c *cognito) adminDeleteUser(_ context.Context, body []byte) (any, error) {
	var in userRef
	if err := c.ref(body, &in, &in); err != nil {
		return nil, err
	}
	if err := c.users.delete(in.Username); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// listUsers supports Cognito's Filter grammar for the attributes Cognito can
// filter on: `name = "value"` (exact) and `name ^= "value"` (prefix).
func (c *cognito) listUsers(_ context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID      string `json:"UserPoolId"`
		Filter          string
		Limit           *int
		PaginationToken string
		AttributesToGet []string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.checkPool(in.UserPoolID); err != nil {
		return nil, err
	}
	limit := 60
	if in.Limit != nil {
		if *in.Limit < 0 || *in.Limit > 60 {
			return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60", *in.Limit)
		}
		if *in.Limit > 0 {
			limit = *in.Limit
		}
	}
	var match func(*user) bool
	if strings.TrimSpace(in.Filter) != "" {
		f, err := parseFilter(in.Filter)
		if err != nil {
			return nil, errorf("InvalidParameterException", "Error while parsing filter.")
		}
		match = f.matches
	}
	after := ""
	if in.PaginationToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		if err != nil {
			return nil, errorf("InvalidParameterException", "Invalid pagination token.")
		}
		after = string(b)
	}
	var keep func(string) bool
	if in.AttributesToGet != nil {
		want := map[string]bool{}
		for _, a := range in.AttributesToGet {
			want[a] = true
		}
		keep = func(n string) bool { return want[n] }
	}
	out := struct {
		Users           []userView `json:"Users"`
		PaginationToken string     `json:"PaginationToken,omitempty"`
	}{Users: []userView{}}
	for _, u := range c.users.list() {
		if u.sub <= after || (match != nil && !match(u)) {
			continue
		}
		if len(out.Users) == limit {
			out.PaginationToken = base64.RawURLEncoding.EncodeToString([]byte(out.Users[limit-1].Username))
			break
		}
		v := view(u, keep)
		if keep != nil && !keep(attrSub) {
			v.Attributes = v.Attributes[1:]
		}
		out.Users = append(out.Users, v)
	}
	return out, nil
}

// filter is a parsed ListUsers Filter.
type filter struct {
	attr   string
	prefix bool
	value  string
}

// filterAttrs are the attributes Cognito's ListUsers can filter on.
var filterAttrs = map[string]bool{
	"username": true, "email": true, "phone_number": true, "name": true, "given_name": true,
	"family_name": true, "preferred_username": true, "cognito:user_status": true, "status": true, "sub": true,
}

// parseFilter reads `attr = "value"` or `attr ^= "value"`; the value is a
// double-quoted string in which \" and \\ escape.
func parseFilter(s string) (filter, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "=^ \t")
	if i <= 0 {
		return filter{}, fmt.Errorf("no attribute name")
	}
	f := filter{attr: s[:i]}
	if !filterAttrs[f.attr] {
		return filter{}, fmt.Errorf("attribute %q cannot be filtered on", f.attr)
	}
	rest := strings.TrimSpace(s[i:])
	switch {
	case strings.HasPrefix(rest, "^="):
		f.prefix, rest = true, rest[2:]
	case strings.HasPrefix(rest, "="):
		rest = rest[1:]
	default:
		return filter{}, fmt.Errorf("no operator")
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
		return filter{}, fmt.Errorf("value not quoted")
	}
	var b strings.Builder
	inner := rest[1 : len(rest)-1]
	for i := 0; i < len(inner); i++ {
		ch := inner[i]
		switch {
		case ch == '\\' && i+1 < len(inner):
			i++
			b.WriteByte(inner[i])
		case ch == '\\' || ch == '"':
			return filter{}, fmt.Errorf("bad escape or stray quote")
		default:
			b.WriteByte(ch)
		}
	}
	f.value = b.String()
	return f, nil
}

func (f filter) matches(u *user) bool {
	var v string
	switch f.attr {
	case "username", "sub":
		v = u.sub
	case "cognito:user_status":
		v = u.status
	case "status":
		v = "Disabled"
		if u.enabled {
			v = "Enabled"
		}
	default:
		var ok bool
		if v, ok = u.attrs[f.attr]; !ok {
			return false
		}
	}
	if f.prefix {
		return strings.HasPrefix(v, f.value)
	}
	return v == f.value
}

// epoch is how AWS JSON carries timestamps: seconds as a number, as the SDK
// itself writes them.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	return json.Marshal(smithytime.FormatEpochSeconds(time.Time(e)))
}
