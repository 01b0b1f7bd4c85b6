package mailer_test

import (
	"context"
	"errors"
	"html"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"magiclinks/lang"
	"magiclinks/mailer"
)

type fakeSender struct {
	calls []*sesv2.SendEmailInput
	err   error
}

func (f *fakeSender) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sesv2.SendEmailOutput{MessageId: aws.String("id")}, nil
}

const link = "https://app.example.com/sign-in#a%2Bb%40example.com,BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"

func TestWords(t *testing.T) {
	t.Parallel()
	tests := map[time.Duration]string{
		15 * time.Minute:          "15 minutes",
		time.Hour:                 "1 hour",
		90 * time.Minute:          "1 hour and 30 minutes",
		30 * time.Second:          "1 minute",
		0:                         "1 minute",
		time.Minute:               "1 minute",
		61 * time.Second:          "2 minutes",
		2 * time.Hour:             "2 hours",
		2*time.Hour + time.Minute: "2 hours and 1 minute",
		24 * time.Hour:            "24 hours",
	}
	for d, want := range tests {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			if got := mailer.Words(d); got != want {
				t.Errorf("Words(%s) = %q, want %q", d, got, want)
			}
		})
	}
}

var (
	href     = regexp.MustCompile(`href="([^"]*)"`)
	htmlLang = regexp.MustCompile(`<html lang="([^"]*)">`)
)

// codeWord is how each language speaks of the code; without one, the mail
// must not mention it.
var codeWord = map[string]string{"en": "code", "de": "Code", "fr": "code", "es": "código"}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		from, to string
		code     string
		ttl      time.Duration
		wantApp  map[string]string // by language; nil: "Example"
	}{
		"named sender": {from: "Example <no-reply@example.com>", to: "a+b@example.com", code: "ABC123", ttl: 15 * time.Minute},
		"bare sender": {from: "no-reply@example.com", to: "user@example.com", code: "XYZ789", ttl: 90 * time.Minute,
			wantApp: map[string]string{"en": "your account", "de": "Ihr Konto", "fr": "votre compte", "es": "su cuenta"}},
		"markup in address": {from: "Example <no-reply@example.com>", to: `a<b>"&'@x.com`, code: "ABC123", ttl: time.Hour},
		"no code":           {from: "Example <no-reply@example.com>", to: "user@example.com", ttl: time.Hour},
	}
	for _, l := range lang.Supported() {
		for name, tc := range tests {
			t.Run(l+"/"+name, func(t *testing.T) {
				t.Parallel()
				m, err := mailer.New(&fakeSender{}, tc.from, "", nil)
				if err != nil {
					t.Fatal(err)
				}
				msg, err := m.Render(l, tc.to, link, tc.code, tc.ttl)
				if err != nil {
					t.Fatal(err)
				}
				if msg.Lang != l {
					t.Errorf("Lang %q, want %q", msg.Lang, l)
				}
				if got := htmlLang.FindStringSubmatch(msg.HTML); got == nil || got[1] != l {
					t.Errorf("HTML lang %q, want %q", got, l)
				}
				// The code is shown as people read it, XXX-XXX, in both
				// parts; without one, nothing speaks of a code.
				for body, s := range map[string]string{"text": msg.Text, "html": msg.HTML} {
					shown := tc.code != "" && strings.Contains(s, tc.code[:3]+"-"+tc.code[3:])
					if shown != (tc.code != "") || (tc.code == "" && strings.Contains(s, codeWord[l])) {
						t.Errorf("%s body with code %q:\n%s", body, tc.code, s)
					}
				}
				app := "Example"
				if tc.wantApp != nil {
					app = tc.wantApp[l]
				}
				if !strings.Contains(msg.Subject, app) || strings.ContainsAny(msg.Subject, "\r\n") {
					t.Errorf("subject %q does not name %q on one line", msg.Subject, app)
				}
				words := mailer.Expiry(l, tc.ttl)
				for body, s := range map[string]string{"text": msg.Text, "html": msg.HTML} {
					if !strings.Contains(s, words) || !strings.Contains(s, app) {
						t.Errorf("%s body does not say %q and %q:\n%s", body, words, app, s)
					}
				}
				if !strings.Contains(msg.Text, "\n"+link+"\n") || !strings.Contains(msg.Text, tc.to) {
					t.Errorf("text body lacks the exact link or address:\n%s", msg.Text)
				}
				hrefs := href.FindAllStringSubmatch(msg.HTML, -1)
				if len(hrefs) != 1 || html.UnescapeString(hrefs[0][1]) != link {
					t.Errorf("HTML href %q, want exactly %q", hrefs, link)
				}
				if strings.Contains(tc.to, "<") {
					if strings.Contains(msg.HTML, tc.to) {
						t.Errorf("address not escaped in HTML:\n%s", msg.HTML)
					}
					if !strings.Contains(msg.HTML, "a&lt;b&gt;") {
						t.Errorf("escaped address missing from HTML:\n%s", msg.HTML)
					}
				}
			})
		}
	}
}

// A sender's display name is the operator's, but it still must not become
// markup in anyone's mail; nor may an address.
func TestRenderEscapesHostileAppName(t *testing.T) {
	t.Parallel()
	const evil = `<img src=x onerror=alert(1)>&"'`
	from := (&netmail.Address{Name: evil, Address: "no-reply@example.com"}).String()
	m, err := mailer.New(&fakeSender{}, from, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lang.Supported() {
		msg, err := m.Render(l, `x"><script>alert(2)</script>@example.com`, link, "ABC123", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"<img", "<script", "alert(2)</"} {
			if strings.Contains(msg.HTML, raw) {
				t.Errorf("%s: HTML carries %q unescaped:\n%s", l, raw, msg.HTML)
			}
		}
		if !strings.Contains(msg.HTML, "&lt;img src=x onerror=alert(1)&gt;&amp;&#34;&#39;") || !strings.Contains(msg.HTML, "x&#34;&gt;&lt;script&gt;") {
			t.Errorf("%s: escaped app name or address missing from HTML:\n%s", l, msg.HTML)
		}
		// The text part and the subject are not HTML: they say it as it is.
		if !strings.Contains(msg.Subject, evil) || !strings.Contains(msg.Text, evil) {
			t.Errorf("%s: subject %q or text lost the name", l, msg.Subject)
		}
	}
}

func TestRenderUnknownLanguageIsEnglish(t *testing.T) {
	t.Parallel()
	m, err := mailer.New(&fakeSender{}, "Example <no-reply@example.com>", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"", "it", "EN", "de-CH", "<x>"} {
		msg, err := m.Render(l, "user@example.com", link, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Lang != "en" || msg.Subject != "Your sign-in link for Example" || !strings.Contains(msg.HTML, `<html lang="en">`) {
			t.Errorf("Render(%q): %q %q", l, msg.Lang, msg.Subject)
		}
	}
}

func TestNewRejectsBadSender(t *testing.T) {
	t.Parallel()
	if _, err := mailer.New(&fakeSender{}, "not an address", "", nil); err == nil {
		t.Error("New accepted a sender that is not an address")
	}
}

func TestSendMagicLink(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		configSet string
	}{
		"without configuration set": {},
		"with configuration set":    {configSet: "magic-links"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ses := &fakeSender{}
			m, err := mailer.New(ses, "Example <no-reply@example.com>", tc.configSet, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SendMagicLink(context.Background(), "de", "user@example.com", link, "ABC123", 15*time.Minute); err != nil {
				t.Fatal(err)
			}
			if len(ses.calls) != 1 {
				t.Fatalf("%d SendEmail calls, want 1", len(ses.calls))
			}
			in := ses.calls[0]
			want, _ := m.Render("de", "user@example.com", link, "ABC123", 15*time.Minute)
			if want.Lang != "de" || !strings.HasPrefix(want.Subject, "Ihr Anmeldelink") {
				t.Fatalf("rendered %q %q, want the German mail", want.Lang, want.Subject)
			}
			if aws.ToString(in.FromEmailAddress) != "Example <no-reply@example.com>" {
				t.Errorf("From %q", aws.ToString(in.FromEmailAddress))
			}
			if in.Destination == nil || len(in.Destination.ToAddresses) != 1 || in.Destination.ToAddresses[0] != "user@example.com" ||
				len(in.Destination.CcAddresses)+len(in.Destination.BccAddresses) != 0 {
				t.Errorf("Destination %+v", in.Destination)
			}
			s := in.Content.Simple
			if s == nil || in.Content.Raw != nil || in.Content.Template != nil {
				t.Fatalf("content is not a simple message: %+v", in.Content)
			}
			check := func(what string, c *types.Content, want string) {
				if c == nil || aws.ToString(c.Data) != want || aws.ToString(c.Charset) != "UTF-8" {
					t.Errorf("%s = %+v, want %q in UTF-8", what, c, want)
				}
			}
			check("Subject", s.Subject, want.Subject)
			check("Text", s.Body.Text, want.Text)
			check("Html", s.Body.Html, want.HTML)
			if got := aws.ToString(in.ConfigurationSetName); got != tc.configSet {
				t.Errorf("ConfigurationSetName %q, want %q", got, tc.configSet)
			}
		})
	}
}

func TestSendMagicLinkError(t *testing.T) {
	t.Parallel()
	cause := &types.MessageRejected{Message: aws.String("Email address is not verified.")}
	m, err := mailer.New(&fakeSender{err: cause}, "no-reply@example.com", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.SendMagicLink(context.Background(), "en", "user@example.com", link, "", time.Minute)
	var rejected *types.MessageRejected
	if !errors.As(err, &rejected) || rejected != cause {
		t.Fatalf("error %v does not wrap the SES error", err)
	}
}
