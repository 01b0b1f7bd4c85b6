package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"magiclinks/config"
	"magiclinks/links"
)

// In Lambda a relative TEMPLATES_DIR names a directory of the unpacked zip
// (make build puts it there), not of whatever the working directory is.
func TestLambdaConfigTemplatesDir(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		dir, root, want string
	}{
		"relative":     {dir: "templates", root: "/var/task", want: "/var/task/templates"},
		"absolute":     {dir: "/opt/mail", root: "/var/task", want: "/opt/mail"},
		"no task root": {dir: "templates", want: "templates"},
		"unset":        {root: "/var/task", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := maps.Clone(baseEnv)
			env["TEMPLATES_DIR"], env["LAMBDA_TASK_ROOT"] = tc.dir, tc.root
			cfg, err := lambdaConfig(func(k string) string { return env[k] })
			if err != nil || cfg.TemplatesDir != tc.want {
				t.Errorf("TemplatesDir %q, %v; want %q", cfg.TemplatesDir, err, tc.want)
			}
		})
	}
}

// newApp loads TEMPLATES_DIR: an override is used, a broken one stops the
// start with a configuration error naming the variable and the file.
func TestNewAppTemplatesDir(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, text := range files {
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	start := func(t *testing.T, dir string) (*app, *fakeSES, error) {
		env := maps.Clone(baseEnv)
		env["TEMPLATES_DIR"], env["RESEND_INTERVAL"] = dir, "0s"
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		ses := &fakeSES{recorder: &recorder{}}
		cog := &fakeCognito{recorder: &recorder{}, users: map[string]*fakeUser{
			knownEmail: {sub: knownSub, enabled: true, attrs: map[string]string{"email_verified": "true"}},
		}}
		a, err := newApp(cfg, clients{cognito: cog, ses: ses, memory: links.NewMemory(nil), wait: func(context.Context, time.Duration) {}}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
		return a, ses, err
	}

	t.Run("override used", func(t *testing.T) {
		t.Parallel()
		a, ses, err := start(t, write(t, map[string]string{"de/subject.txt": "Anmeldung bei {{.AppName}}\n"}))
		if err != nil {
			t.Fatal(err)
		}
		for header, want := range map[string]string{"de-AT, en;q=0.5": "Anmeldung bei Example", "fr": "Votre lien de connexion à Example"} {
			r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"email":"`+knownEmail+`"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept-Language", header)
			w := httptest.NewRecorder()
			a.router.ServeHTTP(w, r)
			if w.Code != http.StatusAccepted || len(ses.sent) == 0 {
				t.Fatalf("%s: status %d, %d mails", header, w.Code, len(ses.sent))
			}
			if got := aws.ToString(ses.sent[len(ses.sent)-1].Content.Simple.Subject.Data); got != want {
				t.Errorf("%s: subject %q, want %q", header, got, want)
			}
			ses.sent = nil
		}
	})

	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"unknown field": {files: map[string]string{"de/subject.txt": "{{.Foo}}"}, want: "de/subject.txt"},
		"bad syntax":    {files: map[string]string{"fr/mail.html": "{{if .Code}}"}, want: "fr/mail.html"},
		"typo":          {files: map[string]string{"es/mail.htm": "x"}, want: "es/mail.htm"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := write(t, tc.files)
			_, _, err := start(t, dir)
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "TEMPLATES_DIR "+dir+": "+tc.want+": ") {
				t.Errorf("error %v, want a configuration error naming TEMPLATES_DIR and %s", err, tc.want)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		_, _, err := start(t, filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "TEMPLATES_DIR") {
			t.Errorf("error %v, want a configuration error naming TEMPLATES_DIR", err)
		}
	})
}
