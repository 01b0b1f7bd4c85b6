package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestUpstreamErrorsAreRedactedAndLoud: AWS error messages can name the
// recipient (SES in the sandbox: "The following identities failed the
// check ...: user@example.com"); the log line must mask it, and the failure
// must be logged at ERROR so that alerts fire, whether it answered 502 (the
// lookup) or, after the lookup, the same 202 as every other address.
func TestUpstreamErrorsAreRedactedAndLoud(t *testing.T) {
	payload, err := os.ReadFile("testdata/events/apigw-v2-post-login.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		breakIt func(a *testApp)
		status  int
	}{
		"SES rejects the recipient": {func(a *testApp) {
			a.ses.fail = errors.New("api error MessageRejected: Email address is not verified. The following identities failed the check in region AP-SOUTH-1: " + knownEmail)
		}, 202},
		"IAM denies the identity": {func(a *testApp) {
			a.ses.fail = errors.New("api error AccessDeniedException: not authorized to perform ses:SendEmail on resource arn:aws:ses:ap-south-1:123456789012:identity/" + knownEmail)
		}, 202},
		"Cognito fails": {func(a *testApp) {
			a.cognito.fail = errors.New("api error InternalErrorException: lookup of " + knownEmail + " failed")
		}, 502},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := newTestApp(t, map[string]string{"RESEND_INTERVAL": "0s"}) // the known user has a link already
			tc.breakIt(a)
			out, err := a.dispatcher.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != tc.status {
				t.Fatalf("response %s, want a %d", out, tc.status)
			}
			if strings.Contains(resp.Body, "@") {
				t.Errorf("the client is told %s; want no upstream detail", resp.Body)
			}
			logs := a.logs.String()
			assertCleanLogs(t, logs, payload)
			var line map[string]any
			_ = json.Unmarshal([]byte(logs), &line)
			if line["level"] != "ERROR" {
				t.Errorf("level %v, want ERROR: %s", line["level"], logs)
			}
			if e, _ := line["error"].(string); !strings.Contains(e, "u***@example.com") {
				t.Errorf("error field %q, want the cause with the address masked", e)
			}
		})
	}
}
