package cognito_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"magiclinks/challenge"
	"magiclinks/cognito"
	"magiclinks/links"
)

var t0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

const sub = "7d3f5a2e-9b1c-4e8a-a6d2-3c4b5e6f7a81"

// fakeUsers records VerifyEmail calls.
type fakeUsers struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeUsers) VerifyEmail(_ context.Context, username, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, username)
	return f.err
}

func (f *fakeUsers) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func newTriggers(users cognito.Users) *cognito.Triggers {
	now := func() time.Time { return t0 }
	return &cognito.Triggers{Users: users, Links: links.New(links.NewMemory(now), codeKey), Now: now, Rand: rand.Reader, MaxAttempts: 3}
}

var codeKey = []byte("0123456789abcdef0123456789abcdef")

// issue stores a link for sub as POST /login would.
func issue(t *testing.T, tr *cognito.Triggers, user, secret string, at time.Time, ttl time.Duration) {
	t.Helper()
	issueWithCode(t, tr, user, secret, "", at, ttl)
}

func issueWithCode(t *testing.T, tr *cognito.Triggers, user, secret, code string, at time.Time, ttl time.Duration) {
	t.Helper()
	if _, err := tr.Links.(*links.Store).Issue(context.Background(), user, links.NewLink{Secret: secret, Code: code}, at, ttl, 0); err != nil {
		t.Fatal(err)
	}
}

// event builds a trigger event the way Cognito sends it, with its nulls;
// request is raw JSON so tests can put any value anywhere.
func event(source, request string) []byte {
	return []byte(`{"version":"1","region":"ap-south-1","userPoolId":"ap-south-1_Ex4mpl3Ab","userName":"` + sub + `",` +
		`"callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"1example23456789abcdefghij"},` +
		`"triggerSource":"` + source + `","request":` + request + `,"response":{"challengeName":null}}`)
}

// handle runs one event and returns the decoded response object.
func handle(t *testing.T, tr *cognito.Triggers, payload []byte) map[string]any {
	t.Helper()
	out, err := tr.Handle(context.Background(), payload)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	var e struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, out)
	}
	return e.Response
}

func session(entries ...string) string {
	return `[` + strings.Join(entries, ",") + `]`
}

func step(name, result string) string {
	return `{"challengeName":"` + name + `","challengeResult":` + result + `,"challengeMetadata":null}`
}

var (
	right = step("CUSTOM_CHALLENGE", "true")
	wrong = step("CUSTOM_CHALLENGE", "false")
)

func TestDefine(t *testing.T) {
	t.Parallel()
	type want struct {
		challenge bool // CUSTOM_CHALLENGE next
		tokens    bool
		fail      bool
	}
	challengeNext, tokens, fail := want{challenge: true}, want{tokens: true}, want{fail: true}
	tests := map[string]struct {
		request     string
		maxAttempts int
		want        want
	}{
		"empty session":                          {request: `{"session":[]}`, want: challengeNext},
		"null session":                           {request: `{"session":null}`, want: challengeNext},
		"no session":                             {request: `{}`, want: challengeNext},
		"null request":                           {request: `null`, want: challengeNext},
		"SRP_A arrives with result true":         {request: `{"session":` + session(step("SRP_A", "true")) + `}`, want: fail},
		"PASSWORD_VERIFIER true":                 {request: `{"session":` + session(step("SRP_A", "true"), step("PASSWORD_VERIFIER", "true")) + `}`, want: fail},
		"SRP_A then a right answer":              {request: `{"session":` + session(step("SRP_A", "true"), right) + `}`, want: fail},
		"right answer after a foreign challenge": {request: `{"session":` + session(wrong, step("SMS_MFA", "true"), right) + `}`, want: fail},
		"unnamed challenge":                      {request: `{"session":` + session(`{"challengeResult":true}`) + `}`, want: fail},
		"lower-case name is foreign":             {request: `{"session":` + session(step("custom_challenge", "true")) + `}`, want: fail},
		"right answer":                           {request: `{"session":` + session(right) + `}`, want: tokens},
		"right answer after two wrong":           {request: `{"session":` + session(wrong, wrong, right) + `}`, want: tokens},
		"one wrong":                              {request: `{"session":` + session(wrong) + `}`, want: challengeNext},
		"two wrong":                              {request: `{"session":` + session(wrong, wrong) + `}`, want: challengeNext},
		"three wrong":                            {request: `{"session":` + session(wrong, wrong, wrong) + `}`, want: fail},
		"string \"true\" is not success":         {request: `{"session":` + session(step("CUSTOM_CHALLENGE", `"true"`)) + `}`, want: challengeNext},
		"three string trues fail":                {request: `{"session":` + session(step("CUSTOM_CHALLENGE", `"true"`), step("CUSTOM_CHALLENGE", `"true"`), step("CUSTOM_CHALLENGE", `"true"`)) + `}`, want: fail},
		"1 is not success":                       {request: `{"session":` + session(step("CUSTOM_CHALLENGE", `1`)) + `}`, want: challengeNext},
		"null result is not success":             {request: `{"session":` + session(step("CUSTOM_CHALLENGE", `null`)) + `}`, want: challengeNext},
		"session not an array":                   {request: `{"session":{"challengeName":"CUSTOM_CHALLENGE","challengeResult":true}}`, want: challengeNext},
		"user not found, first call":             {request: `{"session":[],"userNotFound":true}`, want: challengeNext},
		"user not found, two wrong":              {request: `{"session":` + session(wrong, wrong) + `,"userNotFound":true}`, want: challengeNext},
		"user not found, three wrong":            {request: `{"session":` + session(wrong, wrong, wrong) + `,"userNotFound":true}`, want: fail},
		"user not found, a right answer":         {request: `{"session":` + session(right) + `,"userNotFound":true}`, want: challengeNext},
		"user not found, three right answers":    {request: `{"session":` + session(right, right, right) + `,"userNotFound":true}`, want: fail},
		"MAX_ATTEMPTS 1, one wrong":              {request: `{"session":` + session(wrong) + `}`, maxAttempts: 1, want: fail},
		"MAX_ATTEMPTS 5, three wrong":            {request: `{"session":` + session(wrong, wrong, wrong) + `}`, maxAttempts: 5, want: challengeNext},
		"MAX_ATTEMPTS 5, five wrong":             {request: `{"session":` + session(wrong, wrong, wrong, wrong, wrong) + `}`, maxAttempts: 5, want: fail},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			users := &fakeUsers{}
			tr := newTriggers(users)
			if tc.maxAttempts != 0 {
				tr.MaxAttempts = tc.maxAttempts
			}
			r := handle(t, tr, event(cognito.SourceDefine, tc.request))
			got := want{
				challenge: r["challengeName"] == "CUSTOM_CHALLENGE",
				tokens:    r["issueTokens"] == true,
				fail:      r["failAuthentication"] == true,
			}
			if got != tc.want {
				t.Errorf("response %v, want %+v", r, tc.want)
			}
			if !tc.want.challenge && r["challengeName"] != nil {
				t.Errorf("challengeName = %v, want null", r["challengeName"])
			}
			if n := len(users.Calls()); n != 0 {
				t.Errorf("define made %d user-pool calls", n)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"known user":           `{"userAttributes":{"email":"user@example.com"},"challengeName":"CUSTOM_CHALLENGE","session":[]}`,
		"user not found":       `{"userAttributes":{},"challengeName":"CUSTOM_CHALLENGE","session":[],"userNotFound":true}`,
		"after a wrong answer": `{"userAttributes":{"email":"user@example.com"},"challengeName":"CUSTOM_CHALLENGE","session":` + session(wrong) + `}`,
		"null request":         `null`,
	}
	var first map[string]any
	nonces := map[string]bool{}
	for _, name := range []string{"known user", "user not found", "after a wrong answer", "null request"} {
		users := &fakeUsers{}
		r := handle(t, newTriggers(users), event(cognito.SourceCreate, tests[name]))
		private, _ := r["privateChallengeParameters"].(map[string]any)
		if len(private) == 0 {
			t.Errorf("%s: privateChallengeParameters empty: Cognito rejects that", name)
		}
		// Each challenge gets its own random nonce, private to Cognito.
		nonce, _ := private["nonce"].(string)
		if len(nonce) < 22 || nonces[nonce] {
			t.Errorf("%s: nonce %q is short or repeated", name, nonce)
		}
		nonces[nonce] = true
		delete(private, "nonce")
		pub, _ := json.Marshal(r["publicChallengeParameters"])
		for _, secret := range []string{nonce, "custom:authChallenge", "user@example.com", sub} {
			if strings.Contains(string(pub), secret) {
				t.Errorf("%s: public parameters %s carry %q", name, pub, secret)
			}
		}
		if first == nil {
			first = r
		} else if !reflect.DeepEqual(r, first) {
			t.Errorf("%s: response %v differs from a known user's %v", name, r, first)
		}
		if n := len(users.Calls()); n != 0 {
			t.Errorf("%s: create made %d user-pool calls", name, n)
		}
	}
	// Without randomness there is no challenge, and the client is told
	// nothing more than that.
	tr := newTriggers(&fakeUsers{})
	tr.Rand = iotest.ErrReader(errors.New("entropy exhausted"))
	_, err := tr.Handle(context.Background(), event(cognito.SourceCreate, tests["known user"]))
	var pe *cognito.PublicError
	if !errors.As(err, &pe) || strings.Contains(pe.Error(), "entropy") {
		t.Errorf("no randomness: %v, want a public error without the cause", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	answer := strings.Repeat("a", challenge.Length)
	otherAnswer := strings.Repeat("o", challenge.Length)
	req := func(answerJSON, extra string) string {
		return `{"userAttributes":{"email":"user@example.com"},` +
			`"privateChallengeParameters":{"challenge":"MAGIC_LINK","nonce":"n-1"},"challengeAnswer":` + answerJSON + extra + `}`
	}
	live := func(t *testing.T, tr *cognito.Triggers) {
		issue(t, tr, sub, answer, t0.Add(-time.Minute), 10*time.Minute)
	}
	q := `"` + answer + `"`
	tests := map[string]struct {
		links   func(t *testing.T, tr *cognito.Triggers)
		request string
		want    bool
	}{
		"live matching answer":                     {links: live, request: req(q, ""), want: true},
		"live matching answer, userNotFound false": {links: live, request: req(q, `,"userNotFound":false`), want: true},
		"no nonce (an older session)":              {links: live, request: `{"privateChallengeParameters":{"challenge":"MAGIC_LINK"},"challengeAnswer":` + q + `}`, want: true},
		"no links at all":                          {request: req(q, "")},
		"wrong answer":                             {links: live, request: req(`"`+otherAnswer+`"`, "")},
		"another user's answer": {
			links: func(t *testing.T, tr *cognito.Triggers) {
				issue(t, tr, "someone-else", answer, t0.Add(-time.Minute), 10*time.Minute)
			},
			request: req(q, ""),
		},
		"expired at exactly its expiry": {
			links: func(t *testing.T, tr *cognito.Triggers) {
				issue(t, tr, sub, answer, t0.Add(-10*time.Minute), 10*time.Minute)
			},
			request: req(q, ""),
		},
		"answer is a number":                     {links: live, request: req(`12345`, "")},
		"answer is an object":                    {links: live, request: req(`{"answer":`+q+`}`, "")},
		"answer is an array":                     {links: live, request: req(`[`+q+`]`, "")},
		"answer is null":                         {links: live, request: req(`null`, "")},
		"answer is true":                         {links: live, request: req(`true`, "")},
		"answer is empty":                        {links: live, request: req(`""`, "")},
		"answer with padding":                    {links: live, request: req(`" `+answer+`"`, "")},
		"user not found with a matching link":    {links: live, request: req(q, `,"userNotFound":true`)},
		"missing private parameters":             {links: live, request: `{"challengeAnswer":` + q + `}`},
		"foreign private parameters":             {links: live, request: `{"privateChallengeParameters":{"challenge":"SMS"},"challengeAnswer":` + q + `}`},
		"null request":                           {links: live, request: `null`},
		"seed uuid answer":                       {links: live, request: req(`"3f0f8b62-4c2e-4d8e-9d1a-2b3c4d5e6f70"`, "")},
		"attributes carry a matching old record": {request: `{"userAttributes":{"custom:authChallenge":"` + challenge.Set{}.Add(answer, t0, time.Hour).String() + `"},"privateChallengeParameters":{"challenge":"MAGIC_LINK"},"challengeAnswer":` + q + `}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			users := &fakeUsers{}
			tr := newTriggers(users)
			if tc.links != nil {
				tc.links(t, tr)
			}
			r := handle(t, tr, event(cognito.SourceVerify, tc.request))
			if got := r["answerCorrect"]; got != tc.want {
				t.Errorf("answerCorrect = %v, want %v", got, tc.want)
			}
			if n := len(users.Calls()); n != 0 {
				t.Errorf("verify made %d user-pool calls", n)
			}
			// A failed answer spends nothing: the link still works.
			if !tc.want && tc.links != nil && name != "another user's answer" && !strings.HasPrefix(name, "expired") {
				if r := handle(t, tr, event(cognito.SourceVerify, req(q, ""))); r["answerCorrect"] != true {
					t.Error("a failed answer spent the link")
				}
			}
		})
	}
}

// TestVerifySpendsOnce: the first correct answer spends the link; Cognito's
// retry of that same invocation (same nonce) is still correct, any other
// session's is not.
func TestVerifySpendsOnce(t *testing.T) {
	t.Parallel()
	answer := strings.Repeat("a", challenge.Length)
	tr := newTriggers(&fakeUsers{})
	issue(t, tr, sub, answer, t0.Add(-time.Minute), 10*time.Minute)
	issue(t, tr, sub, strings.Repeat("b", challenge.Length), t0.Add(-time.Minute), 10*time.Minute)
	verify := func(nonce, ans string) any {
		return handle(t, tr, event(cognito.SourceVerify, `{"privateChallengeParameters":{"challenge":"MAGIC_LINK","nonce":"`+nonce+`"},"challengeAnswer":"`+ans+`"}`))["answerCorrect"]
	}
	if verify("n-1", answer) != true {
		t.Fatal("first use failed")
	}
	if verify("n-1", answer) != true {
		t.Error("Cognito's retry of the same invocation failed")
	}
	if verify("n-2", answer) != false {
		t.Error("a second session used the spent link")
	}
	if verify("n-3", strings.Repeat("b", challenge.Length)) != false {
		t.Error("the user's other outstanding link survived the sign-in")
	}
}

// TestVerifyCode: the code in the mail is an answer like the link, typed
// in any case, with or without its dash; five wrong codes in all, across
// Cognito sessions, void it.
func TestVerifyCode(t *testing.T) {
	t.Parallel()
	verify := func(tr *cognito.Triggers, nonce string, answer any) any {
		b, _ := json.Marshal(answer)
		return handle(t, tr, event(cognito.SourceVerify, `{"privateChallengeParameters":{"challenge":"MAGIC_LINK","nonce":"`+nonce+`"},"challengeAnswer":`+string(b)+`}`))["answerCorrect"]
	}
	for _, typed := range []string{"ABC123", "abc-123", "ABC-123", " abc123 "} {
		tr := newTriggers(&fakeUsers{})
		issueWithCode(t, tr, sub, strings.Repeat("a", challenge.Length), "ABC123", t0.Add(-time.Minute), 10*time.Minute)
		if verify(tr, "n1", typed) != true {
			t.Errorf("code typed %q refused", typed)
		}
		if verify(tr, "n2", typed) != false {
			t.Errorf("code typed %q accepted twice", typed)
		}
	}
	tr := newTriggers(&fakeUsers{})
	issueWithCode(t, tr, sub, strings.Repeat("a", challenge.Length), "ABC123", t0.Add(-time.Minute), 10*time.Minute)
	for i, wrong := range []any{"ABC124", "ZZZ-ZZZ", "000000", "ABC12X", "abc-120"} {
		if verify(tr, fmt.Sprint("session-", i), wrong) != false {
			t.Fatalf("wrong code %v accepted", wrong)
		}
	}
	if verify(tr, "n9", "ABC123") != false {
		t.Error("the code still works after five wrong codes")
	}
	if verify(tr, "n10", strings.Repeat("a", challenge.Length)) != true {
		t.Error("the link stopped working with its code")
	}
}

type failingLinks struct{ err error }

func (f failingLinks) Redeem(context.Context, string, string, string, time.Time) (bool, error) {
	return true, f.err
}

// A store failure is never a sign-in: Cognito gets an error (a public
// message, the cause for the log), not answerCorrect.
func TestVerifyStoreFailure(t *testing.T) {
	t.Parallel()
	cause := errors.New("links: DynamoDB GetItem on table \"links\": ProvisionedThroughputExceededException")
	tr := newTriggers(&fakeUsers{})
	tr.Links = failingLinks{cause}
	out, err := tr.Handle(context.Background(), event(cognito.SourceVerify, `{"privateChallengeParameters":{"challenge":"MAGIC_LINK"},"challengeAnswer":"`+strings.Repeat("a", challenge.Length)+`"}`))
	var pe *cognito.PublicError
	if out != nil || !errors.As(err, &pe) || !errors.Is(err, cause) {
		t.Fatalf("out %s, err %v: want no response and a public error wrapping the cause", out, err)
	}
	if strings.Contains(pe.Error(), "DynamoDB") {
		t.Errorf("the cause reached the client: %q", pe.Error())
	}
}

func TestPostAuthentication(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		attrs     string
		wantWrite bool
	}{
		"unverified":                {attrs: `{"email_verified":"false","email":"user@example.com"}`, wantWrite: true},
		"verified":                  {attrs: `{"email_verified":"true","email":"user@example.com"}`},
		"verified, old attribute":   {attrs: `{"email_verified":"true","custom:authChallenge":"v1"}`},
		"no verified attribute":     {attrs: `{"email":"user@example.com"}`, wantWrite: true},
		"verified as a bool is not": {attrs: `{"email_verified":true}`, wantWrite: true},
		"null attributes":           {attrs: `null`, wantWrite: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			users := &fakeUsers{}
			handle(t, newTriggers(users), event(cognito.SourcePostAuth, `{"userAttributes":`+tc.attrs+`,"newDeviceUsed":false}`))
			var want []string
			if tc.wantWrite {
				want = []string{sub}
			}
			if got := users.Calls(); !reflect.DeepEqual(got, want) {
				t.Errorf("VerifyEmail calls = %q, want %q", got, want)
			}
		})
	}
}

func TestPostAuthenticationFailure(t *testing.T) {
	t.Parallel()
	internal := errors.New("AdminUpdateUserAttributes: arn:aws:cognito-idp:ap-south-1:123456789012:userpool/x: AccessDenied")
	users := &fakeUsers{err: internal}
	out, err := newTriggers(users).Handle(context.Background(), event(cognito.SourcePostAuth, `{"userAttributes":{"email_verified":"false"}}`))
	if out != nil {
		t.Errorf("response on failure: %s", out)
	}
	var pe *cognito.PublicError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a *PublicError", err, err)
	}
	if !errors.Is(err, internal) {
		t.Errorf("the cause is lost: %v", err)
	}
	for _, leak := range []string{"arn:", "AccessDenied", "AdminUpdateUserAttributes", "123456789012", sub} {
		if strings.Contains(pe.Error(), leak) {
			t.Errorf("client message %q contains %q", pe.Error(), leak)
		}
	}

	// No userName: nothing to update, and a public error.
	users = &fakeUsers{}
	_, err = newTriggers(users).Handle(context.Background(), []byte(`{"triggerSource":"PostAuthentication_Authentication","request":{"userAttributes":{}}}`))
	if !errors.As(err, &pe) || len(users.Calls()) != 0 {
		t.Errorf("no userName: err %v, calls %v", err, users.Calls())
	}
}

func TestPreSignUp(t *testing.T) {
	t.Parallel()
	for _, source := range []string{cognito.SourcePreSignUp, cognito.SourcePreSignUpAdm, cognito.SourcePreSignUpExt} {
		t.Run(source, func(t *testing.T) {
			t.Parallel()
			r := handle(t, newTriggers(&fakeUsers{}), event(source, `{"userAttributes":{"email":"user@example.com"},"validationData":null}`))
			if r["autoConfirmUser"] != true || r["autoVerifyEmail"] != false || r["autoVerifyPhone"] != false {
				t.Errorf("response %v, want autoConfirmUser only", r)
			}
		})
	}
}

func TestInvalidEvents(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		payload string
		wantIs  error
	}{
		"unsupported trigger":   {payload: string(event("CustomMessage_SignUp", `{}`)), wantIs: cognito.ErrUnsupportedTrigger},
		"no trigger source":     {payload: `{"request":{}}`, wantIs: cognito.ErrUnsupportedTrigger},
		"source not a string":   {payload: `{"triggerSource":7}`, wantIs: cognito.ErrUnsupportedTrigger},
		"not JSON":              {payload: `not json`},
		"null":                  {payload: `null`},
		"array":                 {payload: `[{"triggerSource":"DefineAuthChallenge_Authentication"}]`},
		"empty":                 {payload: ``},
		"data after the object": {payload: `{"triggerSource":"PreSignUp_SignUp"} {}`},
		"unclosed":              {payload: `{"triggerSource":"PreSignUp_SignUp"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			users := &fakeUsers{}
			out, err := newTriggers(users).Handle(context.Background(), []byte(tc.payload))
			var pe *cognito.PublicError
			if !errors.As(err, &pe) || out != nil {
				t.Fatalf("Handle = %s, %v; want a *PublicError", out, err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tc.wantIs)
			}
			if len(users.Calls()) != 0 {
				t.Error("user-pool call on a bad event")
			}
		})
	}
}

// Every trigger returns the whole event, unknown fields included, with only
// the response replaced.
func TestResponseKeepsEvent(t *testing.T) {
	t.Parallel()
	sources := map[string]string{
		"define":   cognito.SourceDefine,
		"create":   cognito.SourceCreate,
		"verify":   cognito.SourceVerify,
		"postauth": cognito.SourcePostAuth,
		"presign":  cognito.SourcePreSignUp,
	}
	for name, source := range sources {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := []byte(`{"version":"1","triggerSource":"` + source + `","userName":"` + sub + `",` +
				`"futureField":{"nested":[1,null,"x"]},"callerContext":null,` +
				`"request":{"userAttributes":{"email":"user@example.com"},"session":[],"somethingNew":true},` +
				`"response":{"stale":"value"}}`)
			out, err := newTriggers(&fakeUsers{}).Handle(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			var inMap, outMap map[string]json.RawMessage
			if err := json.Unmarshal(in, &inMap); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &outMap); err != nil {
				t.Fatal(err)
			}
			for k, v := range inMap {
				if k == "response" {
					continue
				}
				var a, b bytes.Buffer
				_ = json.Compact(&a, v)
				_ = json.Compact(&b, outMap[k])
				if a.String() != b.String() {
					t.Errorf("field %s changed: %s → %s", k, a.String(), b.String())
				}
			}
			if len(outMap) != len(inMap) {
				t.Errorf("fields: got %d, want %d", len(outMap), len(inMap))
			}
			if strings.Contains(string(outMap["response"]), "stale") {
				t.Errorf("response not replaced: %s", outMap["response"])
			}
		})
	}
}

// The response goes where the event's was, whatever the event's layout: the
// bytes around it are the event's own.
func TestResponseInPlace(t *testing.T) {
	t.Parallel()
	src := `"triggerSource":"` + cognito.SourcePreSignUp + `"`
	want := `{"autoConfirmUser":true,"autoVerifyEmail":false,"autoVerifyPhone":false}`
	tests := map[string]struct{ in, out string }{
		"replaced": {
			in:  `{` + src + `,"response":{"autoConfirmUser":false},"z":1}`,
			out: `{` + src + `,"response":` + want + `,"z":1}`,
		},
		"indented, layout kept": {
			in:  "{\n  " + src + ",\n  \"response\" :\t{ \"stale\": [1, 2] }\n}\n",
			out: "{\n  " + src + ",\n  \"response\" :\t" + want + "\n}\n",
		},
		"absent: added": {
			in:  `{` + src + `}`,
			out: `{` + src + `,"response":` + want + `}`,
		},
		"null": {
			in:  `{"response":null,` + src + `}`,
			out: `{"response":` + want + `,` + src + `}`,
		},
		"escaped name": {
			in:  `{` + src + `,"respons\u0065":{}}`,
			out: `{` + src + `,"respons\u0065":` + want + `}`,
		},
		"twice: both replaced": {
			in:  `{"response":1,` + src + `,"response":{"x":"}"}}`,
			out: `{"response":` + want + `,` + src + `,"response":` + want + `}`,
		},
		"another case is another field": {
			in:  `{` + src + `,"Response":{}}`,
			out: `{` + src + `,"Response":{},"response":` + want + `}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := newTriggers(&fakeUsers{}).Handle(context.Background(), []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.out {
				t.Errorf("got  %s\nwant %s", out, tc.out)
			}
		})
	}
}
