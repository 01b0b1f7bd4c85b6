package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"magiclinks/challenge"
	"magiclinks/config"
	"magiclinks/links"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// t0 is the time of the recorded events; the clock stands still at it.
var t0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

const (
	knownSub   = "7d3f5a2e-9b1c-4e8a-a6d2-3c4b5e6f7a81"
	knownEmail = "user@example.com"
	// liveAnswer is the challenge whose hash the recorded Verify event holds.
	liveAnswer = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
)

var baseEnv = map[string]string{
	"USER_POOL_ID":        "ap-south-1_Ex4mpl3Ab",
	"USER_POOL_CLIENT_ID": "1example23456789abcdefghij",
	"EMAIL_FROM":          "Example <no-reply@example.com>",
	"SIGN_IN_URL":         "https://app.example.com/sign-in",
}

// eventEnv overrides the configuration for the events that need it.
var eventEnv = map[string]map[string]string{
	"apigw-v2-post-login-signup": {"SIGN_UP": "auto"},
}

// countingReader is a deterministic stand-in for crypto/rand, so the golden
// files are stable.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		r.n++
		p[i] = r.n
	}
	return len(p), nil
}

type testApp struct {
	*app
	cognito *fakeCognito
	ses     *fakeSES
	// links is the in-process store (nil in attribute mode), unrecorded.
	links *links.Store
	logs  *bytes.Buffer
	clock *testClock // stands at t0 until a test moves it
}

// testClock is the app's clock; flow tests move it to expire links.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// attributeMode, as a key of newTestApp's env, runs the app on the seed's
// Cognito attribute instead of the (in-process) link store.
const attributeMode = "_ATTRIBUTE_MODE"

func newTestApp(t testing.TB, env map[string]string) *testApp {
	t.Helper()
	merged := map[string]string{}
	for k, v := range baseEnv {
		merged[k] = v
	}
	for k, v := range env {
		merged[k] = v
	}
	cfg, err := config.Load(func(k string) string { return merged[k] })
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	// The known user has the link of the recorded Verify event live; the
	// "recent" one was sent a link 10 s ago, so its resend hold is on.
	live := challenge.Set{}.Add(liveAnswer, t0.Add(-time.Minute), 10*time.Minute)
	recent := challenge.Set{}.Add(strings.Repeat("r", challenge.Length), t0.Add(-10*time.Second), 10*time.Minute)
	cog := &fakeCognito{recorder: rec, users: map[string]*fakeUser{
		knownEmail:             {sub: knownSub, enabled: true, attrs: map[string]string{"email_verified": "true"}},
		"disabled@example.com": {sub: "9f1c2d3e-0000-4000-8000-000000000002", enabled: false, attrs: map[string]string{}},
		"recent@example.com":   {sub: "9f1c2d3e-0000-4000-8000-000000000003", enabled: true, attrs: map[string]string{}},
	}}
	ses := &fakeSES{recorder: rec}
	logs := &bytes.Buffer{}
	clock := &testClock{t: t0}
	c := clients{cognito: cog, ses: ses, region: "ap-south-1", now: clock.Now, rand: &countingReader{}, wait: func(context.Context, time.Duration) {}}
	if merged[attributeMode] != "" {
		cog.users[knownEmail].attrs[links.Attribute] = live.String()
		cog.users["recent@example.com"].attrs[links.Attribute] = recent.String()
	}
	var store *links.Store
	if merged[attributeMode] == "" {
		mem := links.NewMemory(clock.Now)
		store = links.New(mem, nil)
		for user, l := range map[string]struct {
			secret string
			at     time.Time
		}{knownSub: {liveAnswer, t0.Add(-time.Minute)}, "9f1c2d3e-0000-4000-8000-000000000003": {strings.Repeat("r", challenge.Length), t0.Add(-10 * time.Second)}} {
			if _, err := store.Issue(context.Background(), user, links.NewLink{Secret: l.secret}, l.at, 10*time.Minute, 0); err != nil {
				t.Fatal(err)
			}
		}
		c.memory = recordingBackend{Backend: mem, recorder: rec}
	}
	a, err := newApp(cfg, c, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{app: a, cognito: cog, ses: ses, links: store, logs: logs, clock: clock}
}

type golden struct {
	Response json.RawMessage `json:"response"`
	Error    string          `json:"error,omitempty"`
	Calls    []call          `json:"calls"`
}

// TestEventsGolden runs every recorded event through the dispatcher and
// compares the response, the error and every AWS call made with its golden
// file. Run with -update to rewrite them after a deliberate change.
func TestEventsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := newTestApp(t, eventEnv[name])
			out, err := a.dispatcher.Invoke(context.Background(), payload)
			got := golden{Response: out, Calls: a.cognito.Calls()}
			if err != nil {
				got.Error = err.Error()
			}
			if got.Response == nil {
				got.Response = json.RawMessage("null")
			}
			gotJSON, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			gotJSON = append(gotJSON, '\n')
			path := filepath.Join("testdata/golden", name+".json")
			if *update {
				if err := os.WriteFile(path, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestEventsGolden -update to create it)", err)
			}
			if !bytes.Equal(gotJSON, want) {
				t.Errorf("response differs from %s (run with -update if deliberate)\n--- got\n%s\n--- want\n%s", path, gotJSON, want)
			}
			assertCleanLogs(t, a.logs.String(), payload)
		})
	}
}

// assertCleanLogs checks the one-line-per-invocation rule and that no
// address, challenge or link reached the log.
func assertCleanLogs(t *testing.T, logs string, payload []byte) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 1 {
		t.Errorf("want exactly one log line per invocation, got %d:\n%s", len(lines), logs)
	}
	for _, secret := range []string{knownEmail, "nobody@example.com", "new.user@example.com", liveAnswer, "https://app.example.com/sign-in#"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Errorf("log line is not JSON: %v\n%s", err, lines[0])
	}
}
