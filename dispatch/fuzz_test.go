package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"magiclinks/cognito"
	"magiclinks/config"
	"magiclinks/dispatch"
	"magiclinks/handlers"
	"magiclinks/internal/testevents"
	"magiclinks/links"
)

var t0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// poolStub knows one user and never fails, so the fuzzer gets deep into the
// login handler and the triggers.
type poolStub struct{}

func (p *poolStub) GetUser(_ context.Context, email string) (handlers.User, error) {
	if email != "user@example.com" {
		return handlers.User{}, handlers.ErrUserNotFound
	}
	return handlers.User{Username: "sub", Enabled: true}, nil
}
func (p *poolStub) CreateUser(context.Context, string) (handlers.User, error) {
	return handlers.User{Username: "new", Enabled: true}, nil
}
func (p *poolStub) SetRandomPassword(context.Context, string) error   { return nil }
func (p *poolStub) VerifyEmail(context.Context, string, string) error { return nil }

type mailStub struct{}

func (mailStub) SendMagicLink(context.Context, string, string, string, string, time.Duration) error {
	return nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// realDispatcher wires the real triggers and router around stubs.
func realDispatcher(f *testing.F) *dispatch.Dispatcher {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"USER_POOL_ID": "ap-south-1_Ex4mpl3Ab", "EMAIL_FROM": "no-reply@example.com",
			"SIGN_IN_URL": "https://app.example.com/sign-in", "SIGN_UP": "auto", "RESEND_INTERVAL": "0s",
		}[k]
	})
	if err != nil {
		f.Fatal(err)
	}
	pool := &poolStub{}
	now := func() time.Time { return t0 }
	key := make([]byte, 32)
	store := links.New(links.NewMemory(now), key)
	router := handlers.New(handlers.Deps{Config: cfg, Users: pool, Links: store, Approvals: store, Codes: true, RequestKey: key,
		Limiter: store, Mailer: mailStub{}, Now: now, Rand: zeros{}, Wait: func(context.Context, time.Duration) {}})
	tr := &cognito.Triggers{Users: pool, Links: store, Now: now, Rand: zeros{}, MaxAttempts: 3}
	return dispatch.New(tr, router, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

// FuzzInvoke: on any bytes the dispatcher answers with JSON or fails with an
// error the caller can classify (ErrUnknownEvent or a trigger's
// *cognito.PublicError), never panics, and keeps serving afterwards.
func FuzzInvoke(f *testing.F) {
	for _, b := range testevents.Load(f, "*.json") {
		f.Add(b)
	}
	d := realDispatcher(f)
	probe, err := os.ReadFile("../testdata/events/cognito-define-first-call.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := d.Invoke(context.Background(), payload)
		if err != nil {
			var pe *cognito.PublicError
			if !errors.Is(err, dispatch.ErrUnknownEvent) && !errors.As(err, &pe) {
				t.Fatalf("error %T %q is neither ErrUnknownEvent nor a *cognito.PublicError", err, err)
			}
			if out != nil {
				t.Fatalf("output with an error: %s", out)
			}
		} else if !json.Valid(out) {
			t.Fatalf("output is not JSON: %q", out)
		}
		if out, err := d.Invoke(context.Background(), probe); err != nil || !bytes.Contains(out, []byte("CUSTOM_CHALLENGE")) {
			t.Fatalf("dispatcher broken after %q: %s, %v", payload, out, err)
		}
	})
}

// FuzzSniff: the streaming Sniff tells every payload's kind as a reading of
// the whole payload with encoding/json does (sniffReference).
func FuzzSniff(f *testing.F) {
	for _, b := range testevents.Load(f, "*.json") {
		f.Add(b)
	}
	for _, s := range []string{
		`{"triggerSource":"x","triggerSource":""}`, `{"version":"2.0","requestContext":{"http":null}}`,
		`{"version":"2.0","requestContext":{"http":{},"http":null}}`, `{"httpMethod":"GET","requestContext":null}`,
		`{"httpMethod":"GET","requestContext":[]}`, `{"TriggerSource":"x"}`,
		`{"x\ud800":1,"triggerSource":"PreSignUp_SignUp"}`, "{\"x\\n\xff\":1,\"triggerSource\":\"x\"}",
		`{"version":"2.0","requestContext":{"\udc00":1,"http":{}}}`, `{"triggerSource":7}`, `{"a":1} x`, "{\"triggerSource\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		kind, err := dispatch.Sniff(payload)
		if (err != nil) != (kind == "") || (err != nil && !errors.Is(err, dispatch.ErrUnknownEvent)) {
			t.Fatalf("Sniff = %q, %v", kind, err)
		}
		if want := sniffReference(payload); kind != want {
			t.Fatalf("Sniff(%q) = %q, want %q", payload, kind, want)
		}
	})
}

// sniffReference is what Sniff means, written with encoding/json: exact
// names, the last of repeated names, a member of another type as absent.
func sniffReference(payload []byte) dispatch.Kind {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil || m == nil {
		return ""
	}
	str := func(raw json.RawMessage) string {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	var rc map[string]json.RawMessage
	inContext := json.Unmarshal(m["requestContext"], &rc) == nil && rc != nil
	switch {
	case str(m["triggerSource"]) != "":
		return dispatch.KindTrigger
	case str(m["version"]) == "2.0" && inContext && rc["http"] != nil && string(rc["http"]) != "null":
		return dispatch.KindHTTPv2
	case str(m["httpMethod"]) != "" && inContext:
		return dispatch.KindHTTPv1
	}
	return ""
}

// FuzzDecodeHTTP: DecodeHTTP reads every payload as encoding/json does:
// both fail, or both give the same event.
func FuzzDecodeHTTP(f *testing.F) {
	for _, b := range testevents.Load(f, "apigw-*.json") {
		f.Add(b)
	}
	for _, s := range []string{`{"RAWPATH":"/x"}`, `{"raw_path":"/x"}`, `{"body":"x","body":null}`,
		`{"headers":{"a":"1"},"headers":{"b":"2"}}`, "{\"body\":\"\xff\\ud800\"}", `{"requestContext":{"timeEpoch":1e3}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sameDecoding[events.APIGatewayV2HTTPRequest](t, payload)
		sameDecoding[events.APIGatewayProxyRequest](t, payload)
	})
}

func sameDecoding[E events.APIGatewayV2HTTPRequest | events.APIGatewayProxyRequest](t *testing.T, payload []byte) {
	var want, got E
	errWant := json.Unmarshal(payload, &want)
	errGot := dispatch.DecodeHTTP(payload, &got)
	if (errWant == nil) != (errGot == nil) {
		t.Fatalf("%T: encoding/json %v, DecodeHTTP %v", want, errWant, errGot)
	}
	if errWant == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%T differs:\nencoding/json %+v\nDecodeHTTP    %+v", want, want, got)
	}
}
