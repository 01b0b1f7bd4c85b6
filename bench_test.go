package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"magiclinks/links"
)

// Benchmarks of each kind of event end to end through the dispatcher with
// the in-memory fakes: decoding, routing, the handler, the AWS calls' inputs
// and the log line. They measure our code, not AWS.

func benchEvent(b *testing.B, env map[string]string, payload []byte, wantErr bool, before func(a *testApp)) {
	a := newTestApp(b, env)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if before != nil {
			b.StopTimer()
			before(a)
			b.StartTimer()
		}
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
	// Every request of a benchmark comes from one IP: the per-IP limit is
	// off except where it is what is measured.
	sendEveryTime := map[string]string{"RESEND_INTERVAL": "0s", "LOGIN_LIMIT_PER_IP": "off"}
	noLimit := map[string]string{"LOGIN_LIMIT_PER_IP": "off"}
	limited := map[string]string{"LOGIN_LIMIT_PER_IP": "1/1h"}
	// A fresh live link before each right answer, as POST /login leaves it.
	relink := func(a *testApp) {
		if _, err := a.links.Issue(context.Background(), knownSub, links.NewLink{Secret: liveAnswer}, t0.Add(-time.Minute), 10*time.Minute, 0); err != nil {
			b.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		event   string
		env     map[string]string
		wantErr bool
		before  func(a *testApp)
	}{
		{name: "login_v2_existing_user", event: "apigw-v2-post-login", env: sendEveryTime},
		{name: "login_v2_unknown_user", event: "apigw-v2-post-login-unknown", env: noLimit},
		{name: "login_v1_existing_user", event: "apigw-v1-post-login", env: sendEveryTime},
		{name: "login_held", event: "apigw-v2-post-login", env: noLimit},
		{name: "login_rate_limited", event: "apigw-v2-post-login", env: limited},
		{name: "login_bad_body", event: "apigw-v2-post-login-bad-json"},
		{name: "login_oversize_body", event: "apigw-v2-post-login-oversize"},
		{name: "define", event: "cognito-define-after-wrong-answer"},
		{name: "create", event: "cognito-create"},
		{name: "verify_right_answer", event: "cognito-verify", before: relink},
		{name: "verify_wrong_answer", event: "cognito-verify-wrong"},
		{name: "post_authentication", event: "cognito-postauthentication"},
		{name: "pre_sign_up", event: "cognito-presignup"},
		{name: "unknown_event", event: "unknown-event", wantErr: true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			benchEvent(b, c.env, readBenchEvent(b, c.event), c.wantErr, c.before)
		})
	}
}

// BenchmarkInit is the work the Lambda does at init, before its first event:
// reading and checking the configuration and wiring the app (templates
// checked, pages prepared). AWS clients are not made here (awsclients.go).
func BenchmarkInit(b *testing.B) {
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
	for k, v := range baseEnv {
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := lambdaConfig(getenv)
		if err != nil {
			b.Fatal(err)
		}
		aws, err := lambdaAWS(getenv)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := newApp(cfg, lambdaClients(aws, false), logger); err != nil {
			b.Fatal(err)
		}
	}
}
