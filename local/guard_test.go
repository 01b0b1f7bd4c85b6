package local

// Tests that web pages open in the developer's browser cannot drive the local
// stack: no admin operation from a page, no state change from another origin,
// nothing at all for a name that is not loopback (DNS rebinding).

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// send makes a request to the test server with extra headers; a "Host"
// header sets the request's Host. It returns the status and the body.
func send(t *testing.T, e *testEnv, method, path, body string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// fetchHeaders are what a page's fetch() to the Cognito endpoint sends, with
// a forged signature: any string passes for one locally.
func fetchHeaders(op, origin string) map[string]string {
	return map[string]string{
		"Content-Type":  "application/x-amz-json-1.1",
		"X-Amz-Target":  targetPrefix + op,
		"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20240101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=00",
		"Origin":        origin,
	}
}

func TestAdminOperationsRefuseBrowsers(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	// The SDK sends no Origin: its admin calls still work.
	sub := e.createUser(t, "olga@example.com")
	e.setChallenge(t, sub, "the-real-one")

	ref := `{"UserPoolId":"` + testPool + `","Username":"` + sub + `"}`
	bodies := map[string]string{
		"AdminGetUser":              ref,
		"AdminCreateUser":           `{"UserPoolId":"` + testPool + `","Username":"mallory@example.com","MessageAction":"SUPPRESS"}`,
		"AdminSetUserPassword":      `{"UserPoolId":"` + testPool + `","Username":"` + sub + `","Password":"Aa1!known-to-mallory","Permanent":true}`,
		"AdminUpdateUserAttributes": `{"UserPoolId":"` + testPool + `","Username":"` + sub + `","UserAttributes":[{"Name":"custom:authChallenge","Value":"mallorys"}]}`,
		"AdminDeleteUserAttributes": `{"UserPoolId":"` + testPool + `","Username":"` + sub + `","UserAttributeNames":["custom:authChallenge"]}`,
		"AdminDisableUser":          ref,
		"AdminEnableUser":           ref,
		"AdminDeleteUser":           ref,
		"ListUsers":                 `{"UserPoolId":"` + testPool + `"}`,
	}
	for name, op := range operations {
		if !op.admin {
			continue
		}
		if _, ok := bodies[name]; !ok {
			t.Errorf("admin operation %s has no case here", name)
		}
	}
	for op, body := range bodies {
		for _, origin := range []string{"https://evil.example", e.srv.URL, "null"} {
			t.Run(op+" from "+origin, func(t *testing.T) {
				status, b := send(t, e, http.MethodPost, "/local/cognito", body, fetchHeaders(op, origin))
				var out map[string]string
				json.Unmarshal(b, &out)
				if status != http.StatusBadRequest || out["__type"] != "MissingAuthenticationTokenException" {
					t.Fatalf("got %d %s, want 400 MissingAuthenticationTokenException", status, b)
				}
				if strings.Contains(string(b), "olga") || strings.Contains(string(b), sub) {
					t.Fatalf("refusal leaks the user: %s", b)
				}
			})
		}
	}

	// Nothing the refused calls asked for happened: the user is there,
	// enabled, and signs in with the challenge the SDK set, not Mallory's.
	got, err := e.cip.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String(sub)})
	if err != nil || !got.Enabled {
		t.Fatalf("after the refused calls: %+v, %v", got, err)
	}
	if _, err := e.cip.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String("mallory@example.com")}); err == nil {
		t.Fatal("a refused AdminCreateUser created the user")
	}
	ch := e.initiate(t, sub)
	wrong, err := e.respond(aws.ToString(ch.Session), sub, "mallorys")
	if err != nil || wrong.AuthenticationResult != nil {
		t.Fatalf("answer with the challenge a refused call tried to set: %+v, %v; want a new challenge, no tokens", wrong, err)
	}
	if out, err := e.respond(aws.ToString(wrong.Session), sub, "the-real-one"); err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in with the real challenge: %+v, %v", out, err)
	}
}

func TestPublicOperationsWorkCrossOrigin(t *testing.T) {
	e := newTestEnv(t, nil)
	e.createUser(t, "pia@example.com")
	h := fetchHeaders("InitiateAuth", "http://localhost:5173")
	delete(h, "Authorization")
	status, b := send(t, e, http.MethodPost, "/local/cognito", `{"AuthFlow":"CUSTOM_AUTH","ClientId":"localclient","AuthParameters":{"USERNAME":"pia@example.com"}}`, h)
	var out map[string]any
	json.Unmarshal(b, &out)
	if status != http.StatusOK || out["ChallengeName"] != string(ciptypes.ChallengeNameTypeCustomChallenge) {
		t.Fatalf("InitiateAuth from another origin: %d %s", status, b)
	}
}

func TestLoopbackHostOnly(t *testing.T) {
	e := newTestEnv(t, nil)
	port := e.srv.URL[strings.LastIndex(e.srv.URL, ":")+1:]
	cases := map[string]struct {
		host string
		ok   bool
	}{
		"127.0.0.1":             {"127.0.0.1:" + port, true},
		"localhost":             {"localhost:" + port, true},
		"localhost, any case":   {"LocalHost:" + port, true},
		"::1":                   {"[::1]:" + port, true},
		"localhost, no port":    {"localhost", true},
		"rebound name":          {"evil.example:" + port, false},
		"rebound name, no port": {"evil.example", false},
		"loopback-looking name": {"127.0.0.1.nip.io:" + port, false},
		"localhost subdomain":   {"localhost.evil.example:" + port, false},
		"other private address": {"192.168.1.10:" + port, false},
	}
	paths := map[string]string{
		"GET /local/outbox":           "/local/outbox",
		"GET /local/mail":             "/local/mail",
		"GET /local/clock":            "/local/clock",
		"GET /local/cognito/.../jwks": "/local/cognito/" + testPool + "/.well-known/jwks.json",
	}
	for name, tc := range cases {
		for what, path := range paths {
			t.Run(name+" "+what, func(t *testing.T) {
				status, b := send(t, e, http.MethodGet, path, "", map[string]string{"Host": tc.host})
				if tc.ok {
					if status != http.StatusOK {
						t.Fatalf("Host %q: %d %s", tc.host, status, b)
					}
					return
				}
				var out map[string]string
				if status != http.StatusForbidden || json.Unmarshal(b, &out) != nil || out["message"] == "" {
					t.Fatalf("Host %q: got %d %s, want 403 with a JSON message", tc.host, status, b)
				}
			})
		}
	}
}

func TestStateChangesRefuseOtherOrigins(t *testing.T) {
	e := newTestEnv(t, nil)
	if _, err := e.ses.SendEmail(context.Background(), sendInput("quinn@example.com", "Keep me", "text", "")); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		origin string // "" sends none
		ok     bool
	}{
		"no Origin (SDK, curl, tests)": {"", true},
		"the stack's own origin":       {e.srv.URL, true},
		"another site":                 {"https://evil.example", false},
		"another local port":           {"http://127.0.0.1:5173", false},
		"opaque origin":                {"null", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "text/plain"}
			if tc.origin != "" {
				h["Origin"] = tc.origin
			}
			before := e.clock.Offset()
			status, b := send(t, e, http.MethodPost, "/local/clock", `{"advance":"1m"}`, h)
			moved := e.clock.Offset() - before
			if tc.ok && (status != http.StatusOK || moved != time.Minute) {
				t.Fatalf("POST /local/clock: %d %s, moved %v", status, b, moved)
			}
			if !tc.ok && (status != http.StatusForbidden || moved != 0) {
				t.Fatalf("POST /local/clock from %s: %d %s, moved %v; want 403 and no change", tc.origin, status, b, moved)
			}

			if tc.ok {
				return // emptying the outbox is checked once, below
			}
			status, b = send(t, e, http.MethodDelete, "/local/outbox", "", h)
			if status != http.StatusForbidden || len(getOutbox(t, e, "")) != 1 {
				t.Fatalf("DELETE /local/outbox from %s: %d %s; want 403 and the mail kept", tc.origin, status, b)
			}
			// Nor can a page plant a mail (a fake link) in the mailbox.
			h["Content-Type"] = "application/json"
			status, b = send(t, e, http.MethodPost, "/local/ses/v2/email/outbound-emails",
				`{"FromEmailAddress":"x@example.com","Destination":{"ToAddresses":["quinn@example.com"]},"Content":{"Simple":{"Subject":{"Data":"s"},"Body":{"Text":{"Data":"t"}}}}}`, h)
			if status != http.StatusForbidden || len(getOutbox(t, e, "")) != 1 {
				t.Fatalf("SES SendEmail from %s: %d %s; want 403 and no new mail", tc.origin, status, b)
			}
		})
	}
	status, b := send(t, e, http.MethodDelete, "/local/outbox", "", map[string]string{"Origin": e.srv.URL})
	if status != http.StatusNoContent || len(getOutbox(t, e, "")) != 0 {
		t.Fatalf("DELETE /local/outbox from its own origin: %d %s", status, b)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "[::1]": true, "localhost": true, "127.0.0.1": true,
		"127.0.0.2:8080": false, "evil.example:8080": false, "localhost.:8080": false, "[::2]:8080": false, "": false, ":8080": false,
	}
	for host, want := range cases {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
