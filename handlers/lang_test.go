package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"magiclinks/logging"
)

// POST /login sends the mail in the language the browser asks for, through
// lang.Negotiate (its own tests hold the header's edge cases).
func TestLoginMailLanguage(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		header []string // Accept-Language values; nil: none
		want   string
	}{
		"no header":          {want: "en"},
		"German browser":     {header: []string{"de-CH,de;q=0.9,en;q=0.5"}, want: "de"},
		"quality wins":       {header: []string{"en;q=0.4, fr;q=0.8"}, want: "fr"},
		"unsupported":        {header: []string{"ja-JP, zh;q=0.9"}, want: "en"},
		"malformed":          {header: []string{"es;q=abc, ;;, ="}, want: "en"},
		"two header lines":   {header: []string{"es", "de"}, want: "es"},
		"Spanish, Latin Am.": {header: []string{"es-419"}, want: "es"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			ctx, line := logging.With(context.Background())
			e.line = line
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/login", strings.NewReader(`{"email":"user@example.com"}`))
			r.Header.Set("Content-Type", "application/json")
			for _, v := range tc.header {
				r.Header.Add("Accept-Language", v)
			}
			w := httptest.NewRecorder()
			e.router.ServeHTTP(w, r)
			sent := e.mailer.Sent()
			if w.Code != http.StatusAccepted || len(sent) != 1 {
				t.Fatalf("status %d, %d mails", w.Code, len(sent))
			}
			if sent[0].Lang != tc.want {
				t.Errorf("mail in %q, want %q", sent[0].Lang, tc.want)
			}
		})
	}
}
