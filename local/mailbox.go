package local

import (
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// segment is a piece of a mail's text: plain text, or a link.
type segment struct {
	Text string
	URL  string
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// linkify splits text into plain and link segments; the template escapes
// both, so a mail cannot inject markup into the page.
func linkify(text string) []segment {
	var out []segment
	last := 0
	for _, loc := range urlPattern.FindAllStringIndex(text, -1) {
		u := strings.TrimRight(text[loc[0]:loc[1]], ".,;:!?)")
		end := loc[0] + len(u)
		if loc[0] > last {
			out = append(out, segment{Text: text[last:loc[0]]})
		}
		out = append(out, segment{Text: u, URL: u})
		last = end
	}
	if last < len(text) {
		out = append(out, segment{Text: text[last:]})
	}
	return out
}

// framed makes links in a mail's HTML open in the whole window: inside the
// sandboxed frame the sign-in page could not run.
func framed(html string) string { return `<base target="_top">` + html }

// mailboxPage shows the outbox newest first. HTML bodies go into sandboxed
// iframes (no scripts, no same-origin access); html/template escapes srcdoc
// as an attribute, so the mail's markup stays inside its frame.
var mailboxPage = template.Must(template.New("mail").Funcs(template.FuncMap{"linkify": linkify, "framed": framed}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local mailbox ({{len .}})</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 56rem; padding: 1rem; color: #1b1b1b; }
header { display: flex; justify-content: space-between; align-items: baseline; }
article { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: .75rem 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .75rem; margin: 0 0 .5rem; color: #555; font-size: .9rem; }
dd { margin: 0; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .5rem; border-radius: 4px; }
a { color: #0645ad; }
iframe { width: 100%; min-height: 16rem; border: 1px solid #ddd; border-radius: 4px; }
details summary { cursor: pointer; color: #555; }
</style>
</head>
<body>
<header><h1>Local mailbox</h1><p>{{len .}} mail(s) · <a href="/local/mail">refresh</a> · <a href="/local/outbox">JSON</a></p></header>
<p>Mail the local SES stand-in accepted. Nothing here left this machine.</p>
{{range .}}
<article>
<h2>{{.Subject}}</h2>
<dl>
<dt>To</dt><dd>{{range $i, $t := .To}}{{if $i}}, {{end}}{{$t}}{{end}}</dd>
<dt>From</dt><dd>{{.From}}</dd>
<dt>Language</dt><dd>{{with .Lang}}<span lang="{{.}}">{{.}}</span>{{else}}<em>none declared</em>{{end}}</dd>
<dt>Sent</dt><dd><time datetime="{{.SentAt.Format "2006-01-02T15:04:05Z07:00"}}">{{.SentAt.Format "2006-01-02 15:04:05 MST"}}</time></dd>
</dl>
{{if .Text}}<pre>{{range linkify .Text}}{{if .URL}}<a href="{{.URL}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>{{end}}
{{if .HTML}}<details{{if not .Text}} open{{end}}><summary>HTML version</summary>
<iframe sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation" srcdoc="{{framed .HTML}}" title="HTML body of {{.Subject}}"></iframe>
</details>{{end}}
</article>
{{else}}
<p><em>No mail yet.</em> Ask for a link on the sign-in page, then refresh.</p>
{{end}}
</body>
</html>
`))

func (s *Stack) serveMailbox(w http.ResponseWriter, r *http.Request) {
	mails := s.outbox.list("")
	slices.Reverse(mails)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// No scripts at all; mail HTML may style itself and show images.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data: http: https:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	if err := mailboxPage.Execute(w, mails); err != nil {
		s.log.ErrorContext(r.Context(), "local mailbox page", "error", err)
	}
}
