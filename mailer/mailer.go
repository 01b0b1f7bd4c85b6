// Package mailer sends the magic-link mail through SES v2, with a plain-text
// and an HTML body rendered from embedded templates.
package mailer

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	texttemplate "text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"magiclinks/challenge"
)

//go:embed templates
var templates embed.FS

var (
	textTmpl = texttemplate.Must(texttemplate.ParseFS(templates, "templates/magic_link.txt"))
	htmlTmpl = htmltemplate.Must(htmltemplate.ParseFS(templates, "templates/magic_link.html"))
)

// Sender is the one SES call the mailer makes; *sesv2.Client satisfies it.
type Sender interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ Sender = (*sesv2.Client)(nil)

// Mailer renders and sends the magic-link mail.
type Mailer struct {
	ses       Sender
	from      string
	app       string
	configSet string
}

// New returns a Mailer sending from from (e.g. "Example <no-reply@example.com>");
// the display name, if any, names the app in the mail. configSet may be empty.
func New(ses Sender, from, configSet string) (*Mailer, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mailer: sender %q: %w", from, err)
	}
	app := a.Name
	if app == "" {
		app = "your account"
	}
	return &Mailer{ses: ses, from: from, app: app, configSet: configSet}, nil
}

// Message is a rendered mail.
type Message struct {
	Subject, Text, HTML string
}

type data struct {
	App, To, Link, Code, Expiry string
}

// Render renders the mail for a link and its code ("" for none), valid for
// ttl.
func (m *Mailer) Render(to, link, code string, ttl time.Duration) (Message, error) {
	d := data{App: m.app, To: to, Link: link, Code: challenge.FormatCode(code), Expiry: Words(ttl)}
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("mailer: text body: %w", err)
	}
	if err := htmlTmpl.Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("mailer: html body: %w", err)
	}
	return Message{Subject: "Your sign-in link for " + m.app, Text: text.String(), HTML: html.String()}, nil
}

// SendMagicLink mails link and its code ("" for none) to the address to.
func (m *Mailer) SendMagicLink(ctx context.Context, to, link, code string, ttl time.Duration) error {
	msg, err := m.Render(to, link, code, ttl)
	if err != nil {
		return err
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.from),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(msg.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(msg.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(msg.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if m.configSet != "" {
		in.ConfigurationSetName = aws.String(m.configSet)
	}
	if _, err := m.ses.SendEmail(ctx, in); err != nil {
		return fmt.Errorf("mailer: SES SendEmail: %w", err)
	}
	return nil
}

// Words says a duration the way a person would: "15 minutes", "1 hour",
// "1 hour and 30 minutes". Below a minute it rounds up to "1 minute".
func Words(d time.Duration) string {
	mins := int((d + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	h, m := mins/60, mins%60
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case h == 0:
		return unit(m, "minute")
	case m == 0:
		return unit(h, "hour")
	}
	return unit(h, "hour") + " and " + unit(m, "minute")
}
