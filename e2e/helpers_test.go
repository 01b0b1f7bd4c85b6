// Package e2e drives the real binary, run as the local dev server, over
// HTTP: the whole sign-in flow against the local Cognito and SES stand-ins.
//
// Shared API for every test in this package (keep it small):
//
//	startServer(t, env) *server   // builds once, starts on a free port, stops at cleanup
//	s.URL                         // "http://127.0.0.1:<port>"
//	s.Env                         // the variables it was started with (PORT, USER_POOL_ID, ...)
//	s.Logs()                      // its stdout+stderr so far; printed automatically if the test fails
//
// env overrides devserver.Defaults (SIGN_UP=auto, RESEND_INTERVAL=0s, pool
// us-east-1_localpool, client localclient, ...); an empty value unsets one.
// MAGICLINKS_BIN=<path> uses a prebuilt binary instead of building.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"magiclinks/local/devserver"
)

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "magiclinks-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds the module's binary the first time a test needs it.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("MAGICLINKS_BIN"); p != "" {
			binPath = p
			return
		}
		root, err := filepath.Abs("..")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "magiclinks")
		buildErr = devserver.Build(context.Background(), root, binPath)
	})
	if buildErr != nil {
		t.Fatalf("building the binary: %v", buildErr)
	}
	return binPath
}

// server is the binary running as the dev server.
type server struct {
	URL string
	Env map[string]string
	out *syncBuffer
}

// Logs returns what the server printed so far.
func (s *server) Logs() string { return s.out.String() }

// startServer starts the binary with env on top of the defaults and stops it
// (as Ctrl-C would) when the test ends.
func startServer(t testing.TB, env map[string]string) *server {
	t.Helper()
	out := &syncBuffer{}
	ds, err := devserver.Start(t.Context(), devserver.Config{Bin: binary(t), Env: env, Output: out})
	if err != nil {
		t.Fatalf("starting the server: %v\n--- server output ---\n%s", err, out.String())
	}
	s := &server{URL: ds.URL, Env: ds.Env, out: out}
	t.Cleanup(func() {
		stopErr := ds.Stop()
		if stopErr != nil {
			t.Errorf("the server did not stop cleanly on SIGINT: %v", stopErr)
		}
		if t.Failed() {
			t.Logf("--- server output (%s) ---\n%s", s.URL, s.Logs())
		}
	})
	return s
}

// syncBuffer collects the server's output from two pipes at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
