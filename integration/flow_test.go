//go:build integration

package integration

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"magiclinks/integration/internal/rie"
)

// accepted is the one body POST /login answers any well-formed request with,
// as the golden file of the recorded request holds it.
func accepted(t *testing.T) any {
	t.Helper()
	var g struct {
		Response struct {
			Body string `json:"body"`
		} `json:"response"`
	}
	var body any
	if err := json.Unmarshal(readTestdata(t, "golden", "apigw-v2-post-login.json"), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(g.Response.Body), &body); err != nil {
		t.Fatalf("golden apigw-v2-post-login body: %v", err)
	}
	return body
}

func assertAccepted(t *testing.T, h httpReply) {
	t.Helper()
	if h.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /login: status %d, want 202; body %s", h.StatusCode, h.Body)
	}
	var body any
	if want := accepted(t); json.Unmarshal([]byte(h.Body), &body) != nil || !reflect.DeepEqual(body, want) {
		t.Fatalf("POST /login: body %q, want %v", h.Body, want)
	}
}

// triggerEvent is a recorded trigger event for this user, with the user's
// attributes as cognito-local holds them now: what Cognito would send.
func triggerEvent(t *testing.T, file string, u *user, set func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, file), &ev); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]any{"cognito:user_status": u.Status}
	for k, v := range u.Attrs {
		attrs[k] = v
	}
	ev["userName"] = u.Username
	ev["request"].(map[string]any)["userAttributes"] = attrs
	if set != nil {
		set(ev)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// invokeTrigger invokes a trigger and returns the event it answered with,
// after checking that everything but response came back as sent.
func invokeTrigger(t *testing.T, f *rie.Function, payload []byte) map[string]any {
	t.Helper()
	r := invoke(t, f, payload)
	if r.Err != nil {
		t.Fatalf("trigger answered with an error %s: %s%s", r.Err.Type, r.Err.Message, peerHint(t))
	}
	var in, out map[string]any
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("trigger reply is not a JSON object: %v: %s", err, r.Body)
	}
	for k, v := range in {
		if k != "response" && !reflect.DeepEqual(out[k], v) {
			t.Errorf("trigger reply changed %q: got %v, sent %v", k, out[k], v)
		}
	}
	if _, ok := out["response"].(map[string]any); !ok {
		t.Fatalf("trigger reply has no response object: %s", r.Body)
	}
	return out
}

// verifyAnswer runs what Cognito runs for one answer: CreateAuthChallenge,
// then VerifyAuthChallengeResponse with Create's private challenge
// parameters, both with the user's attributes as cognito-local holds them.
func verifyAnswer(t *testing.T, f *rie.Function, u *user, answer any) bool {
	t.Helper()
	created := invokeTrigger(t, f, triggerEvent(t, "cognito-create.json", u, nil))
	private, _ := created["response"].(map[string]any)["privateChallengeParameters"].(map[string]any)
	if len(private) == 0 {
		t.Fatalf("CreateAuthChallenge: empty privateChallengeParameters (Cognito rejects them): %v", created["response"])
	}
	ev := triggerEvent(t, "cognito-verify.json", u, func(ev map[string]any) {
		req := ev["request"].(map[string]any)
		req["privateChallengeParameters"] = private
		req["challengeAnswer"] = answer
	})
	out := invokeTrigger(t, f, ev)
	ok, isBool := out["response"].(map[string]any)["answerCorrect"].(bool)
	if !isBool {
		t.Fatalf("Verify: answerCorrect is not a boolean: %v", out["response"])
	}
	return ok
}

func assertNoPlainSecret(t *testing.T, value string, secrets ...string) {
	t.Helper()
	if len(value) > 2048 {
		t.Errorf("%s is %d characters, more than Cognito's 2048", challengeAttr, len(value))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(value, s) {
			t.Errorf("%s holds a challenge in plain text: %q contains %q", challengeAttr, value, s)
		}
	}
}

// TestMagicLinkFlow: POST /login through the emulated Lambda reads and writes
// the user's challenge attribute in cognito-local with the real SDK calls and
// mails the link through aws-ses-v2-local; the Verify trigger, given the
// attributes read back from cognito-local, accepts the link's answer until
// PostAuthentication spends it.
func TestMagicLinkFlow(t *testing.T) {
	pool := createPool(t, "flow")
	const email = "alice@example.com"
	createUser(t, pool, email, map[string]string{"email_verified": "false"})
	other := "bob@example.com"
	createUser(t, pool, other, nil)
	f := startFunction(t, functionEnv(pool, map[string]string{"RESEND_INTERVAL": "0s"}))

	before := getUser(t, pool, email)
	if before.Attrs[challengeAttr] != "" {
		t.Fatalf("fresh user already has %s", challengeAttr)
	}

	// The first link, asked for through an HTTP API (payload 2.0) event with
	// an address to trim and lower-case.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", "  Alice@Example.COM ")))
	after1 := getUser(t, pool, email)
	if after1.Attrs[challengeAttr] == "" {
		t.Fatalf("POST /login did not write %s in cognito-local; attributes %v", challengeAttr, after1.Attrs)
	}
	got := mailsTo(t, email)
	if len(got) != 1 {
		t.Fatalf("aws-ses-v2-local holds %d mails to %s, want 1", len(got), email)
	}
	m1 := got[0]
	if !strings.Contains(m1.From, "no-reply@example.com") || m1.Subject == "" || m1.Body.Text == "" || m1.Body.HTML == "" {
		t.Errorf("mail: from %q, subject %q, text %d bytes, html %d bytes: want EMAIL_FROM, a subject and both bodies", m1.From, m1.Subject, len(m1.Body.Text), len(m1.Body.HTML))
	}
	link1, linkEmail, answer1 := link(t, m1)
	if linkEmail != email {
		t.Errorf("link %q carries address %q, want %q", link1, linkEmail, email)
	}
	if len(answer1) < 22 {
		t.Errorf("challenge %q is shorter than 22 characters", answer1)
	}
	assertNoPlainSecret(t, after1.Attrs[challengeAttr], answer1)

	// A second link, through a REST API (v1) event: the first stays valid.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v1-post-login.json", email)))
	if got := mailsTo(t, email); len(got) != 2 {
		t.Fatalf("aws-ses-v2-local holds %d mails to %s after the second POST /login, want 2", len(got), email)
	}
	_, _, answer2 := link(t, mailsTo(t, email)[1])
	if answer2 == answer1 {
		t.Fatalf("two links carry the same challenge %q", answer1)
	}
	u := getUser(t, pool, email)
	assertNoPlainSecret(t, u.Attrs[challengeAttr], answer1, answer2)
	if u.Attrs[challengeAttr] == after1.Attrs[challengeAttr] {
		t.Errorf("the second POST /login did not change %s", challengeAttr)
	}
	if len(mailsTo(t, other)) != 0 || getUser(t, pool, other).Attrs[challengeAttr] != "" {
		t.Errorf("another user got a mail or a challenge")
	}

	// Verify, with the attributes as cognito-local holds them.
	if !verifyAnswer(t, f, u, answer1) {
		t.Errorf("Verify refused the first link's answer")
	}
	if !verifyAnswer(t, f, u, answer2) {
		t.Errorf("Verify refused the second link's answer")
	}
	for _, wrong := range []any{answer1[:len(answer1)-1] + "x", strings.ToUpper(answer2), "", 42, nil} {
		if verifyAnswer(t, f, u, wrong) {
			t.Errorf("Verify accepted the wrong answer %#v", wrong)
		}
	}
	if now := getUser(t, pool, email); now.Attrs[challengeAttr] != u.Attrs[challengeAttr] {
		t.Errorf("Verify changed %s in cognito-local; it must make no AWS call", challengeAttr)
	}

	// Sign-in completes: PostAuthentication, with the cognito-local username.
	post := triggerEvent(t, "cognito-postauthentication.json", u, nil)
	out := invokeTrigger(t, f, post)
	if resp := out["response"].(map[string]any); len(resp) != 0 {
		t.Errorf("PostAuthentication response %v, want {}", resp)
	}
	spent := getUser(t, pool, email)
	if spent.Attrs["email_verified"] != "true" {
		t.Errorf("after PostAuthentication email_verified is %q, want true", spent.Attrs["email_verified"])
	}
	assertNoPlainSecret(t, spent.Attrs[challengeAttr], answer1, answer2)
	if verifyAnswer(t, f, spent, answer1) {
		t.Errorf("Verify accepted the first link after sign-in")
	}
	if verifyAnswer(t, f, spent, answer2) {
		t.Errorf("Verify accepted the second link after sign-in")
	}

	if kib, err := rie.PeakRSSKiB(f.BootstrapPid()); err == nil {
		t.Logf("bootstrap peak RSS after the whole flow: %.1f MiB", float64(kib)/1024)
	}

	// A retry of PostAuthentication (Cognito retries) is harmless.
	invokeTrigger(t, f, triggerEvent(t, "cognito-postauthentication.json", spent, nil))
	if again := getUser(t, pool, email); again.Attrs["email_verified"] != "true" || verifyAnswer(t, f, again, answer1) {
		t.Errorf("a repeated PostAuthentication revived a link or unverified the address")
	}
}

// TestUnknownUserUntouched: with SIGN_UP=off an unknown address gets the same
// answer as a known one, and nothing changes in cognito-local or the outbox.
func TestUnknownUserUntouched(t *testing.T) {
	pool := createPool(t, "unknown")
	createUser(t, pool, "carol@example.com", map[string]string{"email_verified": "true"})
	f := startFunction(t, functionEnv(pool, map[string]string{"SIGN_UP": "off", "RESEND_INTERVAL": "0s"}))
	// Give carol an outstanding link, so there is a challenge to disturb.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", "carol@example.com")))
	usersBefore := listUsers(t, pool)
	mailsBefore := len(mails(t))

	for _, file := range []string{"apigw-v2-post-login.json", "apigw-v1-post-login.json"} {
		assertAccepted(t, invokeHTTP(t, f, loginEvent(t, file, "Nobody@Example.com")))
	}
	if u := getUser(t, pool, "nobody@example.com"); u != nil {
		t.Errorf("SIGN_UP=off created the unknown user: %+v", u)
	}
	if after := listUsers(t, pool); !reflect.DeepEqual(after, usersBefore) {
		t.Errorf("cognito-local changed for an unknown address:\nbefore %+v\nafter  %+v", usersBefore, after)
	}
	if n := len(mails(t)); n != mailsBefore {
		t.Errorf("%d mails were sent for an unknown address", n-mailsBefore)
	}
}

// TestSignUpAuto: with SIGN_UP=auto an unknown address gets an account in
// cognito-local (CONFIRMED by a random permanent password, address not yet
// verified) and a working link.
func TestSignUpAuto(t *testing.T) {
	pool := createPool(t, "signup")
	f := startFunction(t, functionEnv(pool, map[string]string{"SIGN_UP": "auto", "RESEND_INTERVAL": "0s"}))
	const email = "dave@example.com"
	if getUser(t, pool, email) != nil {
		t.Fatal("user exists before sign-up")
	}
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", " DAVE@example.com")))
	u := getUser(t, pool, email)
	if u == nil {
		t.Fatalf("SIGN_UP=auto did not create %s in cognito-local", email)
	}
	if !u.Enabled || u.Status != "CONFIRMED" {
		t.Errorf("created user: enabled %v, status %q; want enabled and CONFIRMED (random permanent password)", u.Enabled, u.Status)
	}
	if u.Attrs["email"] != email || u.Attrs["email_verified"] != "false" {
		t.Errorf("created user attributes %v: want email %s and email_verified false", u.Attrs, email)
	}
	got := mailsTo(t, email)
	if len(got) != 1 {
		t.Fatalf("aws-ses-v2-local holds %d mails to %s, want 1", len(got), email)
	}
	_, linkEmail, answer := link(t, got[0])
	if linkEmail != email {
		t.Errorf("link carries %q, want %q", linkEmail, email)
	}
	assertNoPlainSecret(t, u.Attrs[challengeAttr], answer)
	if !verifyAnswer(t, f, u, answer) {
		t.Errorf("Verify refused the new user's link")
	}
	// The second request finds the account and does not create another.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", email)))
	if n := len(listUsers(t, pool)); n != 1 {
		t.Errorf("pool has %d users after two sign-up requests, want 1", n)
	}
	if n := len(mailsTo(t, email)); n != 2 {
		t.Errorf("%d mails after the second request, want 2", n)
	}
}

// TestInitErrorNamesVariable: a function without its required configuration
// fails at init, as a Lambda init error naming the variable.
func TestInitErrorNamesVariable(t *testing.T) {
	env := functionEnv("unused", nil)
	delete(env, "USER_POOL_ID")
	f := startFunction(t, env)
	r, err := f.Invoke(t.Context(), readEvent(t, "cognito-define-first-call.json"))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	// The emulator answers a failed init with 502 (Lambda: Runtime.ExitError);
	// the process's message is in the function's output.
	if r.Status == http.StatusOK {
		t.Fatalf("a function without USER_POOL_ID answered: %d %s", r.Status, r.Body)
	}
	if !logContains(t, "USER_POOL_ID") {
		t.Errorf("the init error names no USER_POOL_ID (reply %d %s)", r.Status, r.Body)
	}
	if f.BootstrapPid() != 0 {
		t.Errorf("a bootstrap without its configuration is still running")
	}
}
