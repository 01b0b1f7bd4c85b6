package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"magiclinks/cognito"
	"magiclinks/dispatch"
	"magiclinks/logging"
)

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/events/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSniff(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		payload string
		want    dispatch.Kind
	}{
		"trigger":                    {payload: string(readEvent(t, "cognito-define-first-call")), want: dispatch.KindTrigger},
		"minimal trigger":            {payload: `{"triggerSource":"X"}`, want: dispatch.KindTrigger},
		"HTTP API v2":                {payload: string(readEvent(t, "apigw-v2-post-login")), want: dispatch.KindHTTPv2},
		"REST API v1":                {payload: string(readEvent(t, "apigw-v1-post-login")), want: dispatch.KindHTTPv1},
		"trigger wins over HTTP":     {payload: `{"triggerSource":"X","version":"2.0","requestContext":{"http":{}}}`, want: dispatch.KindTrigger},
		"unknown object":             {payload: string(readEvent(t, "unknown-event"))},
		"not JSON":                   {payload: string(readEvent(t, "not-json"))},
		"empty":                      {payload: ``},
		"null":                       {payload: `null`},
		"array":                      {payload: `[{"triggerSource":"X"}]`},
		"string":                     {payload: `"triggerSource"`},
		"triggerSource empty string": {payload: `{"triggerSource":""}`},
		"triggerSource null":         {payload: `{"triggerSource":null}`},
		"triggerSource a number":     {payload: `{"triggerSource":1}`},
		"version 2.0 without http":   {payload: `{"version":"2.0","requestContext":{}}`},
		"version 1.0 with http":      {payload: `{"version":"1.0","requestContext":{"http":{}}}`},
		"httpMethod without context": {payload: `{"httpMethod":"POST","path":"/login"}`},
		"empty httpMethod":           {payload: `{"httpMethod":"","requestContext":{}}`},
		"trailing garbage":           {payload: `{"triggerSource":"X"} x`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := dispatch.Sniff([]byte(tc.payload))
			if tc.want == "" {
				if !errors.Is(err, dispatch.ErrUnknownEvent) || got != "" {
					t.Errorf("Sniff = %q, %v; want ErrUnknownEvent", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Sniff = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// stubTriggers records what reaches it and answers with a canned result.
type stubTriggers struct {
	mu       sync.Mutex
	payloads [][]byte
	out      []byte
	err      error
}

func (s *stubTriggers) Handle(ctx context.Context, payload []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payloads = append(s.payloads, payload)
	logging.Add(ctx, slog.String("trigger", "stub"))
	return s.out, s.err
}

// echo answers every request with its method, path and body.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusTeapot)
	_, _ = io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(b))
})

func newDispatcher(tr dispatch.Triggers) (*dispatch.Dispatcher, *bytes.Buffer) {
	logs := &bytes.Buffer{}
	return dispatch.New(tr, echo, slog.New(slog.NewJSONHandler(logs, nil))), logs
}

func TestInvoke(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		payload      []byte
		wantTrigger  bool
		wantResponse string // substring of the response
		wantErr      error
	}{
		"trigger goes to the triggers": {payload: readEvent(t, "cognito-verify"), wantTrigger: true, wantResponse: `{"ok":true}`},
		"HTTP API v2 goes to the router": {
			payload:      readEvent(t, "apigw-v2-post-login"),
			wantResponse: `"statusCode":418`,
		},
		"REST API v1 goes to the router": {
			payload:      readEvent(t, "apigw-v1-post-login"),
			wantResponse: `"statusCode":418`,
		},
		"base64 body is decoded": {payload: readEvent(t, "apigw-v2-post-login-base64"), wantResponse: `POST /login {\"email\": \"user@example.com\"}`},
		"unknown event":          {payload: readEvent(t, "unknown-event"), wantErr: dispatch.ErrUnknownEvent},
		"not JSON":               {payload: readEvent(t, "not-json"), wantErr: dispatch.ErrUnknownEvent},
		"v2 with a bad base64 body": {
			payload: []byte(`{"version":"2.0","rawPath":"/login","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":true,"body":"!!"}`),
			wantErr: dispatch.ErrUnknownEvent,
		},
		"v2 with a bad path escape": {
			payload: []byte(`{"version":"2.0","rawPath":"/%0X","requestContext":{"http":{"method":"GET"}}}`),
			wantErr: dispatch.ErrUnknownEvent,
		},
		"v1 with a bad base64 body": {
			payload: []byte(`{"httpMethod":"POST","path":"/login","requestContext":{},"isBase64Encoded":true,"body":"!!"}`),
			wantErr: dispatch.ErrUnknownEvent,
		},
		"v2 with a field of the wrong type": {
			payload: []byte(`{"version":"2.0","requestContext":{"http":{"method":7}}}`),
			wantErr: dispatch.ErrUnknownEvent,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := &stubTriggers{out: []byte(`{"ok":true}`)}
			d, _ := newDispatcher(tr)
			out, err := d.Invoke(context.Background(), tc.payload)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || out != nil {
					t.Fatalf("Invoke = %s, %v; want %v", out, err, tc.wantErr)
				}
			} else if err != nil || !strings.Contains(string(out), tc.wantResponse) {
				t.Fatalf("Invoke = %s, %v; want it to contain %s", out, err, tc.wantResponse)
			}
			if got := len(tr.payloads) == 1; got != tc.wantTrigger {
				t.Errorf("trigger called %v, want %v", got, tc.wantTrigger)
			}
			if tc.wantTrigger && !bytes.Equal(tr.payloads[0], tc.payload) {
				t.Error("the trigger did not get the payload unchanged")
			}
		})
	}
}

// One bad event fails its own invocation only.
func TestKeepsServingAfterUnknownEvent(t *testing.T) {
	t.Parallel()
	tr := &stubTriggers{out: []byte(`{"ok":true}`)}
	d, _ := newDispatcher(tr)
	for i, payload := range [][]byte{readEvent(t, "unknown-event"), []byte("\x00\xff"), readEvent(t, "not-json")} {
		if _, err := d.Invoke(context.Background(), payload); !errors.Is(err, dispatch.ErrUnknownEvent) {
			t.Fatalf("bad event %d: %v", i, err)
		}
	}
	if out, err := d.Invoke(context.Background(), readEvent(t, "cognito-define-first-call")); err != nil || string(out) != `{"ok":true}` {
		t.Fatalf("after bad events: %s, %v", out, err)
	}
	if out, err := d.Invoke(context.Background(), readEvent(t, "apigw-v2-post-login")); err != nil || !strings.Contains(string(out), "418") {
		t.Fatalf("after bad events: %s, %v", out, err)
	}
}

func logLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

func TestLogLine(t *testing.T) {
	t.Parallel()
	internal := errors.New("AdminUpdateUserAttributes failed: throttled")
	tests := map[string]struct {
		payload   []byte
		lambda    bool
		trErr     error
		wantKind  string
		wantLevel string
		wantAttrs map[string]any
		wantCause string
	}{
		"trigger with lambda context": {payload: readEvent(t, "cognito-define-first-call"), lambda: true, wantKind: "cognito_trigger", wantLevel: "INFO",
			wantAttrs: map[string]any{"requestId": "req-123", "trigger": "stub"}},
		"trigger without lambda context": {payload: readEvent(t, "cognito-define-first-call"), wantKind: "cognito_trigger", wantLevel: "INFO"},
		"HTTP v2": {payload: readEvent(t, "apigw-v2-post-login"), lambda: true, wantKind: "apigw_v2", wantLevel: "INFO",
			wantAttrs: map[string]any{"status": float64(418), "requestId": "req-123"}},
		"HTTP v1": {payload: readEvent(t, "apigw-v1-post-login"), wantKind: "apigw_v1", wantLevel: "INFO",
			wantAttrs: map[string]any{"status": float64(418)}},
		"unknown event": {payload: readEvent(t, "unknown-event"), lambda: true, wantKind: "unknown", wantLevel: "ERROR",
			wantAttrs: map[string]any{"error": "dispatch: unknown event shape", "requestId": "req-123"}},
		"trigger error": {payload: readEvent(t, "cognito-define-first-call"), trErr: &cognito.PublicError{Message: "sign-in could not be completed", Cause: internal},
			wantKind: "cognito_trigger", wantLevel: "ERROR", wantAttrs: map[string]any{"error": "sign-in could not be completed"}, wantCause: internal.Error()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, logs := newDispatcher(&stubTriggers{out: []byte(`{}`), err: tc.trErr})
			ctx := context.Background()
			if tc.lambda {
				ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
			}
			_, _ = d.Invoke(ctx, tc.payload)
			lines := logLines(t, logs)
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1", len(lines))
			}
			l := lines[0]
			if l["kind"] != tc.wantKind || l["level"] != tc.wantLevel {
				t.Errorf("kind %v level %v, want %s %s", l["kind"], l["level"], tc.wantKind, tc.wantLevel)
			}
			if _, ok := l["duration"].(float64); !ok {
				t.Errorf("no duration: %v", l)
			}
			for k, v := range tc.wantAttrs {
				if l[k] != v {
					t.Errorf("%s = %v, want %v", k, l[k], v)
				}
			}
			if _, ok := l["requestId"]; ok != tc.lambda {
				t.Errorf("requestId present %v, want %v", ok, tc.lambda)
			}
			if tc.wantCause != "" && l["cause"] != tc.wantCause {
				t.Errorf("cause = %v, want %q", l["cause"], tc.wantCause)
			}
			if tc.wantLevel == "INFO" {
				if _, ok := l["error"]; ok {
					t.Errorf("error on a success: %v", l)
				}
			}
		})
	}
}

// A malformed API Gateway event is logged by what was wrong and where, never
// by its content: header names can be secrets.
func TestDecodeFailureLogsNoContent(t *testing.T) {
	events := map[string]string{
		"v1 header list": `{"httpMethod":"POST","path":"/login","requestContext":{},"multiValueHeaders":{"x-answer-SECRETANSWER":"notalist"}}`,
		"v2 header":      `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"headers":{"x-challenge-SECRETKEY":12345678}}`,
	}
	for name, payload := range events {
		t.Run(name, func(t *testing.T) {
			d, logs := newDispatcher(&stubTriggers{})
			if _, err := d.Invoke(context.Background(), []byte(payload)); !errors.Is(err, dispatch.ErrUnknownEvent) {
				t.Fatalf("error %v, want ErrUnknownEvent", err)
			}
			line := logs.String()
			if !strings.Contains(line, "bad ") || !strings.Contains(line, "where") {
				t.Errorf("the log does not say what was wrong: %s", line)
			}
			for _, secret := range []string{"SECRET", "12345678", "notalist"} {
				if strings.Contains(line, secret) {
					t.Errorf("the log holds %q: %s", secret, line)
				}
			}
		})
	}
}
