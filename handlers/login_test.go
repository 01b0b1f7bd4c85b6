package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"magiclinks/challenge"
	"magiclinks/config"
	"magiclinks/handlers"
	"magiclinks/links"
	"magiclinks/logging"
)

var t0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

var nonces atomic.Int64

// testKey keys the codes and seals the request handles in these tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

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

func (f *fakeUsers) SetRandomPassword(_ context.Context, username string) error {
	if err := f.record("SetRandomPassword "+username, "SetRandomPassword"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.Username == username {
			u.NeedsPassword = false
			return nil
		}
	}
	return errors.New("fake: no such user")
}

// record notes a call and returns the failure set for op, if any.
func (f *fakeUsers) record(call, op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.fail[op]
}

func (f *fakeUsers) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeLinks is the real link store (in process) with its calls recorded in
// the same list as the user pool's, and failures injected by operation.
type fakeLinks struct {
	users *fakeUsers
	store *links.Store
}

func (f *fakeLinks) Issue(ctx context.Context, user string, l links.NewLink, now time.Time, ttl, hold time.Duration) (bool, error) {
	if err := f.users.record("Issue "+user, "Issue"); err != nil {
		return false, err
	}
	return f.store.Issue(ctx, user, l, now, ttl, hold)
}

func (f *fakeLinks) Revoke(ctx context.Context, user, secret, requestID string, now time.Time) error {
	if err := f.users.record("Revoke "+user, "Revoke"); err != nil {
		return err
	}
	return f.store.Revoke(ctx, user, secret, requestID, now)
}

func (f *fakeLinks) Approve(ctx context.Context, user, secret, number string, now time.Time) (links.ApproveResult, error) {
	if err := f.users.record("Approve "+user, "Approve"); err != nil {
		return links.LinkGone, err
	}
	return f.store.Approve(ctx, user, secret, number, now)
}

func (f *fakeLinks) Poll(ctx context.Context, user, requestID string, now time.Time) (links.PollResult, error) {
	if err := f.users.record("Poll "+user, "Poll"); err != nil {
		return links.StillPending, err
	}
	return f.store.Poll(ctx, user, requestID, now)
}

func (f *fakeLinks) Count(ctx context.Context, key string, n int, per time.Duration, now time.Time) (time.Duration, bool, error) {
	if err := f.users.record("Count "+key, "Count"); err != nil {
		return 0, false, err
	}
	return f.store.Count(ctx, key, n, per, now)
}

// redeem uses a link as Verify would, at the env's clock, each time in a
// new Cognito challenge.
func (e *env) redeem(t *testing.T, user, secret string) bool {
	t.Helper()
	ok, err := e.links.store.Redeem(context.Background(), user, secret, fmt.Sprint("nonce-", nonces.Add(1)), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

type mail struct {
	Lang, To, Link, Code string
	TTL                  time.Duration
}

type fakeMailer struct {
	mu     sync.Mutex
	sent   []mail
	failed []mail // mails whose sending failed, links included
	fail   error
}

func (f *fakeMailer) SendMagicLink(_ context.Context, lang, to, link, code string, ttl time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		f.failed = append(f.failed, mail{lang, to, link, code, ttl})
		return f.fail
	}
	f.sent = append(f.sent, mail{lang, to, link, code, ttl})
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
	links  *fakeLinks
	mailer *fakeMailer
	clock  *clock
	cfg    config.Config
	waits  *waitRecorder
	// line is the log line of the last request.
	line *logging.Line
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
	e.links = &fakeLinks{users: e.users, store: links.New(links.NewMemory(e.clock.Now), testKey)}
	e.router = handlers.New(handlers.Deps{Config: cfg, Users: e.users, Links: e.links, Approvals: e.links, Codes: true, RequestKey: testKey,
		Limiter: e.links, Mailer: e.mailer, Now: e.clock.Now, Rand: rand.Reader, Wait: e.waits.wait})
	return e
}

func (e *env) post(body, origin string) *httptest.ResponseRecorder {
	return e.postFrom("192.0.2.1:4711", body, origin)
}

// postFrom sends POST /login from remoteAddr, which the API Gateway adapter
// fills with the event's sourceIp.
func (e *env) postFrom(remoteAddr, body, origin string) *httptest.ResponseRecorder {
	ctx, line := logging.With(context.Background())
	e.line = line
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/login", strings.NewReader(body))
	r.RemoteAddr = remoteAddr
	r.Header.Set("Content-Type", "application/json")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	return w
}

// logged returns the value of key on the last request's log line.
func (e *env) logged(key string) string {
	for _, a := range e.line.Attrs() {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
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

// accepted202 checks that a 202 carries a well-formed request handle and
// number, and returns the response with both blanked: the rest must be the
// same bytes for everyone.
func accepted202(t *testing.T, w *httptest.ResponseRecorder) (response, string, string) {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("202 body %s: %v", w.Body, err)
	}
	req, num := body["request"], body["number"]
	if len(req) < 22 || len(num) != 2 || num[0] < '0' || num[0] > '9' || num[1] < '0' || num[1] > '9' {
		t.Errorf("202 body %s: want a request handle of >= 128 bits and a two-digit number", w.Body)
	}
	body["request"], body["number"] = "", ""
	b, _ := json.Marshal(body)
	r := snapshot(w)
	r.Body = string(b)
	return r, req, num
}

// The endpoint answers the same bytes whoever asks, whatever happens after
// the lookup, so it tells nobody which addresses have accounts.
func TestLoginSameAnswerForEveryone(t *testing.T) {
	t.Parallel()
	outage := errors.New("fake outage")
	tests := map[string]struct {
		email     string
		prepare   func(e *env)
		wantCalls []string
		wantMail  bool
		outcome   string
		failed    bool // logged at ERROR
	}{
		"existing user": {email: "user@example.com", wantCalls: []string{"Count ip#192.0.2.1", "GetUser user@example.com", "Issue sub-user"}, wantMail: true, outcome: "sent"},
		"unknown user":  {email: "nobody@example.com", wantCalls: []string{"Count ip#192.0.2.1", "GetUser nobody@example.com"}, outcome: "unknown_user"},
		"disabled user": {email: "disabled@example.com", wantCalls: []string{"Count ip#192.0.2.1", "GetUser disabled@example.com"}, outcome: "disabled_user"},
		"throttled user": {
			email: "user@example.com",
			prepare: func(e *env) {
				if _, err := e.links.store.Issue(context.Background(), "sub-user", links.NewLink{Secret: strings.Repeat("r", challenge.Length)}, t0.Add(-59*time.Second), 10*time.Minute, 0); err != nil {
					t.Fatal(err)
				}
			},
			wantCalls: []string{"Count ip#192.0.2.1", "GetUser user@example.com", "Issue sub-user"},
			outcome:   "throttled",
		},
		"store fails": {
			email:     "user@example.com",
			prepare:   func(e *env) { e.users.fail["Issue"] = outage },
			wantCalls: []string{"Count ip#192.0.2.1", "GetUser user@example.com", "Issue sub-user"},
			outcome:   "store_failed", failed: true,
		},
		"mail fails": {
			email:     "user@example.com",
			prepare:   func(e *env) { e.mailer.fail = outage },
			wantCalls: []string{"Count ip#192.0.2.1", "GetUser user@example.com", "Issue sub-user", "Revoke sub-user"},
			outcome:   "send_failed", failed: true,
		},
		"repair fails": {
			email: "half@example.com",
			prepare: func(e *env) {
				e.users.users["half@example.com"] = &handlers.User{Username: "sub-half", Enabled: true, NeedsPassword: true}
				e.users.fail["SetRandomPassword"] = outage
			},
			wantCalls: []string{"Count ip#192.0.2.1", "GetUser half@example.com", "SetRandomPassword sub-half"},
			outcome:   "repair_failed", failed: true,
		},
		"create fails (sign-up off: never tried)": {
			email:     "new@example.com",
			prepare:   func(e *env) { e.users.fail["CreateUser"] = outage },
			wantCalls: []string{"Count ip#192.0.2.1", "GetUser new@example.com"},
			outcome:   "unknown_user",
		},
	}
	var want *response
	wantFrom := ""
	handles := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		tc := tests[name]
		e := newEnv(t, nil)
		if tc.prepare != nil {
			tc.prepare(e)
		}
		got, handle, _ := accepted202(t, e.login(t, tc.email))
		if handles[handle] {
			t.Errorf("%s: request handle repeated", name)
		}
		for h := range handles {
			if len(h) != len(handle) {
				t.Errorf("%s: a handle of %d characters, another of %d: the length tells accounts apart", name, len(handle), len(h))
			}
		}
		handles[handle] = true
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
		if o := e.logged("outcome"); o != tc.outcome {
			t.Errorf("%s: logged outcome %q, want %q", name, o, tc.outcome)
		}
		if e.line.Failed() != tc.failed || (tc.failed && !strings.Contains(e.logged("error"), "outage")) {
			t.Errorf("%s: line failed %v with error %q, want failed %v with the cause", name, e.line.Failed(), e.logged("error"), tc.failed)
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
		"existing user": {body: `{"email":"user@example.com"}`, wantWait: true},
		"unknown user":  {body: `{"email":"nobody@example.com"}`, wantWait: true},
		"disabled user": {body: `{"email":"disabled@example.com"}`, wantWait: true},
		"bad input":     {body: `{"email":"not an address"}`},
		"store fails":   {body: `{"email":"user@example.com"}`, prepare: func(e *env) { e.users.fail["Issue"] = errors.New("boom") }, wantWait: true},
		"mail fails":    {body: `{"email":"user@example.com"}`, prepare: func(e *env) { e.mailer.fail = errors.New("boom") }, wantWait: true},
		"lookup fails":  {body: `{"email":"user@example.com"}`, prepare: func(e *env) { e.users.fail["GetUser"] = errors.New("boom") }},
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
	if got, want := e.users.Calls(), []string{"Count ip#192.0.2.1", "GetUser user@example.com", "Issue sub-user"}; !reflect.DeepEqual(got, want) {
		t.Errorf("calls %q, want %q (address trimmed and lower-cased)", got, want)
	}
	sent := e.mailer.Sent()
	if len(sent) != 1 {
		t.Fatalf("%d mails, want 1", len(sent))
	}
	if sent[0].To != "user@example.com" || sent[0].TTL != 10*time.Minute {
		t.Errorf("mail %+v, want a 10-minute link by default", sent[0])
	}
	email, secret := answer(t, sent[0].Link)
	if email != "user@example.com" {
		t.Errorf("email in link = %q", email)
	}
	if len(secret) < 22 || len(secret) != challenge.Length {
		t.Errorf("answer %q is %d chars", secret, len(secret))
	}
	e.clock.Advance(10*time.Minute - time.Second)
	if !e.redeem(t, "sub-user", secret) {
		t.Error("the link does not work just before LINK_TTL")
	}

	late := newEnv(t, nil)
	late.login(t, "user@example.com")
	_, secret = answer(t, late.mailer.Sent()[0].Link)
	late.clock.Advance(10 * time.Minute)
	if late.redeem(t, "sub-user", secret) {
		t.Error("the link works at LINK_TTL")
	}
}

// TestLoginRepairsHalfCreatedAccount: an account not CONFIRMED (created,
// but the password step failed or raced) gets its permanent password before
// the link is sent; a confirmed one costs no Cognito write.
func TestLoginRepairsHalfCreatedAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"RESEND_INTERVAL": "0s"})
	e.users.users["half@example.com"] = &handlers.User{Username: "sub-half", Enabled: true, NeedsPassword: true}
	e.login(t, "half@example.com")
	want := []string{"Count ip#192.0.2.1", "GetUser half@example.com", "SetRandomPassword sub-half", "Issue sub-half"}
	if got := e.users.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if len(e.mailer.Sent()) != 1 || e.logged("repaired") != "true" {
		t.Fatalf("%d mails, repaired=%q; want the link after the repair", len(e.mailer.Sent()), e.logged("repaired"))
	}
	e.login(t, "half@example.com")
	if got := e.users.Calls()[len(want):]; slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "SetRandomPassword") }) {
		t.Errorf("a repaired account was written again: %q", got)
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

// Only a failed lookup answers 502: it happens for every address alike.
func TestLoginLookupFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.users.fail["GetUser"] = errors.New("fake outage")
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
	if calls, want := e.users.Calls(), []string{"Count ip#192.0.2.1", "GetUser user@example.com"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
}

// A failure after the lookup leaves no usable link and no resend hold: the
// user's retry a second later sends, and the links from before keep working.
func TestLoginFailureLeavesNoLinkNoHold(t *testing.T) {
	t.Parallel()
	older := strings.Repeat("o", challenge.Length)
	for _, name := range []string{"mail fails", "store fails", "mail fails with an older link live"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil) // RESEND_INTERVAL 1m
			if strings.Contains(name, "older") {
				if _, err := e.links.store.Issue(context.Background(), "sub-user", links.NewLink{Secret: older}, t0.Add(-2*time.Minute), 10*time.Minute, 0); err != nil {
					t.Fatal(err)
				}
			}
			if strings.HasPrefix(name, "mail") {
				e.mailer.fail = errors.New("fake SES outage")
			} else {
				e.users.fail["Issue"] = errors.New("fake DynamoDB outage")
			}
			if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted {
				t.Fatalf("status %d, want 202", w.Code)
			}
			for _, m := range e.mailer.failed {
				if _, secret := answer(t, m.Link); e.redeem(t, "sub-user", secret) {
					t.Fatal("the unsent link works")
				}
			}
			e.mailer.fail = nil
			delete(e.users.fail, "Issue")
			e.clock.Advance(time.Second)
			if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted || len(e.mailer.Sent()) != 1 {
				t.Fatalf("retry a second later: status %d, %d mails; want a mail", w.Code, len(e.mailer.Sent()))
			}
			if strings.Contains(name, "older") && !e.redeem(t, "sub-user", older) {
				t.Error("the older link was lost")
			}
		})
	}
}

// TestLoginLimitPerIP: over LOGIN_LIMIT_PER_IP a client IP gets 429 with
// Retry-After, decided before any lookup and the same for every address;
// the IP is API Gateway's sourceIp, never a header the client wrote.
func TestLoginLimitPerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "3/15m", "RESEND_INTERVAL": "0s"})
	e.clock.Advance(5 * time.Minute) // 10 minutes left in the window
	post := func(addr, email, xff string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"email":"`+email+`"}`))
		r.RemoteAddr = addr
		r.Header.Set("Content-Type", "application/json")
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		e.router.ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		if w := post("203.0.113.7:1000", "user@example.com", ""); w.Code != http.StatusAccepted {
			t.Fatalf("request %d: status %d", i+1, w.Code)
		}
	}
	before := len(e.users.Calls())
	var first *response
	for _, email := range []string{"user@example.com", "nobody@example.com", "disabled@example.com"} {
		w := post("203.0.113.7:2000", email, "198.51.100."+email[:1])
		got := snapshot(w)
		if got.Status != http.StatusTooManyRequests || got.Header.Get("Retry-After") != "600" || !strings.Contains(got.Body, `"error":"rate_limited"`) {
			t.Fatalf("%s: %d Retry-After %q %s; want 429, 600, rate_limited", email, got.Status, got.Header.Get("Retry-After"), got.Body)
		}
		if first == nil {
			first = &got
		} else if !reflect.DeepEqual(got, *first) {
			t.Errorf("%s is limited differently:\n%+v\n%+v", email, got, *first)
		}
	}
	for _, c := range e.users.Calls()[before:] {
		if !strings.HasPrefix(c, "Count ip#") {
			t.Errorf("a limited request went on to %q", c)
		}
	}
	if w := post("203.0.113.8:1000", "user@example.com", ""); w.Code != http.StatusAccepted {
		t.Errorf("another IP: status %d", w.Code)
	}
	e.clock.Advance(10 * time.Minute)
	if w := post("203.0.113.7:1000", "user@example.com", ""); w.Code != http.StatusAccepted {
		t.Errorf("next window: status %d", w.Code)
	}

	t.Run("off", func(t *testing.T) {
		e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "off"})
		for range 5 {
			if w := e.login(t, "nobody@example.com"); w.Code != http.StatusAccepted {
				t.Fatalf("status %d with the limit off", w.Code)
			}
		}
		if slices.ContainsFunc(e.users.Calls(), func(c string) bool { return strings.HasPrefix(c, "Count") }) {
			t.Error("counted with the limit off")
		}
	})
	t.Run("a counter that fails lets the request through, logged", func(t *testing.T) {
		e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "1/1m"})
		e.users.fail["Count"] = errors.New("fake throttling")
		if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted || len(e.mailer.Sent()) != 1 {
			t.Fatalf("status %d, %d mails", w.Code, len(e.mailer.Sent()))
		}
		if !e.line.Failed() {
			t.Error("the counter's failure was not logged as an error")
		}
	})
}

func TestLoginSignUp(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		signUp    string
		exists    bool
		wantCalls []string
		wantMail  bool
	}{
		"auto creates the account": {signUp: "auto", wantCalls: []string{"Count ip#192.0.2.1", "GetUser new@example.com", "CreateUser new@example.com", "Issue sub-new"}, wantMail: true},
		"auto, created meanwhile":  {signUp: "auto", exists: true, wantCalls: []string{"Count ip#192.0.2.1", "GetUser new@example.com", "CreateUser new@example.com", "GetUser new@example.com", "Issue sub-new"}, wantMail: true},
		"off sends nothing":        {signUp: "off", wantCalls: []string{"Count ip#192.0.2.1", "GetUser new@example.com"}},
		"default is off":           {wantCalls: []string{"Count ip#192.0.2.1", "GetUser new@example.com"}},
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
	t.Run("create fails: 202 after the lookup, logged", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, map[string]string{"SIGN_UP": "auto"})
		e.users.fail["CreateUser"] = errors.New("fake outage")
		if w := e.login(t, "new@example.com"); w.Code != http.StatusAccepted || len(e.mailer.Sent()) != 0 {
			t.Errorf("status %d, %d mails; want 202 and none", w.Code, len(e.mailer.Sent()))
		}
		if e.logged("outcome") != "create_failed" || !e.line.Failed() {
			t.Errorf("outcome %q failed %v", e.logged("outcome"), e.line.Failed())
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

// Links requested one after the other all work until one is used; past
// challenge.MaxEntries the oldest are dropped.
func TestLoginManyLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"RESEND_INTERVAL": "0s"})
	for i := range 50 {
		if w := e.login(t, "user@example.com"); w.Code != http.StatusAccepted {
			t.Fatalf("login %d: status %d", i, w.Code)
		}
		e.clock.Advance(time.Second)
	}
	sent := e.mailer.Sent()
	// Wrong answers spend nothing, so the dropped links are tried first.
	for i, m := range sent[:len(sent)-challenge.MaxEntries] {
		if _, secret := answer(t, m.Link); e.redeem(t, "sub-user", secret) {
			t.Fatalf("link %d of %d still works", i, len(sent))
		}
	}
	if _, secret := answer(t, sent[len(sent)-challenge.MaxEntries].Link); !e.redeem(t, "sub-user", secret) {
		t.Error("the oldest kept link does not work")
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
