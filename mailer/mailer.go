// Package mailer sends the magic-link mail through SES v2: subject, plain-text
// and HTML body rendered in the recipient's language from templates that are
// built in (templates/<lang>/) or overridden file by file (LoadTemplates).
package mailer

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"magiclinks/challenge"
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
	app       string // the display name of from; "" for none
	configSet string
	templates func() (*Templates, error)
}

// New returns a Mailer sending from from (e.g. "Example <no-reply@example.com>");
// the display name, if any, names the app in the mail. configSet may be empty.
// templates nil means the built-in ones, parsed on the first mail: they are
// checked by this package's tests at build time (TestLoadTemplatesBuiltin),
// and a function's first event is often a trigger that sends none, so
// they are not worth its cold start. Overrides are checked at start, by
// LoadTemplates, before New.
func New(ses Sender, from, configSet string, templates *Templates) (*Mailer, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mailer: sender %q: %w", from, err)
	}
	m := &Mailer{ses: ses, from: from, app: a.Name, configSet: configSet}
	if templates != nil {
		m.templates = func() (*Templates, error) { return templates, nil }
	} else {
		m.templates = sync.OnceValues(func() (*Templates, error) { return LoadTemplates(nil) })
	}
	return m, nil
}

// Message is a rendered mail.
type Message struct {
	Lang                string // the language it is in (lang falls back to lang.Default)
	Subject, Text, HTML string
}

// lineBreaks become spaces in a subject.
var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ")

// Render renders the mail in language l (an unsupported one gets
// lang.Default) for a link and its code ("" for none), valid for ttl.
func (m *Mailer) Render(l, to, link, code string, ttl time.Duration) (Message, error) {
	templates, err := m.templates()
	if err != nil {
		return Message{}, fmt.Errorf("mailer: %w", err)
	}
	l, set := templates.set(l)
	app := m.app
	if app == "" {
		app = defaultAppName(l)
	}
	f := Fields{AppName: app, Email: to, Link: link, Code: challenge.FormatCode(code), Expiry: Expiry(l, ttl)}
	msg := Message{Lang: l}
	if msg.Subject, err = set.execute(subjectFile, f); err != nil {
		return Message{}, fmt.Errorf("mailer: %s/%s: %w", l, subjectFile, err)
	}
	// Checked at start with sample data; a field can still not break the
	// header (addresses and display names carry no line breaks), but the
	// header is what matters, so make sure.
	msg.Subject = strings.TrimSpace(lineBreaks.Replace(msg.Subject))
	if msg.Text, err = set.execute(textFile, f); err != nil {
		return Message{}, fmt.Errorf("mailer: %s/%s: %w", l, textFile, err)
	}
	if msg.HTML, err = set.execute(htmlFile, f); err != nil {
		return Message{}, fmt.Errorf("mailer: %s/%s: %w", l, htmlFile, err)
	}
	return msg, nil
}

// SendMagicLink mails link and its code ("" for none) to the address to, in
// language l.
func (m *Mailer) SendMagicLink(ctx context.Context, l, to, link, code string, ttl time.Duration) error {
	msg, err := m.Render(l, to, link, code, ttl)
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
