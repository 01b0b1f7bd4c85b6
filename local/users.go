package local

import (
	"maps"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// User statuses the stand-in knows.
const (
	statusConfirmed   = "CONFIRMED"
	statusForceChange = "FORCE_CHANGE_PASSWORD"
)

// tempPasswordValidity is the pool's temporary_password_validity_days
// (Cognito's default, which terraform/ keeps): an account still in
// FORCE_CHANGE_PASSWORD this long after its temporary password was set can no
// longer sign in until an administrator sets a password.
const tempPasswordValidity = 7 * 24 * time.Hour

// Attribute names with a meaning here.
const (
	attrSub           = "sub"
	attrEmail         = "email"
	attrEmailVerified = "email_verified"
	attrChallenge     = "custom:authChallenge"
	attrUserStatus    = "cognito:user_status"
)

// maxAttrValue is Cognito's limit for an attribute value.
const maxAttrValue = 2048

// writableAttrs are the attributes of the pool's schema an admin may set:
// Cognito's standard attributes plus the one custom attribute the pool
// declares. Anything else is "not in the schema".
var writableAttrs = map[string]bool{
	"email": true, "email_verified": true, "name": true, "given_name": true, "family_name": true,
	"middle_name": true, "nickname": true, "preferred_username": true, "profile": true, "picture": true,
	"website": true, "gender": true, "birthdate": true, "zoneinfo": true, "locale": true,
	"phone_number": true, "phone_number_verified": true, "address": true, "updated_at": true,
	attrChallenge: true,
}

// clientHidden are attributes the app client may not read (GetUser omits
// them), as the pool's client read_attributes leave them out.
var clientHidden = map[string]bool{attrChallenge: true}

// user is one account. Its Username is its sub, as in a pool whose
// username_attributes is ["email"].
type user struct {
	sub    string
	attrs  map[string]string // without sub, which is derived
	status string
	// tempSince is when the temporary password of a FORCE_CHANGE_PASSWORD
	// account was set (AdminCreateUser, AdminSetUserPassword Permanent=false).
	tempSince time.Time
	enabled   bool
	created   time.Time
	modified  time.Time
}

// tempPasswordExpired reports whether the account is stuck in
// FORCE_CHANGE_PASSWORD past the pool's temporary-password validity.
func (u *user) tempPasswordExpired(now time.Time) bool {
	return u.status == statusForceChange && !now.Before(u.tempSince.Add(tempPasswordValidity))
}

func (u *user) clone() *user {
	v := *u
	v.attrs = maps.Clone(u.attrs)
	return &v
}

// attributes returns every attribute as a trigger event's userAttributes
// carries it, sub and cognito:user_status included.
func (u *user) eventAttributes() map[string]string {
	m := maps.Clone(u.attrs)
	m[attrSub] = u.sub
	m[attrUserStatus] = u.status
	return m
}

// attributeList is the API's [{Name, Value}] list, sorted for stable output.
func (u *user) attributeList(keep func(string) bool) []attribute {
	list := []attribute{{Name: attrSub, Value: u.sub}}
	for _, k := range slices.Sorted(maps.Keys(u.attrs)) {
		if keep == nil || keep(k) {
			list = append(list, attribute{Name: k, Value: u.attrs[k]})
		}
	}
	return list
}

type attribute struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// userStore holds the pool's users, indexed by sub and by address. The email
// alias is case-insensitive, like the pool's usernames.
type userStore struct {
	mu      sync.RWMutex
	bySub   map[string]*user
	byEmail map[string]string // lower-cased email → sub
}

func newUserStore() *userStore {
	return &userStore{bySub: map[string]*user{}, byEmail: map[string]string{}}
}

// get finds a user by Username (sub) or email alias and returns a copy.
func (s *userStore) get(name string) (*user, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.lookup(name)
	if !ok {
		return nil, false
	}
	return u.clone(), true
}

func (s *userStore) lookup(name string) (*user, bool) {
	if u, ok := s.bySub[name]; ok {
		return u, true
	}
	if sub, ok := s.byEmail[strings.ToLower(name)]; ok {
		return s.bySub[sub], true
	}
	return nil, false
}

// update runs f on the stored user under the lock; f returns an error to
// leave the user as it was (it works on a copy).
func (s *userStore) update(name string, now time.Time, f func(u *user) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.lookup(name)
	if !ok {
		return errUserNotFound
	}
	next := cur.clone()
	if err := f(next); err != nil {
		return err
	}
	oldEmail, newEmail := strings.ToLower(cur.attrs[attrEmail]), strings.ToLower(next.attrs[attrEmail])
	if oldEmail != newEmail {
		if other, taken := s.byEmail[newEmail]; taken && other != cur.sub {
			return errorf("AliasExistsException", "An account with the given email already exists.")
		}
		delete(s.byEmail, oldEmail)
		if newEmail != "" {
			s.byEmail[newEmail] = cur.sub
		}
	}
	next.modified = now
	s.bySub[cur.sub] = next
	return nil
}

// insert adds u unless its address is taken.
func (s *userStore) insert(u *user) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	email := strings.ToLower(u.attrs[attrEmail])
	if _, taken := s.byEmail[email]; taken {
		return errorf("UsernameExistsException", "An account with the given email already exists.")
	}
	s.bySub[u.sub] = u.clone()
	s.byEmail[email] = u.sub
	return nil
}

func (s *userStore) delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.lookup(name)
	if !ok {
		return errUserNotFound
	}
	delete(s.bySub, u.sub)
	delete(s.byEmail, strings.ToLower(u.attrs[attrEmail]))
	return nil
}

// list returns copies of all users in Username order, for stable paging.
func (s *userStore) list() []*user {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*user, 0, len(s.bySub))
	for _, u := range s.bySub {
		out = append(out, u.clone())
	}
	slices.SortFunc(out, func(a, b *user) int { return strings.Compare(a.sub, b.sub) })
	return out
}

// checkAttributes validates attributes an admin call writes.
func checkAttributes(attrs []attribute) error {
	for _, a := range attrs {
		switch {
		case a.Name == "":
			return missing("userAttributes.member.name")
		case a.Name == attrSub:
			return errorf("InvalidParameterException", "Cannot modify the non-mutable attribute sub")
		case !writableAttrs[a.Name]:
			return errorf("InvalidParameterException", "Attribute does not exist in the schema.")
		case len(a.Value) > maxAttrValue:
			return errorf("InvalidParameterException", "user.%s: String must be no longer than %d characters", a.Name, maxAttrValue)
		case (a.Name == attrEmailVerified || a.Name == "phone_number_verified") && a.Value != "true" && a.Value != "false":
			return errorf("InvalidParameterException", "Invalid value for attribute %s: must be true or false", a.Name)
		case a.Name == attrEmail:
			if err := checkEmail(a.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkEmail(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v {
		return errorf("InvalidParameterException", "Invalid email address format.")
	}
	return nil
}

// newUUID returns a random version 4 UUID, the shape of a Cognito sub.
func newUUID() string { return uuid.NewString() }
