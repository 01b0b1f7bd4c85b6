package e2e

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"magiclinks/web"
)

// btLanguage makes the tab's browser ask for acceptLanguage (before
// navigating), keeping its own user agent unless ua is given.
func btLanguage(acceptLanguage, ua string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if ua == "" {
			v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
			if err != nil {
				return err
			}
			ua = v
		}
		_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: acceptLanguage})
		return err
	})
}

// btEnglishLeft returns the English messages of the pages (web/i18n/en.json,
// the parts around any {placeholder}, of three words or more) that the
// tab's visible text still shows: in a German page, none should.
func btEnglishLeft(t *testing.T, ctx context.Context) []string {
	t.Helper()
	b, err := fs.ReadFile(web.FS, "i18n/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]map[string]string
	if err := json.Unmarshal(b, &en); err != nil {
		t.Fatal(err)
	}
	text := btRun(t, ctx, "the page's visible text", chromedp.Evaluate[string](`document.body.innerText`))
	var left []string
	for _, section := range en {
		for _, msg := range section {
			for _, part := range regexp.MustCompile(`\{[A-Za-z]+\}`).Split(msg, -1) {
				if part = strings.TrimSpace(part); len(strings.Fields(part)) >= 3 && strings.Contains(text, part) {
					left = append(left, part)
				}
			}
		}
	}
	return left
}

// btGermanOnly checks the tab shows a German page with no English message.
func btGermanOnly(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	if l := btRun(t, ctx, "<html lang>", chromedp.Evaluate[string](`document.documentElement.lang`)); l != "de" {
		t.Errorf("%s: <html lang=%q>, want de", where, l)
	}
	if left := btEnglishLeft(t, ctx); len(left) > 0 {
		t.Errorf("%s: English on the German page: %q", where, left)
	}
}

// btGermanState checks the tab's current view: German only, nothing
// wider than a 320 px phone (a German word that does not wrap would push
// the page sideways), and screenshots at desktop and phone size. The
// bound is the 320 px set here, not clientWidth: a mobile browser widens
// its layout viewport to content that overflows (and an element's box may
// fit while its text spills out of it).
func btGermanState(t *testing.T, ctx context.Context, where, shot string) {
	t.Helper()
	btGermanOnly(t, ctx, where)
	btDo(t, ctx, "a small phone", chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	if over := btRun(t, ctx, "elements wider than the screen", chromedp.Evaluate[string](
		`document.documentElement.scrollWidth <= 320 ? '' : 'the page is ' + document.documentElement.scrollWidth + ' px wide: ' +
		  [...document.querySelectorAll('body *')].filter(e => e.getClientRects().length &&
		    (e.getBoundingClientRect().right > 320.5 || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)))
		  .map(e => e.tagName + '#' + e.id + ' ' + JSON.stringify(e.textContent.trim().slice(0, 40))).join('; ')`)); over != "" {
		t.Errorf("%s at 320 px: wider than the screen: %s", where, over)
	}
	btDo(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 860))
	if shot != "" {
		btShots(t, ctx, shot)
	}
}

// A person whose browser asks for German: the form, the waiting page, the
// mail, the link's page on another device, approving and the signed-in
// page all speak German, and the words fit at desktop and phone size.
func TestBrowserGerman(t *testing.T) {
	btRequireChromium(t)
	s := startServer(t, map[string]string{"SIGN_UP": "auto", "RESEND_INTERVAL": "0s"})
	chromium := btNewBrowser(t, "chromium")
	const german = "de-CH,de;q=0.9,en;q=0.5"
	a, b := chromium.device("A (asks, in German)"), chromium.device("B (has the mail, in German)")
	btDo(t, a.ctx, "A speaks German", btLanguage(german, ""))
	btDo(t, b.ctx, "B speaks German", btLanguage(german, ""))
	const jonas = "jonas.mueller-luedenscheidt@example.com" // a long address, as real ones are

	btDo(t, a.ctx, "opening /", chromedp.Navigate(s.URL+"/"))
	if state := btSettle(t, a.ctx); state != "request" {
		t.Fatalf("GET /: state %q, want the form", state)
	}
	if got := btText(t, a.ctx, "submit"); got != "Anmeldelink senden" {
		t.Errorf("the form's button says %q", got)
	}
	btGermanState(t, a.ctx, "the form", "30-de-form")

	// What the script says is German too: an address the page refuses.
	btDo(t, a.ctx, "typing half an address", chromedp.SendKeys(chromedp.ID("email"), "jonas@\r"))
	if got := btText(t, a.ctx, "email-error"); got != "Geben Sie eine Adresse wie name@example.com ein." {
		t.Errorf("a half address: the page says %q", got)
	}
	btDo(t, a.ctx, "clearing the address", btClear("email"))

	number := btAsk(t, a.ctx, s, jonas)
	if got := btText(t, a.ctx, "sent-title"); got != "Prüfen Sie Ihr Postfach" {
		t.Errorf("after asking: heading %q", got)
	}
	if got := btText(t, a.ctx, "wait-status"); got != "Warten auf das andere Gerät…" {
		t.Errorf("while waiting: %q", got)
	}
	btGermanState(t, a.ctx, "the waiting page", "31-de-waiting")

	// The page's POST /login carried the browser's language: the mail is
	// German as well.
	res, err := http.Get(s.URL + "/local/outbox?to=" + url.QueryEscape(jonas))
	if err != nil {
		t.Fatal(err)
	}
	var mails []struct{ Lang, Subject string }
	_ = json.NewDecoder(res.Body).Decode(&mails)
	res.Body.Close()
	if len(mails) != 1 || mails[0].Lang != "de" {
		t.Errorf("the mail asked for by the German page: %+v, want one in de", mails)
	}

	// A mistyped code: the script's own message, in German.
	btDo(t, a.ctx, "typing a wrong code", chromedp.SendKeys(chromedp.ID("code"), "ZZZ-ZZZ\r"))
	if state := btSettle(t, a.ctx, "waiting"); state != "code-wrong" {
		t.Fatalf("a wrong code: state %q, want code-wrong", state)
	}
	if got := btText(t, a.ctx, "code-error"); !strings.HasPrefix(got, "Dieser Code hat nicht funktioniert.") {
		t.Errorf("a wrong code: the page says %q", got)
	}
	btGermanState(t, a.ctx, "the wrong code", "32-de-code-wrong")

	link := btLatestLink(t, s, jonas)
	btDo(t, b.ctx, "B opens the link", chromedp.Navigate(link))
	if state := btSettle(t, b.ctx); state != "confirm" {
		t.Fatalf("B: state %q, want confirm", state)
	}
	if got := btText(t, b.ctx, "continue"); got != "Auf diesem Gerät anmelden" {
		t.Errorf("B's button says %q", got)
	}
	btGermanState(t, b.ctx, "the link's page", "33-de-link-choices")

	btDo(t, b.ctx, "B chooses to approve", chromedp.Click(chromedp.ID("approve-start")))
	if state := btSettle(t, b.ctx, "confirm"); state != "approve" {
		t.Fatalf("B after Bestätigen…: state %q, want approve", state)
	}
	btDo(t, b.ctx, "B types one digit", chromedp.SendKeys(chromedp.ID("number"), "7\r"))
	if got := btText(t, b.ctx, "number-error"); got != "Geben Sie die zwei Ziffern ein, die Ihr anderes Gerät zeigt." {
		t.Errorf("one digit: the page says %q", got)
	}
	btGermanState(t, b.ctx, "approving", "34-de-approve-number")
	btDo(t, b.ctx, "B types A's number", btClear("number"), chromedp.SendKeys(chromedp.ID("number"), number+"\r"))
	if state := btSettle(t, b.ctx, "approve"); state != "approved" {
		t.Fatalf("B after approving: state %q (%s)", state, btText(t, b.ctx, "error-title"))
	}
	btGermanState(t, b.ctx, "approved", "35-de-approved")

	if state := btSettle(t, a.ctx, "code-wrong", "waiting"); state != "signed-in-checked" {
		t.Fatalf("A after B approved: state %q (%s)", state, btText(t, a.ctx, "sent-end-text"))
	}
	if got := btText(t, a.ctx, "signed-in-title"); got != "Sie sind angemeldet" {
		t.Errorf("A signed in: heading %q", got)
	}
	btGermanState(t, a.ctx, "signed in", "36-de-signed-in")

	// The spent link, opened again and chosen: the error page.
	btDo(t, b.ctx, "B opens the spent link", chromedp.Navigate("about:blank"), chromedp.Navigate(link))
	if state := btSettle(t, b.ctx); state != "confirm" {
		t.Fatalf("the spent link: state %q, want confirm", state)
	}
	btDo(t, b.ctx, "B signs in with it", chromedp.Click(chromedp.ID("continue")))
	if state := btSettle(t, b.ctx, "confirm"); state != "error-used" {
		t.Fatalf("the spent link: state %q, want error-used", state)
	}
	if got := btText(t, b.ctx, "error-title"); got != "Dieser Link ist abgelaufen oder wurde bereits verwendet" {
		t.Errorf("the spent link: heading %q", got)
	}
	btGermanState(t, b.ctx, "the spent link", "37-de-link-used")

	// Inside Instagram on an iPhone: the longest texts, on the narrowest screen.
	btRequestLink(t, s, jonas)
	d := chromium.device("Instagram on iOS, in German")
	btDo(t, d.ctx, "opening the link inside Instagram",
		btLanguage(german, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.22.98 (iPhone14,5; iOS 17_5; de_DE; de; scale=3.00; 1170x2532; 605187680)"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Navigate(btLatestLink(t, s, jonas)))
	if state := btSettle(t, d.ctx); state != "confirm-inapp" {
		t.Fatalf("Instagram: state %q, want confirm-inapp", state)
	}
	if got := btText(t, d.ctx, "inapp-note"); got != "Sie haben den Link in Instagram geöffnet. Wenn Sie sich hier anmelden, sind Sie nur in Instagram angemeldet." {
		t.Errorf("Instagram: the note says %q", got)
	}
	btGermanState(t, d.ctx, "inside Instagram", "")
	btDo(t, d.ctx, "phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	btScreenshot(t, d.ctx, "38-de-inapp-ios-phone")

	a.checkConsole()
	b.checkConsole()
	d.checkConsole()
}
