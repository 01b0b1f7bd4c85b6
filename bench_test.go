package main

import (
	"context"
	"os"
	"testing"
)

// Benchmarks of each kind of event end to end through the dispatcher with
// the in-memory fakes: decoding, routing, the handler, the AWS calls' inputs
// and the log line. They measure our code, not AWS.

func benchEvent(b *testing.B, env map[string]string, payload []byte, wantErr bool) {
	a := newTestApp(b, env)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, err := a.dispatcher.Invoke(ctx, payload)
		if (err != nil) != wantErr {
			b.Fatalf("Invoke error = %v", err)
		}
		// Keep the fakes' records from growing with b.N.
		a.cognito.recorder.mu.Lock()
		a.cognito.recorder.calls = a.cognito.recorder.calls[:0]
		a.cognito.recorder.mu.Unlock()
		a.ses.sent = a.ses.sent[:0]
		a.logs.Reset()
	}
}

func readBenchEvent(b *testing.B, name string) []byte {
	p, err := os.ReadFile("testdata/events/" + name + ".json")
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkDispatch(b *testing.B) {
	sendEveryTime := map[string]string{"RESEND_INTERVAL": "0s"}
	cases := []struct {
		name    string
		event   string
		env     map[string]string
		wantErr bool
	}{
		{name: "login_v2_existing_user", event: "apigw-v2-post-login", env: sendEveryTime},
		{name: "login_v2_unknown_user", event: "apigw-v2-post-login-unknown"},
		{name: "login_v1_existing_user", event: "apigw-v1-post-login", env: sendEveryTime},
		{name: "login_bad_body", event: "apigw-v2-post-login-bad-json"},
		{name: "login_oversize_body", event: "apigw-v2-post-login-oversize"},
		{name: "define", event: "cognito-define-after-wrong-answer"},
		{name: "create", event: "cognito-create"},
		{name: "verify", event: "cognito-verify"},
		{name: "post_authentication", event: "cognito-postauthentication"},
		{name: "pre_sign_up", event: "cognito-presignup"},
		{name: "unknown_event", event: "unknown-event", wantErr: true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			benchEvent(b, c.env, readBenchEvent(b, c.event), c.wantErr)
		})
	}
}
