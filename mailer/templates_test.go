package mailer_test

import (
	"errors"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	texttemplate "text/template"
	"text/template/parse"
	"time"

	"magiclinks/lang"
	"magiclinks/mailer"
)

var files = []string{"subject.txt", "mail.txt", "mail.html"}

// The built-in templates are exactly the supported languages times the
// three files.
func TestBuiltinFilesAreTheSupportedLanguages(t *testing.T) {
	t.Parallel()
	var want, got []string
	for _, l := range lang.Supported() {
		for _, f := range files {
			want = append(want, l+"/"+f)
		}
	}
	err := fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("templates/ holds %q, want %q", got, want)
	}
}

// templateParts reads one built-in file: its actions (fields and
// conditions, sorted, as they must be the same in every language) and its
// literal text pieces (which must all be translated).
func templateParts(t *testing.T, name string) (actions, texts []string) {
	t.Helper()
	b, err := os.ReadFile("templates/" + name)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := texttemplate.New(name).Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			actions = append(actions, n.String())
		case *parse.IfNode:
			actions = append(actions, "if "+n.Pipe.String())
			walk(n.List)
			walk(n.ElseList)
		case *parse.TextNode:
		default:
			t.Fatalf("%s: unexpected node %s", name, n)
		}
	}
	walk(tmpl.Tree.Root)
	slices.Sort(actions)
	// The text is what a reader sees: rendered with every field a
	// separator, markup removed.
	var out strings.Builder
	const sep = "\x00"
	if err := tmpl.Execute(&out, mailer.Fields{AppName: sep, Email: sep, Link: sep, Code: sep, Expiry: sep}); err != nil {
		t.Fatal(err)
	}
	for _, piece := range separators.Split(markup.ReplaceAllString(out.String(), sep), -1) {
		if piece = strings.TrimSpace(piece); letters.MatchString(piece) {
			texts = append(texts, piece)
		}
	}
	return actions, texts
}

var (
	markup     = regexp.MustCompile(`<[^>]*>`)
	separators = regexp.MustCompile(`[\x00\n]+`)
	letters    = regexp.MustCompile(`\pL{2}`)
)

// No untranslated string left: every language's file uses exactly the
// fields and conditions of the English one, and shares none of its
// sentences (a piece of English left in a translation shows up here).
func TestTranslationsMatchEnglish(t *testing.T) {
	t.Parallel()
	for _, f := range files {
		enActions, enTexts := templateParts(t, "en/"+f)
		if len(enTexts) == 0 {
			t.Fatalf("en/%s: no text found", f)
		}
		for _, l := range lang.Supported()[1:] {
			actions, texts := templateParts(t, l+"/"+f)
			if !slices.Equal(actions, enActions) {
				t.Errorf("%s/%s uses %q; en/%s uses %q", l, f, actions, f, enActions)
			}
			for _, s := range texts {
				if slices.Contains(enTexts, s) {
					t.Errorf("%s/%s: %q is the English text", l, f, s)
				}
			}
		}
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	tests := map[string]map[time.Duration]string{
		"en": {time.Minute: "1 minute", 10 * time.Minute: "10 minutes", time.Hour: "1 hour", 90 * time.Minute: "1 hour and 30 minutes", 2*time.Hour + time.Minute: "2 hours and 1 minute"},
		"de": {time.Minute: "1 Minute", 10 * time.Minute: "10 Minuten", time.Hour: "1 Stunde", 90 * time.Minute: "1 Stunde und 30 Minuten", 2*time.Hour + time.Minute: "2 Stunden und 1 Minute"},
		"fr": {time.Minute: "1 minute", 10 * time.Minute: "10 minutes", time.Hour: "1 heure", 90 * time.Minute: "1 heure et 30 minutes", 2*time.Hour + time.Minute: "2 heures et 1 minute"},
		"es": {time.Minute: "1 minuto", 10 * time.Minute: "10 minutos", time.Hour: "1 hora", 90 * time.Minute: "1 hora y 30 minutos", 2*time.Hour + time.Minute: "2 horas y 1 minuto"},
		"it": {10 * time.Minute: "10 minutes"}, // unknown: English
	}
	for l, cases := range tests {
		for d, want := range cases {
			if got := mailer.Expiry(l, d); got != want {
				t.Errorf("Expiry(%q, %s) = %q, want %q", l, d, got, want)
			}
		}
	}
	for _, l := range lang.Supported() {
		if _, ok := tests[l]; !ok {
			t.Errorf("no expiry cases for %s", l)
		}
	}
}

func TestLoadTemplatesBuiltin(t *testing.T) {
	t.Parallel()
	tmpl, err := mailer.LoadTemplates(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o := tmpl.Overridden(); len(o) != 0 {
		t.Errorf("Overridden() = %q with no overrides", o)
	}
}

const okHTML = `<!doctype html><html lang="de"><p>{{.AppName}}: <a href="{{.Link}}">{{.Email}}</a> {{.Code}} {{.Expiry}}</p></html>`

// What an overrides directory can do, and every way it can be wrong: the
// start stops with an error naming the file.
func TestLoadTemplatesOverrides(t *testing.T) {
	t.Parallel()
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := map[string]struct {
		fs       fstest.MapFS
		wantFile string // "" for success
		wantErr  string // in the message
	}{
		"empty directory":         {fs: fstest.MapFS{}},
		"subject only":            {fs: fstest.MapFS{"de/subject.txt": file("Anmeldung: {{.AppName}}\n")}},
		"all three":               {fs: fstest.MapFS{"de/subject.txt": file("x"), "de/mail.txt": file("{{.Link}}"), "de/mail.html": file(okHTML)}},
		"dotfiles ignored":        {fs: fstest.MapFS{".git/config": file("x"), "de/.DS_Store": file("x"), ".keep": file("")}},
		"$ fields":                {fs: fstest.MapFS{"fr/mail.txt": file("{{with .Code}}{{$.Link}} {{.}}{{else}}{{$.Link}}{{end}}")}},
		"unknown field":           {fs: fstest.MapFS{"de/subject.txt": file("{{.Foo}}")}, wantFile: "de/subject.txt", wantErr: "unknown field .Foo"},
		"unknown field, untaken":  {fs: fstest.MapFS{"es/mail.txt": file("{{.Link}}{{if false}}{{.Name}}{{end}}")}, wantFile: "es/mail.txt", wantErr: ".Name"},
		"unknown field in else":   {fs: fstest.MapFS{"es/mail.txt": file("{{.Link}}{{if .Code}}{{else}}{{.To}}{{end}}")}, wantFile: "es/mail.txt", wantErr: ".To"},
		"old field name":          {fs: fstest.MapFS{"en/mail.html": file(`<html lang="en">{{.Link}} {{.App}}</html>`)}, wantFile: "en/mail.html", wantErr: ".App"},
		"field of a field":        {fs: fstest.MapFS{"de/mail.txt": file("{{.Link.Host}}")}, wantFile: "de/mail.txt", wantErr: ".Link.Host"},
		"$ unknown":               {fs: fstest.MapFS{"de/mail.txt": file("{{.Link}}{{$.Nope}}")}, wantFile: "de/mail.txt", wantErr: "$.Nope"},
		"chain":                   {fs: fstest.MapFS{"de/mail.txt": file("{{.Link}}{{(.Link).X}}")}, wantFile: "de/mail.txt", wantErr: "unknown field"},
		"field of a string":       {fs: fstest.MapFS{"de/mail.txt": file("{{.Link}}{{with .Code}}{{.Link}}{{end}}")}, wantFile: "de/mail.txt", wantErr: "can't evaluate field Link"},
		"in a define":             {fs: fstest.MapFS{"de/mail.txt": file(`{{define "x"}}{{.Bar}}{{end}}{{.Link}}`)}, wantFile: "de/mail.txt", wantErr: ".Bar"},
		"bad syntax":              {fs: fstest.MapFS{"fr/mail.html": file("{{.AppName")}, wantFile: "fr/mail.html", wantErr: "unclosed action"},
		"unknown function":        {fs: fstest.MapFS{"fr/subject.txt": file("{{upper .AppName}}")}, wantFile: "fr/subject.txt", wantErr: `"upper" not defined`},
		"unclosed HTML attribute": {fs: fstest.MapFS{"de/mail.html": file(`<a href="{{.Link}}`)}, wantFile: "de/mail.html", wantErr: "non-text context"},
		"two-line subject":        {fs: fstest.MapFS{"de/subject.txt": file("Hallo\nBcc: x@example.com")}, wantFile: "de/subject.txt", wantErr: "one line"},
		"empty subject":           {fs: fstest.MapFS{"de/subject.txt": file("{{if false}}x{{end}}\n")}, wantFile: "de/subject.txt", wantErr: "empty"},
		"text without the link":   {fs: fstest.MapFS{"de/mail.txt": file("Hallo {{.Email}}")}, wantFile: "de/mail.txt", wantErr: "{{.Link}}"},
		"HTML without the link":   {fs: fstest.MapFS{"de/mail.html": file("<p>{{.Email}}</p>")}, wantFile: "de/mail.html", wantErr: "{{.Link}}"},
		"unknown language":        {fs: fstest.MapFS{"it/subject.txt": file("x")}, wantFile: "it/", wantErr: "not a language"},
		"typo in a name":          {fs: fstest.MapFS{"de/subjet.txt": file("x")}, wantFile: "de/subjet.txt", wantErr: "not a template name"},
		"no language directory":   {fs: fstest.MapFS{"subject.txt": file("x")}, wantFile: "subject.txt", wantErr: "not a template name"},
		"too deep":                {fs: fstest.MapFS{"de/x/mail.txt": file("x")}, wantFile: "de/x", wantErr: "not a template name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := mailer.LoadTemplates(tc.fs)
			if tc.wantFile == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tmpl == nil {
					t.Fatal("no templates")
				}
				return
			}
			var fe *mailer.FileError
			if !errors.As(err, &fe) || fe.File != tc.wantFile || !fe.Override {
				t.Fatalf("error %v, want a FileError for override %s", err, tc.wantFile)
			}
			if !strings.HasPrefix(err.Error(), tc.wantFile+": ") || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want it to start with %q and say %q", err, tc.wantFile, tc.wantErr)
			}
		})
	}
}

// An override replaces its own file only: the German subject here, while
// the German bodies and every other language stay built in.
func TestOverrideReplacesOnlyItsFile(t *testing.T) {
	t.Parallel()
	tmpl, err := mailer.LoadTemplates(fstest.MapFS{"de/subject.txt": {Data: []byte("Anmeldung bei {{.AppName}} – {{.Expiry}}\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if o := tmpl.Overridden(); !slices.Equal(o, []string{"de/subject.txt"}) {
		t.Errorf("Overridden() = %q", o)
	}
	custom, err := mailer.New(&fakeSender{}, "Example <no-reply@example.com>", "", tmpl)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := mailer.New(&fakeSender{}, "Example <no-reply@example.com>", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lang.Supported() {
		got, err := custom.Render(l, "user@example.com", link, "ABC123", 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := plain.Render(l, "user@example.com", link, "ABC123", 10*time.Minute)
		if l == "de" {
			want.Subject = "Anmeldung bei Example – 10 Minuten"
		}
		if got != want {
			t.Errorf("%s: got %+v\nwant %+v", l, got, want)
		}
	}
}

func TestOverrideHTMLEscapes(t *testing.T) {
	t.Parallel()
	tmpl, err := mailer.LoadTemplates(fstest.MapFS{"de/mail.html": {Data: []byte(okHTML)}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailer.New(&fakeSender{}, `"<b>Evil</b>" <no-reply@example.com>`, "", tmpl)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := m.Render("de", `a<i>@example.com`, "javascript:alert(1)", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"<b>", "<i>", "javascript:"} {
		if strings.Contains(msg.HTML, raw) {
			t.Errorf("override HTML carries %q:\n%s", raw, msg.HTML)
		}
	}
}
