package local

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestHTMLLang(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		`<!doctype html>` + "\n" + `<html lang="de">`:         "de",
		`<HTML class="x" LANG='fr-CA'>`:                       "fr-CA",
		`<html lang=es><body>`:                                "es",
		`<html><body lang="de">`:                              "",
		`<html xml:lang="de">`:                                "",
		`<p>no html element</p>`:                              "",
		`<html lang="de&quot;><script>">`:                     "de",
		`<htmlx lang="de">`:                                   "",
		`<html` + "\n\t" + `data-x="1"` + "\n" + `lang="es">`: "es",
	}
	for html, want := range tests {
		if got := htmlLang(html); got != want {
			t.Errorf("htmlLang(%q) = %q, want %q", html, got, want)
		}
	}
}

// The outbox and the mailbox page say which language each mail declares.
func TestMailLanguageShown(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	for _, in := range []struct{ to, html string }{
		{"de@example.com", `<!doctype html><html lang="de"><p>Hallo</p></html>`},
		{"none@example.com", ""},
	} {
		if _, err := e.ses.SendEmail(ctx, sendInput(in.to, "s", "text", in.html)); err != nil {
			t.Fatal(err)
		}
	}
	if got := getOutbox(t, e, "?to=de@example.com"); len(got) != 1 || got[0].Lang != "de" {
		t.Errorf("outbox: %+v, want lang de", got)
	}
	if got := getOutbox(t, e, "?to=none@example.com"); len(got) != 1 || got[0].Lang != "" {
		t.Errorf("outbox: %+v, want no lang", got)
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/local/mail")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if !strings.Contains(page, `<dt>Language</dt><dd><span lang="de">de</span></dd>`) || !strings.Contains(page, `<dt>Language</dt><dd><em>none declared</em></dd>`) {
		t.Errorf("mailbox page does not show the languages:\n%s", page)
	}
}
