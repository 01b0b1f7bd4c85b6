package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"magiclinks/challenge"
	"magiclinks/cognito"
	"magiclinks/config"
)

// Helpers that drive the app as API Gateway and Cognito would: events are
// the recorded ones with the fields of the step filled in, and the trigger
// events carry the user's attributes as the fake pool holds them now.

func loadEvent(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/events/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loginEvent is an HTTP API POST /login for email.
func loginEvent(t testing.TB, email string) []byte {
	e := loadEvent(t, "apigw-v2-post-login")
	e["body"] = string(mustJSON(t, map[string]string{"email": email}))
	return mustJSON(t, e)
}

type httpResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	// MultiValueHeaders is where REST API (v1) responses put headers.
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
}

func (a *testApp) invoke(t testing.TB, payload []byte) ([]byte, error) {
	t.Helper()
	return a.dispatcher.Invoke(context.Background(), payload)
}

func (a *testApp) login(t testing.TB, email string) httpResponse {
	t.Helper()
	out, err := a.invoke(t, loginEvent(t, email))
	if err != nil {
		t.Fatalf("POST /login: %v", err)
	}
	var r httpResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// blankRequest checks that a 202 carries a request handle and a number and
// blanks both: they are random for every request, and only they may differ.
func blankRequest(t testing.TB, r httpResponse) httpResponse {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || r.StatusCode != 202 {
		t.Fatalf("not a 202 with a JSON body: %+v", r)
	}
	if len(body["request"]) < 22 || len(body["number"]) != 2 {
		t.Errorf("202 body %s: want a request handle and a two-digit number", r.Body)
	}
	body["request"], body["number"] = "", ""
	r.Body = string(mustJSON(t, body))
	return r
}

var linkRE = regexp.MustCompile(`https://app\.example\.com/sign-in#[^\s"<]+`)

// answers are the challenges of every mail sent so far, split from the link
// at its last comma as the sign-in page does.
func (a *testApp) answers(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, in := range a.ses.sent {
		link := linkRE.FindString(aws.ToString(in.Content.Simple.Body.Text.Data))
		i := strings.LastIndex(link, ",")
		if i < 0 {
			t.Fatalf("no link in mail")
		}
		out = append(out, link[i+1:])
	}
	return out
}

func (a *testApp) sendCount() int {
	n := 0
	for _, c := range a.cognito.Calls() {
		if c.Op == "SendEmail" {
			n++
		}
	}
	return n
}

// userAttributes are the attributes Cognito would put in a trigger event
// for email, read from the fake pool now.
func (a *testApp) userAttributes(t testing.TB, email string) (string, map[string]string) {
	t.Helper()
	a.cognito.mu.Lock()
	defer a.cognito.mu.Unlock()
	u := a.cognito.users[email]
	if u == nil {
		t.Fatalf("no user %s", email)
	}
	attrs := map[string]string{"sub": u.sub, "email": email, "cognito:user_status": "CONFIRMED"}
	for k, v := range u.attrs {
		attrs[k] = v
	}
	return u.sub, attrs
}

// trigger builds a trigger event from a recorded one for email ("" for a
// user Cognito did not find) with request fields set.
func (a *testApp) trigger(t testing.TB, base, email string, request map[string]any) []byte {
	t.Helper()
	e := loadEvent(t, base)
	req := e["request"].(map[string]any)
	if email == "" {
		e["userName"] = "nobody@example.com"
		req["userAttributes"] = map[string]any{}
		req["userNotFound"] = true
	} else {
		sub, attrs := a.userAttributes(t, email)
		e["userName"] = sub
		req["userAttributes"] = attrs
	}
	for k, v := range request {
		req[k] = v
	}
	return mustJSON(t, e)
}

func (a *testApp) verify(t testing.TB, email string, answer any) bool {
	t.Helper()
	out, err := a.invoke(t, a.trigger(t, "cognito-verify", email, map[string]any{"challengeAnswer": answer}))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var r struct {
		Response struct {
			AnswerCorrect bool `json:"answerCorrect"`
		} `json:"response"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Response.AnswerCorrect
}

func (a *testApp) postAuth(t testing.TB, email string) error {
	t.Helper()
	_, err := a.invoke(t, a.trigger(t, "cognito-postauthentication", email, nil))
	return err
}

type sessionStep struct {
	ChallengeName   string `json:"challengeName"`
	ChallengeResult bool   `json:"challengeResult"`
	// ChallengeMetadata is null in real events.
	ChallengeMetadata *string `json:"challengeMetadata"`
}

type defineResult struct {
	ChallengeName      *string `json:"challengeName"`
	IssueTokens        bool    `json:"issueTokens"`
	FailAuthentication bool    `json:"failAuthentication"`
}

func (a *testApp) define(t testing.TB, email string, session []sessionStep) defineResult {
	t.Helper()
	out, err := a.invoke(t, a.trigger(t, "cognito-define-first-call", email, map[string]any{"session": session}))
	if err != nil {
		t.Fatalf("define: %v", err)
	}
	var r struct{ Response defineResult }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Response
}

func (a *testApp) create(t testing.TB, email string, session []sessionStep) {
	t.Helper()
	out, err := a.invoke(t, a.trigger(t, "cognito-create", email, map[string]any{"session": session}))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	var r struct {
		Response struct {
			PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
		} `json:"response"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Response.PrivateChallengeParameters) == 0 {
		t.Fatalf("create: %s, %v", out, err)
	}
}

func attrsOf(in any) map[string]string {
	m := map[string]string{}
	for _, a := range in.(*cip.AdminUpdateUserAttributesInput).UserAttributes {
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

// ops are the names of the calls recorded so far, from index from on.
func (a *testApp) ops(from int) []string {
	var out []string
	for _, c := range a.cognito.Calls()[from:] {
		out = append(out, c.Op)
	}
	return out
}

// Two links sent one after the other are both outstanding; using one spends
// both, and nothing uses them again.
func TestFlowTwoLinksThenReuse(t *testing.T) {
	for _, mode := range []string{"store", "attribute"} {
		t.Run(mode, func(t *testing.T) {
			env := map[string]string{"RESEND_INTERVAL": "0s"}
			if mode == "attribute" {
				env[attributeMode] = "1"
			}
			a := newTestApp(t, env)
			for i := range 2 {
				if r := a.login(t, knownEmail); r.StatusCode != 202 {
					t.Fatalf("login %d: %d", i, r.StatusCode)
				}
			}
			answers := a.answers(t)
			if len(answers) != 2 || answers[0] == answers[1] {
				t.Fatalf("answers %q, want two different", answers)
			}
			if !a.verify(t, knownEmail, answers[0]) {
				t.Fatal("the first link was rejected")
			}
			for i, ans := range append(answers, liveAnswer) {
				if a.verify(t, knownEmail, ans) {
					t.Errorf("link %d accepted after a sign-in", i)
				}
			}
			// The address is verified already: post-auth costs nothing.
			before := len(a.cognito.Calls())
			if err := a.postAuth(t, knownEmail); err != nil || len(a.cognito.Calls()) != before {
				t.Errorf("post-auth: %v, calls %v", err, a.ops(before))
			}
		})
	}
}

func TestFlowOtherUsersAnswer(t *testing.T) {
	a := newTestApp(t, map[string]string{"RESEND_INTERVAL": "0s"})
	const other = "recent@example.com"
	a.login(t, knownEmail)
	a.login(t, other)
	answers := a.answers(t)
	if len(answers) != 2 {
		t.Fatalf("%d mails", len(answers))
	}
	tests := map[string]struct {
		email, answer string
		want          bool
	}{
		"own answer":                {email: knownEmail, answer: answers[0], want: true},
		"other's own answer":        {email: other, answer: answers[1], want: true},
		"other user's answer":       {email: knownEmail, answer: answers[1]},
		"first user's answer":       {email: other, answer: answers[0]},
		"unknown user, real answer": {email: "", answer: answers[0]},
		"answer with the address":   {email: knownEmail, answer: url.QueryEscape(knownEmail) + "," + answers[0]},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := a.verify(t, tc.email, tc.answer); got != tc.want {
				t.Errorf("verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFlowExpiry(t *testing.T) {
	a := newTestApp(t, map[string]string{"LINK_TTL": "5m"})
	a.login(t, knownEmail)
	ans := a.answers(t)[0]
	a.clock.Advance(5 * time.Minute)
	if a.verify(t, knownEmail, ans) {
		t.Fatal("accepted at LINK_TTL")
	}
	// An expired link does not hold off a new one, and the new one works a
	// second before it expires.
	if r := a.login(t, knownEmail); r.StatusCode != 202 || a.sendCount() != 2 {
		t.Fatalf("second login: %d, %d mails", r.StatusCode, a.sendCount())
	}
	a.clock.Advance(5*time.Minute - time.Second)
	if !a.verify(t, knownEmail, a.answers(t)[1]) {
		t.Error("new link rejected a second before it expires")
	}
}

// The resend hold costs a store read and no write, no Cognito write and no
// mail; the answer is the same.
func TestFlowResendInterval(t *testing.T) {
	a := newTestApp(t, nil) // RESEND_INTERVAL 1m
	first := a.login(t, knownEmail)
	before := len(a.cognito.Calls())
	a.clock.Advance(59 * time.Second)
	second := a.login(t, knownEmail)
	if got, want := a.ops(before), []string{"links.Incr", "AdminGetUser", "links.Load"}; !reflect.DeepEqual(got, want) {
		t.Errorf("throttled login made calls %v, want %v", got, want)
	}
	if !reflect.DeepEqual(blankRequest(t, first), blankRequest(t, second)) {
		t.Errorf("throttled answer differs:\n%+v\n%+v", second, first)
	}
	a.clock.Advance(time.Second)
	a.login(t, knownEmail)
	if n := a.sendCount(); n != 2 {
		t.Fatalf("%d mails after the interval, want 2", n)
	}
	if !a.verify(t, knownEmail, a.answers(t)[1]) {
		t.Error("the second link was rejected")
	}
}

// A whole Cognito session as Cognito runs it: define, create, verify, and
// define again with the verify result appended, until define decides.
func TestFlowCognitoSession(t *testing.T) {
	tests := map[string]struct {
		email   string
		start   []sessionStep // steps before the magic link, e.g. SRP_A
		answers []string      // "right", "wrong" or a literal
		want    string        // "tokens" or "fail"
		defines int           // define calls until the decision
	}{
		"right first time":      {email: knownEmail, answers: []string{"right"}, want: "tokens", defines: 2},
		"wrong, wrong, right":   {email: knownEmail, answers: []string{"wrong", "wrong", "right"}, want: "tokens", defines: 4},
		"three wrong":           {email: knownEmail, answers: []string{"wrong", "wrong", "wrong", "right"}, want: "fail", defines: 4},
		"SRP_A first":           {email: knownEmail, start: []sessionStep{{ChallengeName: "SRP_A", ChallengeResult: true}}, answers: []string{"right"}, want: "fail", defines: 1},
		"password first":        {email: knownEmail, start: []sessionStep{{ChallengeName: "SRP_A", ChallengeResult: true}, {ChallengeName: "PASSWORD_VERIFIER", ChallengeResult: true}}, answers: []string{"right"}, want: "fail", defines: 1},
		"unknown user":          {email: "", answers: []string{"right", "right", "right", "right"}, want: "fail", defines: 4},
		"another user's answer": {email: "recent@example.com", answers: []string{"right", "right", "right"}, want: "fail", defines: 4},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := newTestApp(t, nil)
			a.login(t, knownEmail)
			right := a.answers(t)[0]
			session := append([]sessionStep{}, tc.start...)
			got, defines := "", 0
			for i := 0; got == ""; i++ {
				d := a.define(t, tc.email, session)
				defines++
				switch {
				case d.IssueTokens && !d.FailAuthentication && d.ChallengeName == nil:
					got = "tokens"
					continue
				case d.FailAuthentication && !d.IssueTokens:
					got = "fail"
					continue
				case d.ChallengeName == nil || *d.ChallengeName != "CUSTOM_CHALLENGE":
					t.Fatalf("define %d: %+v", defines, d)
				}
				if i >= len(tc.answers) {
					t.Fatalf("define asked for answer %d; only %d given", i+1, len(tc.answers))
				}
				a.create(t, tc.email, session)
				ans := tc.answers[i]
				switch ans {
				case "right":
					ans = right
				case "wrong":
					ans = strings.Repeat("w", challenge.Length)
				}
				session = append(session, sessionStep{ChallengeName: "CUSTOM_CHALLENGE", ChallengeResult: a.verify(t, tc.email, ans)})
			}
			if got != tc.want || defines != tc.defines {
				t.Errorf("outcome %s after %d defines, want %s after %d", got, defines, tc.want, tc.defines)
			}
			// No Cognito write at all; the store is written by the login and,
			// on a right answer, by the spend.
			saves := 0
			for _, op := range a.ops(0) {
				switch {
				case op == "links.Save":
					saves++
				case op != "AdminGetUser" && op != "SendEmail" && !strings.HasPrefix(op, "links."):
					t.Errorf("a Cognito write: %s", op)
				}
			}
			if want := map[string]int{"tokens": 2, "fail": 1}[got]; saves != want {
				t.Errorf("%d store writes, want %d", saves, want)
			}
		})
	}
}

func TestFlowSignUp(t *testing.T) {
	a := newTestApp(t, map[string]string{"SIGN_UP": "auto"})
	const email = "new.user@example.com"
	if r := a.login(t, "  New.User@Example.com "); r.StatusCode != 202 {
		t.Fatalf("status %d", r.StatusCode)
	}
	if ops, want := a.ops(0), []string{"links.Incr", "AdminGetUser", "AdminCreateUser", "AdminSetUserPassword", "links.Load", "links.Save", "SendEmail"}; !reflect.DeepEqual(ops, want) {
		t.Fatalf("calls %v, want %v", ops, want)
	}
	c := a.cognito.Calls()[2].Input.(*cip.AdminCreateUserInput)
	if c.MessageAction != types.MessageActionTypeSuppress || aws.ToString(c.Username) != email {
		t.Errorf("AdminCreateUser %+v", c)
	}
	for _, at := range c.UserAttributes {
		if aws.ToString(at.Name) == "email_verified" && aws.ToString(at.Value) != "false" {
			t.Errorf("created with email_verified %s", aws.ToString(at.Value))
		}
	}
	if p := a.cognito.Calls()[3].Input.(map[string]any); p["Permanent"] != true {
		t.Errorf("AdminSetUserPassword %v", p)
	}
	if !a.verify(t, email, a.answers(t)[0]) {
		t.Fatal("the new account's link is rejected")
	}
	if err := a.postAuth(t, email); err != nil {
		t.Fatal(err)
	}
	if _, attrs := a.userAttributes(t, email); attrs["email_verified"] != "true" {
		t.Errorf("email_verified %q after the first sign-in", attrs["email_verified"])
	}
}

// Unknown, disabled and throttled users get the same bytes as a user who
// was sent a link, and only the last gets mail.
func TestFlowSameAnswer(t *testing.T) {
	var first []byte
	for _, email := range []string{knownEmail, "nobody@example.com", "disabled@example.com", "recent@example.com"} {
		a := newTestApp(t, nil)
		out, err := a.invoke(t, loginEvent(t, email))
		if err != nil {
			t.Fatal(err)
		}
		var r httpResponse
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		if out = mustJSON(t, blankRequest(t, r)); first == nil {
			first = out
		} else if string(out) != string(first) {
			t.Errorf("%s: answer differs:\n%s\n%s", email, out, first)
		}
		if want := map[bool]int{true: 1, false: 0}[email == knownEmail]; a.sendCount() != want {
			t.Errorf("%s: %d mails, want %d", email, a.sendCount(), want)
		}
	}
}

func TestFlowBadInputMakesNoCalls(t *testing.T) {
	for _, name := range []string{"apigw-v2-post-login-bad-json", "apigw-v2-post-login-bad-email", "apigw-v2-post-login-control-chars", "apigw-v2-post-login-missing-email", "apigw-v2-post-login-oversize"} {
		t.Run(name, func(t *testing.T) {
			a := newTestApp(t, map[string]string{"SIGN_UP": "auto"})
			b, err := os.ReadFile("testdata/events/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			out, err := a.invoke(t, b)
			var r httpResponse
			if err != nil || json.Unmarshal(out, &r) != nil || (r.StatusCode != 400 && r.StatusCode != 413) {
				t.Fatalf("response %s, %v", out, err)
			}
			if calls := a.cognito.Calls(); len(calls) != 0 {
				t.Errorf("%d AWS calls on bad input: %+v", len(calls), calls)
			}
		})
	}
}

func TestFlowUpstreamFailures(t *testing.T) {
	t.Run("SES fails: 202 after the lookup, the link is taken back, a retry works at once", func(t *testing.T) {
		a := newTestApp(t, nil)
		ok := a.login(t, "nobody@example.com")
		a.clock.Advance(time.Minute) // past the recent link's resend interval
		a.ses.fail = errFakeOutage
		a.logs.Reset()
		r := a.login(t, "recent@example.com")
		if !reflect.DeepEqual(blankRequest(t, r), blankRequest(t, ok)) {
			t.Fatalf("response %+v, want the same as for an unknown address %+v", r, ok)
		}
		if !strings.Contains(a.logs.String(), `"level":"ERROR"`) || !strings.Contains(a.logs.String(), `"outcome":"send_failed"`) {
			t.Errorf("log %s: want an ERROR line with outcome send_failed", a.logs.String())
		}
		a.ses.fail = nil
		if r := a.login(t, "recent@example.com"); r.StatusCode != 202 || len(a.ses.sent) != 1 {
			t.Errorf("retry: %d, %d mails", r.StatusCode, len(a.ses.sent))
		}
	})
	t.Run("Cognito fails on login: 502", func(t *testing.T) {
		a := newTestApp(t, nil)
		a.cognito.fail = errFakeOutage
		if r := a.login(t, knownEmail); r.StatusCode != 502 || !strings.Contains(r.Body, `"upstream_failed"`) || a.sendCount() != 0 {
			t.Errorf("response %+v, %d mails", r, a.sendCount())
		}
	})
	t.Run("Cognito fails on post-auth: a public error without internals", func(t *testing.T) {
		a := newTestApp(t, nil)
		a.cognito.fail = errFakeOutage
		err := a.postAuth(t, "recent@example.com") // not verified yet
		var pe *cognito.PublicError
		if !errors.As(err, &pe) || strings.Contains(pe.Error(), "outage") || strings.Contains(pe.Error(), "AdminUpdate") {
			t.Fatalf("error %v", err)
		}
		if !errors.Is(err, errFakeOutage) {
			t.Error("the cause is lost for the log")
		}
		if !strings.Contains(a.logs.String(), errFakeOutage.Error()) {
			t.Error("the cause is not in the log line")
		}
	})
}

// TestFlowLimitPerIP: the limit keys on API Gateway's sourceIp, in both
// payload versions, never on X-Forwarded-For.
func TestFlowLimitPerIP(t *testing.T) {
	a := newTestApp(t, map[string]string{"LOGIN_LIMIT_PER_IP": "2/1m"})
	send := func(base, ip, xff string) httpResponse {
		e := loadEvent(t, base)
		e["body"] = `{"email":"nobody@example.com"}`
		rc := e["requestContext"].(map[string]any)
		if base == "apigw-v1-post-login" {
			rc["identity"].(map[string]any)["sourceIp"] = ip
		} else {
			rc["http"].(map[string]any)["sourceIp"] = ip
		}
		e["headers"].(map[string]any)["x-forwarded-for"] = xff
		out, err := a.invoke(t, mustJSON(t, e))
		if err != nil {
			t.Fatal(err)
		}
		var r httpResponse
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, base := range []string{"apigw-v2-post-login", "apigw-v1-post-login"} {
		ip := map[string]string{"apigw-v2-post-login": "203.0.113.20", "apigw-v1-post-login": "203.0.113.10"}[base]
		for i := range 2 {
			if r := send(base, ip, fmt.Sprint("198.51.100.", i)); r.StatusCode != 202 {
				t.Fatalf("%s request %d: %d %s", base, i+1, r.StatusCode, r.Body)
			}
		}
		r := send(base, ip, "198.51.100.99")
		retry := r.Headers["Retry-After"]
		if v := r.MultiValueHeaders["Retry-After"]; len(v) == 1 {
			retry = v[0]
		}
		if r.StatusCode != 429 || retry == "" || !strings.Contains(r.Body, `"rate_limited"`) {
			t.Errorf("%s third request: %+v, want 429 rate_limited with Retry-After", base, r)
		}
	}
}

// In the Lambda, a limit set without LINKS_TABLE is a configuration error
// (the attribute keeps no counters); the default just does not apply.
func TestLambdaConfigLimitNeedsTable(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := m[k]; ok {
				return v
			}
			return baseEnv[k]
		}
	}
	if _, err := lambdaConfig(env(map[string]string{"LOGIN_LIMIT_PER_IP": "30/15m"})); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "LOGIN_LIMIT_PER_IP") {
		t.Errorf("limit without a table: %v, want a configuration error naming LOGIN_LIMIT_PER_IP", err)
	}
	// Every instance must read the others' codes and request handles.
	if _, err := lambdaConfig(env(map[string]string{"LINKS_TABLE": "links"})); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "LINK_SECRET") {
		t.Errorf("table without a secret: %v, want a configuration error naming LINK_SECRET", err)
	}
	for name, m := range map[string]map[string]string{
		"default, no table": {},
		"off, no table":     {"LOGIN_LIMIT_PER_IP": "off"},
		"limit and table":   {"LOGIN_LIMIT_PER_IP": "30/15m", "LINKS_TABLE": "links", "LINK_SECRET": strings.Repeat("s", 32)},
	} {
		if _, err := lambdaConfig(env(m)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
