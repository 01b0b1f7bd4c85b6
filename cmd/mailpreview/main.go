// Command mailpreview renders the magic-link mail from the built-in
// templates and, with -dir, your overrides (TEMPLATES_DIR), checked exactly
// as the function checks them at start. It prints subject and text of each
// language and, with -html, writes each HTML part to <dir>/<lang>.html to
// open in a browser. Nothing is sent.
//
//	go run ./cmd/mailpreview -dir ./my-templates -lang de -html /tmp/preview
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"magiclinks/lang"
	"magiclinks/mailer"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mailpreview:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("mailpreview", flag.ContinueOnError)
	dir := fl.String("dir", "", "template overrides, as TEMPLATES_DIR (empty: built-in only)")
	only := fl.String("lang", "", "one language ("+strings.Join(lang.Supported(), ", ")+"); empty: all")
	htmlDir := fl.String("html", "", "directory to write <lang>.html into")
	from := fl.String("from", "Example <no-reply@example.com>", "EMAIL_FROM (its display name is .AppName)")
	to := fl.String("to", "user@example.com", ".Email")
	code := fl.String("code", "ABC123", ".Code, 6 characters; empty for a store without codes")
	ttl := fl.Duration("ttl", 10*time.Minute, "LINK_TTL (.Expiry)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	langs := lang.Supported()
	if *only != "" {
		if !slices.Contains(langs, *only) {
			return fmt.Errorf("-lang %q: not one of %s", *only, strings.Join(langs, ", "))
		}
		langs = []string{*only}
	}
	var overrides fs.FS
	if *dir != "" {
		overrides = os.DirFS(*dir)
	}
	tmpl, err := mailer.LoadTemplates(overrides)
	if err != nil {
		return fmt.Errorf("TEMPLATES_DIR %s: %w", *dir, err)
	}
	m, err := mailer.New(nil, *from, "", tmpl)
	if err != nil {
		return err
	}
	if *htmlDir != "" {
		if err := os.MkdirAll(*htmlDir, 0o755); err != nil {
			return err
		}
	}
	link := "https://app.example.com/sign-in#" + strings.ReplaceAll(*to, "@", "%40") + ",PreviewChallenge0123456789abcdefghijkl"
	for i, l := range langs {
		msg, err := m.Render(l, *to, link, *code, *ttl)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(stdout, strings.Repeat("─", 72))
		}
		fmt.Fprintf(stdout, "Language: %s\nSubject: %s\n\n%s", msg.Lang, msg.Subject, msg.Text)
		if !strings.HasSuffix(msg.Text, "\n") {
			fmt.Fprintln(stdout)
		}
		if *htmlDir != "" {
			p := filepath.Join(*htmlDir, l+".html")
			if err := os.WriteFile(p, []byte(msg.HTML), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\nHTML part: %s\n", p)
		}
	}
	if o := tmpl.Overridden(); len(o) > 0 {
		fmt.Fprintf(stdout, "\nFrom %s: %s; every other file is built in.\n", *dir, strings.Join(o, ", "))
	}
	return nil
}
