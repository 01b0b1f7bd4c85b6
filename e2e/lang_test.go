package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"magiclinks/local/devserver"
)

// langMail is a mail of the outbox with the language it declares.
type langMail struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
	Lang    string `json:"lang"`
}

// loginIn is POST /login from a browser set to acceptLanguage; it returns
// the mail that arrived.
func (s *server) loginIn(t *testing.T, email, acceptLanguage string) langMail {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email})
	h := map[string]string{"Content-Type": "application/json", "Origin": s.URL}
	if acceptLanguage != "" {
		h["Accept-Language"] = acceptLanguage
	}
	if status, body := s.do(t, http.MethodPost, "/login", b, h); status != http.StatusAccepted {
		t.Fatalf("POST /login: %d %s", status, body)
	}
	status, body := s.do(t, http.MethodGet, "/local/outbox?to="+url.QueryEscape(email), nil, nil)
	var mails []langMail
	if status != http.StatusOK || json.Unmarshal(body, &mails) != nil || len(mails) != 1 {
		t.Fatalf("outbox for %s: %d %s", email, status, body)
	}
	return mails[0]
}

// A German browser gets a German mail; the mailbox page says so.
func TestMailInTheBrowsersLanguage(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	de := s.loginIn(t, "hans@example.com", "de-CH,de;q=0.9,en;q=0.5")
	if de.Lang != "de" || de.Subject != "Ihr Anmeldelink für Magic Links" ||
		!strings.Contains(de.Text, "Der Link ist 10 Minuten gültig") || !strings.Contains(de.HTML, `<html lang="de">`) {
		t.Errorf("German browser got: %+v", de)
	}
	es := s.loginIn(t, "ana@example.com", "es-MX;q=0.9, *;q=0.1")
	if es.Lang != "es" || !strings.Contains(es.Text, "10 minutos") {
		t.Errorf("Spanish browser got: %+v", es)
	}
	en := s.loginIn(t, "kenji@example.com", "ja-JP,ja;q=0.9")
	if en.Lang != "en" || en.Subject != "Your sign-in link for Magic Links" {
		t.Errorf("Japanese browser got: %+v", en)
	}
	status, page := s.do(t, http.MethodGet, "/local/mail", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(page), `<span lang="de">de</span>`) || !strings.Contains(string(page), `<span lang="es">es</span>`) {
		t.Errorf("mailbox page does not show the languages: %d\n%s", status, page)
	}
}

// An override directory with only de/subject.txt changes the German
// subject and nothing else.
func TestTemplatesDirOverridesOneFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "de"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "de", "subject.txt"), []byte("Anmeldung bei {{.AppName}} ({{.Expiry}})\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, map[string]string{"TEMPLATES_DIR": dir})
	de := s.loginIn(t, "hans@example.com", "de")
	if de.Subject != "Anmeldung bei Magic Links (10 Minuten)" || !strings.HasPrefix(de.Text, "Guten Tag,") || de.Lang != "de" {
		t.Errorf("German mail: %+v", de)
	}
	en := s.loginIn(t, "ann@example.com", "en-GB")
	if en.Subject != "Your sign-in link for Magic Links" || !strings.HasPrefix(en.Text, "Hello,") {
		t.Errorf("English mail: %+v", en)
	}
}

// A broken override stops the start, and the output names the file.
func TestBrokenTemplatesStopTheStart(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		file, text string
		want       string
	}{
		"unknown field": {file: "de/subject.txt", text: "{{.Name}}", want: "de/subject.txt"},
		"bad syntax":    {file: "fr/mail.html", text: `<p>{{if .Code}}</p>`, want: "fr/mail.html"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, filepath.FromSlash(tc.file))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			out := &syncBuffer{}
			ds, err := devserver.Start(t.Context(), devserver.Config{Bin: binary(t), Env: map[string]string{"TEMPLATES_DIR": dir}, Output: out})
			if err == nil {
				ds.Stop()
				t.Fatalf("the server started with a broken %s", tc.file)
			}
			if logs := out.String(); !strings.Contains(logs, "TEMPLATES_DIR "+dir+": "+tc.want+": ") {
				t.Errorf("start failed (%v), but the output does not name TEMPLATES_DIR and %s:\n%s", err, tc.want, logs)
			}
		})
	}
}
