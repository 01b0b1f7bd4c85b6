package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"magiclinks/challenge"
	"magiclinks/config"
	"magiclinks/handlers"
)

var t0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

const signInURL = "https://app.example.com/sign-in"

// fakeUsers is a user pool in memory that records every call.
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]*handlers.User // by address
	calls []string
	fail  map[string]error // by operation
	// exists makes CreateUser answer ErrUserExists after creating, as when a
	// concurrent request created the account first.
	exists bool
}

func newFakeUsers() *fakeUsers {
	return &fakeUsers{
		users: map[string]*handlers.User{
			"user@example.com":     {Username: "sub-user", Enabled: true},
			"disabled@example.com": {Username: "sub-disabled", Enabled: false},
		},
		fail: map[string]error{},
	}
}

func (f *fakeUsers) GetUser(_ context.Context, email string) (handlers.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "GetUser "+email)
	if err := f.fail["GetUser"]; err != nil {
		return handlers.User{}, err
	}
	u, ok := f.users[email]
	if !ok {
		return handlers.User{}, fmt.Errorf("fake: %w", handlers.ErrUserNotFound)
	}
	return *u, nil
}

func (f *fakeUsers) CreateUser(_ context.Context, email string) (handlers.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "CreateUser "+email)
	if err := f.fail["CreateUser"]; err != nil {
		return handlers.User{}, err
	}
	u := &handlers.User{Username: "sub-new", Enabled: true}
	f.users[email] = u
	if f.exists {
		return handlers.User{}, handlers.ErrUserExists
	}
	return *u, nil
}

func (f *fakeUsers) SetChallenges(_ context.Context, username, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "SetChallenges "+username)
	if err := f.fail["SetChallenges"]; err != nil {
		return err
	}
	for _, u := range f.users {
		if u.Username == username {
			u.Challenges = value
			return nil
		}
	}
	return errors.New("fake: no such user")
}

func (f *fakeUsers) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeUsers) attr(email string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[email].Challenges
}

type mail struct {
	To, Link string
	TTL      time.Duration
}

type fakeMailer struct {
	mu   sync.Mutex
	sent []mail
	fail error
}

func (f *fakeMailer) SendMagicLink(_ context.Context, to, link string, ttl time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.sent = append(f.sent, mail{to, link, ttl})
	return nil
}

func (f *fakeMailer) Sent() []mail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mail(nil), f.sent...)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	router http.Handler
	users  *fakeUsers
	mailer *fakeMailer
	clock  *clock
	cfg    config.Config
	waits  *waitRecorder
}

// waitRecorder stands in for the response-time floor's timer.
type waitRecorder struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waitRecorder) wait(_ context.Context, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
}

func (w *waitRecorder) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func newEnv(t *testing.T, vars map[string]string) *env {
	t.Helper()
	all := map[string]string{
		"USER_POOL_ID": "ap-south-1_Ex4mpl3Ab",
		"EMAIL_FROM":   "Example <no-reply@example.com>",
		"SIGN_IN_URL":  signInURL,
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.Load(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	e := &env{users: newFakeUsers(), mailer: &fakeMailer{}, clock: &clock{t: t0}, cfg: cfg, waits: &waitRecorder{}}
	e.router = handlers.New(handlers.Deps{Config: cfg, Users: e.users, Mailer: e.mailer, Now: e.clock.Now, Rand: rand.Reader, Wait: e.waits.wait})
	return e
}

func (e *env) post(body, origin string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	return w
}

func (e *env) login(t *testing.T, email string) *httptest.ResponseRecorder {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email})
	return e.post(string(b), "https://app.example.com")
}

// answer splits a link as the sign-in page does: at the last comma.
func answer(t *testing.T, link string) (email, secret string) {
	t.Helper()
	u, frag, ok := strings.Cut(link, "#")
	if !ok || u != signInURL {
		t.Fatalf("link %q does not start with %s#", link, signInURL)
	}
	i := strings.LastIndex(frag, ",")
	if i < 0 {
		t.Fatalf("link %q has no comma", link)
	}
	email, err := url.QueryUnescape(frag[:i])
	if err != nil {
		t.Fatal(err)
	}
	return email, frag[i+1:]
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func snapshot(w *httptest.ResponseRecorder) response {
	return response{w.Code, w.Header().Clone(), w.Body.String()}
}

// The endpoint answers the same bytes whoever asks, so it tells nobody
// which addresses have accounts.
func TestLoginSameAnswerForEveryone(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		email     string
		prepare   func(e *env)
		wantCalls []string
		wantMail  bool
	}{
		"existing user": {email: "user@example.com", wantCalls: []string{"GetUser user@example.com", "SetChallenges sub-user"}, wantMail: true},
		"unknown user":  {email: "nobody@example.com", wantCalls: []string{"GetUser nobody@example.com"}},
		"disabled user": {email: "disabled@example.com", wantCalls: []string{"GetUser disabled@example.com"}},
		"throttled user": {
			email: "user@example.com",
			prepare: func(e *env) {
				e.users.users["user@example.com"].Challenges = challenge.Set{}.Add(strings.Repeat("r", challenge.Length), t0.Add(-59*time.Second), 15*time.Minute).String()
			},
			wantCalls: []string{"GetUser user@example.com"},
		},
	}
	var want *response
	wantFrom := ""
	for _, name := range []string{"existing user", "unknown user", "disabled user", "throttled user"} {
		tc := tests[name]
		e := newEnv(t, nil)
		if tc.prepare != nil {
			tc.prepare(e)
		}
		got := snapshot(e.login(t, tc.email))
		if got.Status != http.StatusAccepted {
			t.Errorf("%s: status %d, want 202; body %s", name, got.Status, got.Body)
		}
		if want == nil {
			want, wantFrom = &got, name
		} else if !reflect.DeepEqual(got, *want) {
			t.Errorf("%s answers differently from %s:\n%+v\n%+v", name, wantFrom, got, *want)
		}
		if calls := e.users.Calls(); !reflect.DeepEqual(calls, tc.wantCalls) {
			t.Errorf("%s: calls %q, want %q", name, calls, tc.wantCalls)
		}
		if sent := len(e.mailer.Sent()); sent != 0 != tc.wantMail {
			t.Errorf("%s: %d mails sent, want mail %v", name, sent, tc.wantMail)
		}
	}
}

// TestLoginResponseTimeFloor: every 202 is held until LOGIN_MIN_DURATION
// has passed since the request arrived, whatever the account's state, so
// the time to answer does not tell known addresses from unknown ones;
// errors answer at once.
func TestLoginResponseTimeFloor(t *testing.T) {
	t.Parallel()
	floor := 800 * time.Millisecond
	tests := map[string]struct {
		body     string
		prepare  func(e *env)
		wantWait bool
	}{
		"existing user":  {body: `{"email":"user@example.com"}`, wantWait: true},
		"unknown user":   {body: `{"email":"nobody@example.com"}`, wantWait: true},
		"disabled user":  {body: `{"email":"disabled@example.com"}`, wantWait: true},
		"bad input":      {body: `{"email":"not an address"}`},
		"upstream fails": {body: `{"email":"user@example.com"}`, prepare: func(e *env) { e.users.fail["GetUser"] = errors.New("boom") }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, map[string]string{"LOGIN_MIN_DURATION": floor.String()})
			if tc.prepare != nil {
				tc.prepare(e)
			}
			e.post(tc.body, "")
			waits := e.waits.all()
			if !tc.wantWait {
				if len(waits) != 0 {
					t.Errorf("waited %v; an error should answer at once", waits)
				}
				return
			}
			// What is left of the floor after the work done.
			if len(waits) != 1 || waits[0] <= 0 || waits[0] > floor {
				t.Errorf("waited %v, want one wait of the rest of %v", waits, floor)
			}
		})
	}
	e := newEnv(t, map[string]string{"LOGIN_MIN_DURATION": "0s"})
	e.post(`{"email":"user@example.com"}`, "")
	if waits := e.waits.all(); len(waits) != 0 {
		t.Errorf("LOGIN_MIN_DURATION=0s still waited %v", waits)
	}
}

func TestLoginSendsWorkingLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if w := e.login(t, "  User@Example.COM \t"); w.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got, want := e.users.Calls(), []string{"GetUser user@example.com", "SetChallenges sub-user"}; !reflect.DeepEqual(got, want) {
		t.Errorf("calls %q, want %q (address trimmed and lower-cased)", got, want)
	}
	sent := e.mailer.Sent()
	if len(sent) != 1 {
		t.Fatalf("%d mails, want 1", len(sent))
	}
	if sent[0].To != "user@example.com" || sent[0].TTL != 15*time.Minute {
		t.Errorf("mail %+v", sent[0])
	}
	email, secret := answer(t, sent[0].Link)
	if email != "user@example.com" {
		t.Errorf("email in link = %q", email)
	}
	if len(secret) < 22 || len(secret) != challenge.Length {
		t.Errorf("answer %q is %d chars", secret, len(secret))
	}
	attr := e.users.attr("user@example.com")
	if strings.Contains(attr, secret) {
		t.Fatal("the attribute holds the challenge in plain text")
	}
	set, err := challenge.Parse(attr)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Verify(secret, t0.Add(15*time.Minute-time.Second)) || set.Verify(secret, t0.Add(15*time.Minute)) {
		t.Error("the stored challenge does not live exactly LINK_TTL")
	}
}

func TestLoginReplacesForeignAttribute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.users.users["user@example.com"].Challenges = "3f0f8b62-4c2e-4d8e-9d1a-2b3c4d5e6f70,1773100500000"
	if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted || len(e.mailer.Sent()) != 1 {
		t.Fatalf("status %d, %d mails; the seed's attribute must not lock the user out", w.Code, len(e.mailer.Sent()))
	}
	if _, err := challenge.Parse(e.users.attr("user@example.com")); err != nil {
		t.Errorf("attribute after login: %v", err)
	}
}

// TestLoginContentType: only JSON is read, so a cross-site form post (which
// needs no CORS preflight) cannot make the endpoint send mail.
func TestLoginContentType(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		contentType string
		wantStatus  int
	}{
		"json":                {"application/json", http.StatusAccepted},
		"json with charset":   {"application/json; charset=utf-8", http.StatusAccepted},
		"upper case":          {"Application/JSON", http.StatusAccepted},
		"none":                {"", http.StatusUnsupportedMediaType},
		"text/plain form":     {"text/plain", http.StatusUnsupportedMediaType},
		"urlencoded form":     {"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		"multipart form":      {"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		"json-like subtype":   {"application/json-patch+json", http.StatusUnsupportedMediaType},
		"malformed parameter": {"application/json; =", http.StatusUnsupportedMediaType},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"email":"user@example.com"}`))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			e.router.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantStatus == http.StatusUnsupportedMediaType {
				if !strings.Contains(w.Body.String(), `"unsupported_media_type"`) {
					t.Errorf("body %s, want the unsupported_media_type code", w.Body)
				}
				if n := len(e.users.Calls()); n != 0 {
					t.Errorf("%d user-pool calls on a rejected body, want none", n)
				}
			}
		})
	}
}

func TestLoginBadInput(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body       string
		wantStatus int
		wantCode   string
	}{
		"not JSON":                  {body: `email=user@example.com`, wantStatus: 400, wantCode: "invalid_json"},
		"truncated":                 {body: `{"email": `, wantStatus: 400, wantCode: "invalid_json"},
		"empty body":                {body: ``, wantStatus: 400, wantCode: "invalid_json"},
		"array":                     {body: `["user@example.com"]`, wantStatus: 400, wantCode: "invalid_json"},
		"email is a number":         {body: `{"email": 42}`, wantStatus: 400, wantCode: "invalid_json"},
		"two objects":               {body: `{"email":"user@example.com"}{"email":"x@example.com"}`, wantStatus: 400, wantCode: "invalid_json"},
		"trailing garbage":          {body: `{"email":"user@example.com"} x`, wantStatus: 400, wantCode: "invalid_json"},
		"trailing brace":            {body: `{"email":"user@example.com"}}`, wantStatus: 400, wantCode: "invalid_json"},
		"no email":                  {body: `{"address": "user@example.com"}`, wantStatus: 400, wantCode: "missing_email"},
		"null email":                {body: `{"email": null}`, wantStatus: 400, wantCode: "missing_email"},
		"JSON null":                 {body: `null`, wantStatus: 400, wantCode: "missing_email"},
		"empty email":               {body: `{"email": "  "}`, wantStatus: 400, wantCode: "invalid_email"},
		"NUL":                       {body: `{"email": "user\u0000@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"newline":                   {body: `{"email": "user@example.com\nBcc: x@evil.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"DEL":                       {body: `{"email": "user\u007f@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"C1 control":                {body: `{"email": "user\u0085@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"inner space":               {body: `{"email": "us er@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"display name":              {body: `{"email": "Bob <bob@example.com>"}`, wantStatus: 400, wantCode: "invalid_email"},
		"angle brackets":            {body: `{"email": "<bob@example.com>"}`, wantStatus: 400, wantCode: "invalid_email"},
		"comment":                   {body: `{"email": "bob@example.com(x)"}`, wantStatus: 400, wantCode: "invalid_email"},
		"two addresses":             {body: `{"email": "a@example.com,b@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"no domain dot":             {body: `{"email": "user@localhost"}`, wantStatus: 400, wantCode: "invalid_email"},
		"no at":                     {body: `{"email": "user.example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"no local part":             {body: `{"email": "@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"IP literal":                {body: `{"email": "user@[192.168.0.1]"}`, wantStatus: 400, wantCode: "invalid_email"},
		"quoted local part":         {body: `{"email": "\"user\"@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"255 chars":                 {body: `{"email": "` + strings.Repeat("a", 255-len("@example.com")) + `@example.com"}`, wantStatus: 400, wantCode: "invalid_email"},
		"body over 4 KiB":           {body: `{"email": "user@example.com", "pad": "` + strings.Repeat("x", 4<<10) + `"}`, wantStatus: 413, wantCode: "body_too_large"},
		"body over 4 KiB, not JSON": {body: strings.Repeat("x", 1<<20), wantStatus: 413, wantCode: "body_too_large"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, map[string]string{"SIGN_UP": "auto"})
			w := e.post(tc.body, "https://app.example.com")
			if w.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tc.wantStatus)
			}
			var got struct{ Error, Message string }
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Error != tc.wantCode || got.Message == "" {
				t.Errorf("body %s (%v), want error %q with a message", w.Body, err, tc.wantCode)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if calls := e.users.Calls(); len(calls) != 0 {
				t.Errorf("bad input reached the user pool: %q", calls)
			}
			if len(e.mailer.Sent()) != 0 {
				t.Error("bad input sent mail")
			}
		})
	}
}

// A 254-character address is the longest accepted.
func TestLoginLongestAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	email := strings.Repeat("a", 254-len("@example.com")) + "@example.com"
	if w := e.login(t, email); w.Code != http.StatusAccepted {
		t.Fatalf("status %d for a %d-char address: %s", w.Code, len(email), w.Body)
	}
}

func TestLoginUpstreamFailure(t *testing.T) {
	t.Parallel()
	outage := errors.New("fake outage")
	tests := map[string]struct {
		fail      string // operation that fails; "mail" for SES
		wantCalls []string
	}{
		"GetUser fails":       {fail: "GetUser", wantCalls: []string{"GetUser user@example.com"}},
		"SetChallenges fails": {fail: "SetChallenges", wantCalls: []string{"GetUser user@example.com", "SetChallenges sub-user"}},
		"SES fails":           {fail: "mail", wantCalls: []string{"GetUser user@example.com", "SetChallenges sub-user", "SetChallenges sub-user"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			if tc.fail == "mail" {
				e.mailer.fail = outage
			} else {
				e.users.fail[tc.fail] = outage
			}
			w := e.login(t, "user@example.com")
			if w.Code != http.StatusBadGateway {
				t.Errorf("status %d, want 502", w.Code)
			}
			var got map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got["error"] != "upstream_failed" {
				t.Errorf("body %s, want error upstream_failed", w.Body)
			}
			if strings.Contains(w.Body.String(), "outage") {
				t.Errorf("the cause leaked to the client: %s", w.Body)
			}
			if calls := e.users.Calls(); !reflect.DeepEqual(calls, tc.wantCalls) {
				t.Errorf("calls %q, want %q", calls, tc.wantCalls)
			}
		})
	}
}

// When SES fails the new challenge is taken back, so the user can retry at
// once instead of waiting out RESEND_INTERVAL for a mail that never came.
func TestLoginRollsBackUnsentLink(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"no attribute":       "",
		"a live older link":  challenge.Set{}.Add(strings.Repeat("o", challenge.Length), t0.Add(-2*time.Minute), 15*time.Minute).String(),
		"consumed attribute": "v1",
	}
	for name, before := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.users.users["user@example.com"].Challenges = before
			e.mailer.fail = errors.New("fake SES outage")
			if w := e.login(t, "user@example.com"); w.Code != http.StatusBadGateway {
				t.Fatalf("status %d, want 502", w.Code)
			}
			after := e.users.attr("user@example.com")
			if before != "" && after != before {
				t.Errorf("attribute after rollback %q, want %q", after, before)
			}
			if s, err := challenge.Parse(after); err != nil || s.String() != mustParse(t, before).String() {
				t.Errorf("attribute after rollback %q (%v), want the set of %q", after, err, before)
			}
			e.mailer.fail = nil
			if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted || len(e.mailer.Sent()) != 1 {
				t.Errorf("retry at once: status %d, %d mails; want a mail", w.Code, len(e.mailer.Sent()))
			}
		})
	}
}

func mustParse(t *testing.T, v string) challenge.Set {
	t.Helper()
	s, err := challenge.Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoginSignUp(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		signUp    string
		exists    bool
		wantCalls []string
		wantMail  bool
	}{
		"auto creates the account": {signUp: "auto", wantCalls: []string{"GetUser new@example.com", "CreateUser new@example.com", "SetChallenges sub-new"}, wantMail: true},
		"auto, created meanwhile":  {signUp: "auto", exists: true, wantCalls: []string{"GetUser new@example.com", "CreateUser new@example.com", "GetUser new@example.com", "SetChallenges sub-new"}, wantMail: true},
		"off sends nothing":        {signUp: "off", wantCalls: []string{"GetUser new@example.com"}},
		"default is off":           {wantCalls: []string{"GetUser new@example.com"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{}
			if tc.signUp != "" {
				vars["SIGN_UP"] = tc.signUp
			}
			e := newEnv(t, vars)
			e.users.exists = tc.exists
			if w := e.login(t, "new@example.com"); w.Code != http.StatusAccepted {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if calls := e.users.Calls(); !reflect.DeepEqual(calls, tc.wantCalls) {
				t.Errorf("calls %q, want %q", calls, tc.wantCalls)
			}
			if got := len(e.mailer.Sent()) == 1; got != tc.wantMail {
				t.Errorf("mail sent %v, want %v", got, tc.wantMail)
			}
		})
	}
	t.Run("create fails", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, map[string]string{"SIGN_UP": "auto"})
		e.users.fail["CreateUser"] = errors.New("fake outage")
		if w := e.login(t, "new@example.com"); w.Code != http.StatusBadGateway || len(e.mailer.Sent()) != 0 {
			t.Errorf("status %d, %d mails; want 502 and none", w.Code, len(e.mailer.Sent()))
		}
	})
}

func TestLoginResendInterval(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"RESEND_INTERVAL": "1m"})
	steps := []struct {
		advance  time.Duration
		wantMail int
	}{
		{0, 1},
		{30 * time.Second, 1}, // throttled
		{29 * time.Second, 1}, // 59 s after the first: still throttled
		{time.Second, 2},      // 60 s: allowed
		{59 * time.Second, 2}, // throttled by the second mail
		{time.Minute, 3},
	}
	for i, s := range steps {
		e.clock.Advance(s.advance)
		if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted {
			t.Fatalf("step %d: status %d", i, w.Code)
		}
		if got := len(e.mailer.Sent()); got != s.wantMail {
			t.Fatalf("step %d: %d mails, want %d", i, got, s.wantMail)
		}
	}
}

// Links requested one after the other all work until one is used, and the
// attribute stays within Cognito's limit however many are requested.
func TestLoginManyLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"RESEND_INTERVAL": "0s"})
	for i := range 50 {
		if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted {
			t.Fatalf("login %d: status %d", i, w.Code)
		}
		if n := len(e.users.attr("user@example.com")); n > challenge.MaxValueLen {
			t.Fatalf("login %d: attribute is %d chars", i, n)
		}
		e.clock.Advance(time.Second)
	}
	set := mustParse(t, e.users.attr("user@example.com"))
	sent := e.mailer.Sent()
	for i, m := range sent {
		_, secret := answer(t, m.Link)
		want := i >= len(sent)-challenge.MaxEntries
		if got := set.Verify(secret, e.clock.Now()); got != want {
			t.Errorf("link %d verifies %v, want %v", i, got, want)
		}
	}
}

func TestLink(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("x", challenge.Length)
	tests := map[string]struct {
		email string
		want  string
	}{
		"plain":   {email: "user@example.com", want: signInURL + "#user%40example.com," + secret},
		"plus":    {email: "a+b@example.com", want: signInURL + "#a%2Bb%40example.com," + secret},
		"comma":   {email: `"a,b"@example.com`, want: signInURL + "#%22a%2Cb%22%40example.com," + secret},
		"hash":    {email: "a#b@example.com", want: signInURL + "#a%23b%40example.com," + secret},
		"unicode": {email: "ü@example.com", want: signInURL + "#%C3%BC%40example.com," + secret},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			link := handlers.Link(signInURL, tc.email, secret)
			if link != tc.want {
				t.Errorf("Link = %q, want %q", link, tc.want)
			}
			email, got := answer(t, link)
			if email != tc.email || got != secret {
				t.Errorf("split at the last comma: %q, %q", email, got)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"ALLOWED_ORIGINS": "https://app.example.com, https://other.example.com"})
	tests := map[string]struct {
		method, origin string
		wantAllowed    bool
		wantStatus     int
	}{
		"allowed origin":              {method: http.MethodPost, origin: "https://app.example.com", wantAllowed: true, wantStatus: 202},
		"second allowed origin":       {method: http.MethodPost, origin: "https://other.example.com", wantAllowed: true, wantStatus: 202},
		"foreign origin":              {method: http.MethodPost, origin: "https://evil.example.net", wantStatus: 202},
		"no origin":                   {method: http.MethodPost, wantStatus: 202},
		"preflight, allowed origin":   {method: http.MethodOptions, origin: "https://app.example.com", wantAllowed: true, wantStatus: 200},
		"preflight, foreign origin":   {method: http.MethodOptions, origin: "https://evil.example.net", wantStatus: 200},
		"preflight, origin's sibling": {method: http.MethodOptions, origin: "https://app.example.com.evil.net", wantStatus: 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/login", strings.NewReader(`{"email":"nobody@example.com"}`))
			if tc.method == http.MethodPost {
				r.Header.Set("Content-Type", "application/json")
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.method == http.MethodOptions {
				r.Header.Set("Access-Control-Request-Method", "POST")
				r.Header.Set("Access-Control-Request-Headers", "content-type")
			}
			w := httptest.NewRecorder()
			e.router.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tc.wantStatus)
			}
			got := w.Header().Get("Access-Control-Allow-Origin")
			if tc.wantAllowed && got != tc.origin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.origin)
			}
			if !tc.wantAllowed && got != "" {
				t.Errorf("Access-Control-Allow-Origin %q for a foreign origin", got)
			}
			if tc.method == http.MethodOptions && tc.wantAllowed {
				if m := w.Header().Get("Access-Control-Allow-Methods"); m != "POST" {
					t.Errorf("Access-Control-Allow-Methods %q", m)
				}
			}
		})
	}
}

func TestParseLogin(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body     string
		want     string
		wantCode string
	}{
		"plain":             {body: `{"email":"user@example.com"}`, want: "user@example.com"},
		"trimmed and lower": {body: `{"email":"  User@Example.COM\t"}`, want: "user@example.com"},
		"other fields":      {body: `{"email":"user@example.com","next":"/x"}`, want: "user@example.com"},
		"plus and dots":     {body: `{"email":"first.last+tag@mail.example.co.uk"}`, want: "first.last+tag@mail.example.co.uk"},
		"escaped":           {body: `{"email":"user\u0040example.com"}`, want: "user@example.com"},
		"trailing space":    {body: `{"email":"user@example.com"}  ` + "\n", want: "user@example.com"},
		"not JSON":          {body: `x`, wantCode: "invalid_json"},
		"trailing bracket":  {body: `{"email":"user@example.com"}]`, wantCode: "invalid_json"},
		"missing":           {body: `{}`, wantCode: "missing_email"},
		"tab inside":        {body: `{"email":"us\ter@example.com"}`, wantCode: "invalid_email"},
		"NBSP inside":       {body: `{"email":"us\u00a0er@example.com"}`, wantCode: "invalid_email"},
		"line separator":    {body: `{"email":"user@example.com\u2028"}`, want: "user@example.com"},
		"RTL override":      {body: `{"email":"moc.elpmaxe@\u202eresu"}`, wantCode: "invalid_email"},
		"zero-width space":  {body: `{"email":"us\u200ber@example.com"}`, wantCode: "invalid_email"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := handlers.ParseLogin([]byte(tc.body))
			if tc.wantCode == "" {
				if err != nil || got != tc.want {
					t.Errorf("ParseLogin = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var he *handlers.Error
			if !errors.As(err, &he) || he.Code != tc.wantCode || he.Status != http.StatusBadRequest {
				t.Errorf("ParseLogin = %q, %v; want a 400 %s", got, err, tc.wantCode)
			}
		})
	}
}
