package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func sendInput(to, subject, text, html string) *sesv2.SendEmailInput {
	body := &sestypes.Body{}
	if text != "" {
		body.Text = &sestypes.Content{Data: aws.String(text)}
	}
	if html != "" {
		body.Html = &sestypes.Content{Data: aws.String(html)}
	}
	return &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Magic Links <no-reply@example.com>"),
		Destination:      &sestypes.Destination{ToAddresses: []string{to}},
		Content:          &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String(subject)}, Body: body}},
	}
}

func getOutbox(t *testing.T, e *testEnv, query string) []Mail {
	t.Helper()
	resp, err := e.srv.Client().Get(e.srv.URL + "/local/outbox" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var mails []Mail
	if err := json.NewDecoder(resp.Body).Decode(&mails); err != nil {
		t.Fatal(err)
	}
	return mails
}

func TestSendEmailThroughSDK(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	out, err := e.ses.SendEmail(ctx, sendInput("ann@example.com", "Your link", "Open https://app/sign-in#a,b", "<a href=\"https://app/sign-in#a,b\">Sign in</a>"))
	if err != nil || aws.ToString(out.MessageId) == "" {
		t.Fatalf("SendEmail: %+v, %v", out, err)
	}
	if _, err := e.ses.SendEmail(ctx, sendInput("bea@example.com", "Second", "text", "")); err != nil {
		t.Fatal(err)
	}

	all := getOutbox(t, e, "")
	if len(all) != 2 || all[0].Subject != "Your link" || all[1].Subject != "Second" {
		t.Fatalf("outbox (newest last): %+v", all)
	}
	m := all[0]
	if m.ID != aws.ToString(out.MessageId) || m.To[0] != "ann@example.com" || m.From != "Magic Links <no-reply@example.com>" ||
		m.Text != "Open https://app/sign-in#a,b" || !strings.Contains(m.HTML, "Sign in") || m.SentAt.IsZero() {
		t.Fatalf("mail: %+v", m)
	}
	if got := getOutbox(t, e, "?to=BEA@example.com"); len(got) != 1 || got[0].Subject != "Second" {
		t.Fatalf("?to filter: %+v", got)
	}

	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/local/outbox", nil)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := getOutbox(t, e, ""); len(got) != 0 {
		t.Fatalf("after DELETE: %d mails", len(got))
	}
}

func TestSendEmailRejectsIncompleteRequests(t *testing.T) {
	e := newTestEnv(t, nil)
	cases := map[string]func(in *sesv2.SendEmailInput){
		"no from":        func(in *sesv2.SendEmailInput) { in.FromEmailAddress = nil },
		"no destination": func(in *sesv2.SendEmailInput) { in.Destination = nil },
		"no recipients":  func(in *sesv2.SendEmailInput) { in.Destination.ToAddresses = nil },
		"no body":        func(in *sesv2.SendEmailInput) { in.Content.Simple.Body = &sestypes.Body{} },
		"bad address":    func(in *sesv2.SendEmailInput) { in.Destination.ToAddresses = []string{"not an address"} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			in := sendInput("ann@example.com", "s", "t", "")
			mutate(in)
			_, err := e.ses.SendEmail(context.Background(), in)
			var bad *sestypes.BadRequestException
			if !errors.As(err, &bad) {
				t.Fatalf("want BadRequestException, got %v", err)
			}
		})
	}
	if got := getOutbox(t, e, ""); len(got) != 0 {
		t.Fatalf("rejected mails reached the outbox: %+v", got)
	}
}

func TestOutboxIsBounded(t *testing.T) {
	o := newOutbox(3)
	for i := range 5 {
		o.add(Mail{ID: fmt.Sprint(i)})
	}
	got := o.list("")
	if len(got) != 3 || got[0].ID != "2" || got[2].ID != "4" {
		t.Fatalf("outbox: %+v", got)
	}
}

func TestMailboxPageEscapesAndLinks(t *testing.T) {
	e := newTestEnv(t, nil)
	link := "http://127.0.0.1:8080/sign-in#a%40example.com,abc"
	_, err := e.ses.SendEmail(context.Background(), sendInput("a@example.com", `<script>alert("s")</script>`,
		"Sign in: "+link+".\n<img src=x onerror=alert(1)>", `<p>Hi</p><script>alert("h")</script>`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/local/mail")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("no CSP on the mailbox page")
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<img") {
		t.Fatalf("unescaped markup from the mail:\n%s", page)
	}
	if !strings.Contains(page, `<a href="`+strings.ReplaceAll(link, "%40", "%40")+`">`) {
		t.Errorf("link not clickable (the trailing dot must not be part of it):\n%s", page)
	}
	if !strings.Contains(page, `sandbox="allow-popups`) || !strings.Contains(page, `srcdoc="&lt;base target=&#34;_top&#34;&gt;&lt;p&gt;Hi`) {
		t.Errorf("HTML body not in a sandboxed srcdoc:\n%s", page)
	}
}

func TestLinkify(t *testing.T) {
	cases := map[string][]segment{
		"":                           nil,
		"no links":                   {{Text: "no links"}},
		"go to https://a.example/x.": {{Text: "go to "}, {Text: "https://a.example/x", URL: "https://a.example/x"}, {Text: "."}},
		"http://a/b#c,d":             {{Text: "http://a/b#c,d", URL: "http://a/b#c,d"}},
		"javascript:alert(1)":        {{Text: "javascript:alert(1)"}},
	}
	for in, want := range cases {
		got := linkify(in)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("linkify(%q) = %v, want %v", in, got, want)
		}
	}
}
