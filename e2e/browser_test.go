package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser test drives Debian's Chromium (scripts/install-chromium.sh;
// never a downloaded browser) through the real binary and the local stack:
// a person asks for a link and follows it in the same browser (signed in at
// once), opens it again (used), and a "mail scanner" — a fresh browser that
// never asked — opens a link and must not spend it until someone clicks.
// Then the other devices (TestBrowserCrossDevice): one browser asks and
// waits, another opens the link and approves with the number the first one
// shows, or the code is typed where the sign-in began. Screenshots of every
// state, at desktop and phone sizes, land in e2e/screenshots/ (git-ignored).

const chromiumPath = "/usr/bin/chromium"

// requireChromium skips loudly without Chromium, and fails in CI, where a
// silently skipped browser test would prove nothing.
func btRequireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := fmt.Sprintf("BROWSER TEST NOT RUN: %s is missing. Install Debian's chromium with scripts/install-chromium.sh (apt-get), then run go test ./e2e/ again.", chromiumPath)
	fmt.Fprintf(os.Stderr, "\n%s\n!!! %s\n%s\n\n", strings.Repeat("!", 78), msg, strings.Repeat("!", 78))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// browser is one Chromium process with its own fresh profile, so two
// browsers share no localStorage: one is the person's, one the scanner's.
type btBrowser struct {
	t    *testing.T
	name string
	ctx  context.Context // the first tab

	mu      sync.Mutex
	console []string // exceptions and CSP violations seen in any tab
}

func btNewBrowser(t *testing.T, name string) *btBrowser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these Chromium phones home, and this closed network
		// refuses it.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	b := &btBrowser{t: t, name: name, ctx: ctx}
	b.watchConsole(ctx)
	return b
}

// tab opens a new tab in this browser: it shares localStorage with the
// others but has its own sessionStorage, like a link opened from a mail app.
func (b *btBrowser) tab() context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening a tab: %v", err)
	}
	b.watchConsole(ctx)
	return ctx
}

// watchConsole records uncaught exceptions and Content-Security-Policy
// violations: either means the page is broken in a way its text may hide.
func (b *btBrowser) watchConsole(ctx context.Context) {
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
}

func (b *btBrowser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		b.t.Errorf("%s browser console: %s", b.name, m)
	}
	b.console = nil
}

// do runs steps in ctx's tab with a bound on the wait.
func btDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func btRun[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// settle waits until the page has reached a state it stays in (the pages
// put their state in body[data-state]), other than any of not, and returns
// it. Pass the state before a click, so the wait is for what the click did.
func btSettle(t *testing.T, ctx context.Context, not ...string) string {
	t.Helper()
	skip, _ := json.Marshal(append([]string{"", "working", "signed-in", "signing-out", "approving"}, not...))
	expr := `(s => ` + string(skip) + `.includes(s) ? null : s)(document.body.dataset.state || '')`
	deadline := time.Now().Add(15 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, time.Until(deadline))
		state, err := chromedp.Run(tctx, chromedp.Poll[string](expr))
		cancel()
		if err == nil {
			return state
		}
		// A click that navigates destroys the page the poll ran in (the
		// error then says "context" or "navigated"); poll the new one.
		if time.Now().After(deadline) {
			t.Fatalf("waiting for the page to settle: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func btText(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return strings.TrimSpace(btRun(t, ctx, "reading #"+id, chromedp.TextContent(chromedp.ID(id))))
}

func btScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := btRun(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := "screenshots"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: e2e/%s", path)
}

// btNewestText is the text part of the newest mail to addr in the local
// outbox.
func btNewestText(t *testing.T, s *server, addr string) string {
	t.Helper()
	mails := s.mails(t, addr)
	if len(mails) == 0 {
		t.Fatalf("no mail to %s in the outbox", addr)
	}
	return mails[len(mails)-1].Text
}

// latestLink reads the newest link mailed to addr from the local outbox.
func btLatestLink(t *testing.T, s *server, addr string) string {
	t.Helper()
	linkRE := regexp.MustCompile(regexp.QuoteMeta(s.URL+"/sign-in#") + `[^\s<>"]+`)
	l := linkRE.FindString(btNewestText(t, s, addr))
	if l == "" {
		t.Fatalf("the newest mail to %s has no sign-in link", addr)
	}
	return l
}

// requestLink asks for a link as a script would, with no browser involved.
func btRequestLink(t *testing.T, s *server, addr string) {
	t.Helper()
	res, err := http.Post(s.URL+"/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email":%q}`, addr)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /login = %d, want 202", res.StatusCode)
	}
}

// tokens are what the page keeps in sessionStorage.
type btTokens struct {
	IDToken     string `json:"idToken"`
	AccessToken string `json:"accessToken"`
}

func btSessionTokens(t *testing.T, ctx context.Context) (btTokens, bool) {
	t.Helper()
	raw := btRun(t, ctx, "reading sessionStorage", chromedp.Evaluate[string](`sessionStorage.getItem('magiclinks.tokens') || ''`))
	if raw == "" {
		return btTokens{}, false
	}
	var tk btTokens
	if err := json.Unmarshal([]byte(raw), &tk); err != nil {
		t.Fatalf("sessionStorage tokens: %v", err)
	}
	return tk, true
}

// me calls GET /me from Go with token.
func btMe(t *testing.T, s *server, token string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &body)
	return res.StatusCode, body
}

// cognitoCall posts one operation to the local Cognito stand-in, as the page
// does, and returns the status and the error type, if any.
func btCognitoCall(t *testing.T, s *server, op string, input any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(input)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/local/cognito", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Type string `json:"__type"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body.Type
}

func TestBrowserSignIn(t *testing.T) {
	btRequireChromium(t)
	s := startServer(t, map[string]string{"SIGN_UP": "auto", "RESEND_INTERVAL": "0s"})

	person := btNewBrowser(t, "person")
	const alice = "alice@example.com"

	// 1. The form: type the address (with the keyboard) and submit.
	ctx := person.ctx
	btDo(t, ctx, "opening /", chromedp.Navigate(s.URL+"/"))
	if state := btSettle(t, ctx); state != "request" {
		t.Fatalf("GET /: state %q, want the form", state)
	}
	btScreenshot(t, ctx, "01-form")
	btDo(t, ctx, "typing the address and pressing Enter",
		chromedp.Click(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "  Alice@Example.com\r"),
	)
	// The dev server offers approvals: the page waits for one.
	if state := btSettle(t, ctx, "request"); state != "waiting" {
		t.Fatalf("after submitting: state %q (%s), want waiting", state, btText(t, ctx, "status"))
	}
	if got := btText(t, ctx, "sent-title"); got != "Check your inbox" {
		t.Errorf("after submitting: heading %q, want \"Check your inbox\"", got)
	}
	if got := btText(t, ctx, "sent-email"); got != alice {
		t.Errorf("the page says it sent to %q, want %q", got, alice)
	}
	btScreenshot(t, ctx, "02-check-inbox")

	// 2. The link from the outbox, in the same browser: the marker is there,
	// so it signs in at once, and the fragment is gone from the address bar.
	link := btLatestLink(t, s, alice)
	btDo(t, ctx, "opening the link", chromedp.Navigate(link))
	if state := btSettle(t, ctx); state != "signed-in-checked" {
		t.Fatalf("after opening the link in the browser that asked for it: state %q (%s: %s), want signed-in-checked",
			state, btText(t, ctx, "error-title"), btText(t, ctx, "error-text"))
	}
	if loc := btRun(t, ctx, "location", chromedp.Location()); loc != s.URL+"/sign-in" {
		t.Errorf("location after sign-in = %q, want the page without its fragment", btRedact(loc))
	}
	if got := btRun(t, ctx, "location.hash", chromedp.Evaluate[string](`location.hash`)); got != "" {
		t.Errorf("location.hash = %q, want empty", btRedact(got))
	}
	if got := btText(t, ctx, "who"); got != alice {
		t.Errorf("signed in as %q, want %q", got, alice)
	}
	if got := btText(t, ctx, "me-email"); got != alice {
		t.Errorf("the /me answer on the page shows email %q, want %q", got, alice)
	}
	sub := btText(t, ctx, "me-sub")
	if len(sub) < 8 {
		t.Errorf("the /me answer on the page shows sub %q", sub)
	}
	btScreenshot(t, ctx, "03-signed-in")

	// The tokens the page keeps work for /me from anywhere: the ID token the
	// page used, and the access token.
	tk, ok := btSessionTokens(t, ctx)
	if !ok {
		t.Fatal("no tokens in sessionStorage after sign-in")
	}
	for name, token := range map[string]string{"ID token": tk.IDToken, "access token": tk.AccessToken} {
		status, body := btMe(t, s, token)
		if status != http.StatusOK || body["sub"] != sub {
			t.Errorf("GET /me with the %s = %d %v, want 200 with sub %s", name, status, body, sub)
		}
	}
	if status, _ := btMe(t, s, tk.IDToken+"x"); status != http.StatusUnauthorized {
		t.Errorf("GET /me with a tampered token = %d, want 401", status)
	}

	// 3. The same link again, as a second click in the mail (a new tab): used.
	again := person.tab()
	btDo(t, again, "opening the used link", chromedp.Navigate(link))
	if state := btSettle(t, again); state != "error-used" {
		t.Fatalf("reopening a used link: state %q, want error-used", state)
	}
	if got := btText(t, again, "error-title"); got != "This link has expired or was already used" {
		t.Errorf("used link: heading %q", got)
	}
	newLink := btRun(t, again, "new-link href", chromedp.Evaluate[string](`document.getElementById('new-link').href`))
	if newLink != s.URL+"/#email=alice%40example.com" {
		t.Errorf("\"Email me a new link\" goes to %q, want the form with the address only", btRedact(newLink))
	}
	btScreenshot(t, again, "04-link-used")

	// ...and "Email me a new link" brings the address back to the form.
	btDo(t, again, "following \"Email me a new link\"", chromedp.Click(chromedp.ID("new-link")))
	if state := btSettle(t, again, "error-used"); state != "request" {
		t.Fatalf("after \"Email me a new link\": state %q, want the form", state)
	}
	if got := btRun(t, again, "prefilled address", chromedp.Value(chromedp.ID("email"))); got != alice {
		t.Errorf("the form is prefilled with %q, want %q", got, alice)
	}
	if loc := btRun(t, again, "location", chromedp.Location()); loc != s.URL+"/" {
		t.Errorf("the form's location = %q, want the address dropped from it", loc)
	}

	// 4. Sign out: the tokens leave sessionStorage and Cognito revokes the
	// access token.
	btDo(t, ctx, "signing out", chromedp.Click(chromedp.ID("sign-out")))
	if state := btSettle(t, ctx, "signed-in-checked"); state != "signed-out" {
		t.Fatalf("after Sign out: state %q, want signed-out", state)
	}
	if _, ok := btSessionTokens(t, ctx); ok {
		t.Error("tokens still in sessionStorage after signing out")
	}
	if status, typ := btCognitoCall(t, s, "GetUser", map[string]string{"AccessToken": tk.AccessToken}); status != 400 || typ != "NotAuthorizedException" {
		t.Errorf("Cognito GetUser with the signed-out access token = %d %s, want 400 NotAuthorizedException", status, typ)
	}
	btScreenshot(t, ctx, "05-signed-out")

	// 5. Broken links: cut short, or no fragment at all.
	broken := person.tab()
	btDo(t, broken, "opening a cut-off link", chromedp.Navigate(s.URL+"/sign-in#carol%40example.com,abc"))
	if state := btSettle(t, broken); state != "error-malformed" {
		t.Errorf("cut-off link: state %q, want error-malformed", state)
	}
	if got := btText(t, broken, "error-title"); got != "This link is incomplete" {
		t.Errorf("cut-off link: heading %q", got)
	}
	btScreenshot(t, broken, "06-link-malformed")
	btDo(t, broken, "opening /sign-in bare", chromedp.Navigate("about:blank"), chromedp.Navigate(s.URL+"/sign-in"))
	if state := btSettle(t, broken); state != "error-missing" {
		t.Errorf("/sign-in without a link: state %q, want error-missing", state)
	}
	person.checkConsole()

	// 6. The scanner: a fresh browser that never asked opens a fresh link.
	// It must stop at "Continue as …" without spending the link.
	scanner := btNewBrowser(t, "scanner")
	const dave = "dave+scan@example.com" // '+' must survive url.QueryEscape and the page's decoding
	btRequestLink(t, s, dave)
	link = btLatestLink(t, s, dave)
	sctx := scanner.ctx
	btDo(t, sctx, "opening the link in a fresh browser", chromedp.Navigate(link))
	if state := btSettle(t, sctx); state != "confirm" {
		t.Fatalf("a browser without the marker: state %q, want confirm", state)
	}
	if got := btText(t, sctx, "continue"); got != "Sign in on this device" {
		t.Errorf("the button says %q, want %q", got, "Sign in on this device")
	}
	if got := btText(t, sctx, "confirm-email"); got != dave {
		t.Errorf("the page names %q, want %q", got, dave)
	}
	btVisible(t, sctx, "approve-start", true)
	if loc := btRun(t, sctx, "location", chromedp.Location()); loc != s.URL+"/sign-in" {
		t.Errorf("location = %q, want the fragment dropped before any click", btRedact(loc))
	}
	btScreenshot(t, sctx, "07-continue-as")
	btDo(t, sctx, "phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	btScreenshot(t, sctx, "08-continue-as-phone")
	btDo(t, sctx, "desktop viewport", chromedp.EmulateViewport(1280, 860))

	// The network fails on the click: a retryable message, and the link
	// is still good afterwards.
	offline := func(off bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			var rules []*network.Conditions
			if off {
				rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
			}
			_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules})
			return err
		})
	}
	btDo(t, sctx, "going offline and pressing Continue", offline(true), chromedp.Click(chromedp.ID("continue")))
	if state := btSettle(t, sctx, "confirm"); state != "error-network" {
		t.Fatalf("Continue while offline: state %q, want error-network", state)
	}
	btScreenshot(t, sctx, "09-network-failure")
	btDo(t, sctx, "back online, pressing Try again (keyboard)", offline(false),
		chromedp.Focus(chromedp.ID("retry")),
		chromedp.KeyEvent("\r"),
	)
	if state := btSettle(t, sctx, "error-network"); state != "signed-in-checked" {
		t.Fatalf("Try again after the network came back: state %q (%s), want signed-in-checked — was the link spent before the click?",
			state, btText(t, sctx, "error-title"))
	}
	if got := btText(t, sctx, "me-email"); got != dave {
		t.Errorf("the /me answer shows %q, want %q", got, dave)
	}
	btScreenshot(t, sctx, "10-signed-in-after-continue")
	btDo(t, sctx, "phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	btScreenshot(t, sctx, "11-signed-in-phone")
	scanner.checkConsole()
}

// redact keeps a link's challenge out of test output.
func btRedact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Fragment == "" {
		return s
	}
	u.Fragment = "…"
	return u.String()
}

// device is another person's device, or another browser of the same
// person: a new BrowserContext of b's Chromium, sharing no storage with any
// other (no marker, no tokens) — cheaper than a second Chromium.
func (b *btBrowser) device(name string) *btBrowser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening %s: %v", name, err)
	}
	d := &btBrowser{t: b.t, name: name, ctx: ctx}
	d.watchConsole(ctx)
	return d
}

// btShots screenshots the page at desktop and at phone size.
func btShots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	btScreenshot(t, ctx, name+"-desktop")
	btDo(t, ctx, "phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	btScreenshot(t, ctx, name+"-phone")
	btDo(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 860))
}

// btVisible checks whether the element with id is shown.
func btVisible(t *testing.T, ctx context.Context, id string, want bool) {
	t.Helper()
	got := btRun(t, ctx, "is #"+id+" visible", chromedp.Evaluate[bool](
		`(e => !!e && e.getClientRects().length > 0)(document.getElementById(`+strconv.Quote(id)+`))`))
	if got != want {
		t.Errorf("#%s visible = %v, want %v", id, got, want)
	}
}

// btClear empties an input a person typed in (chromedp.Clear resets only the
// value attribute, which a typed-in input no longer shows).
func btClear(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(e => (e.value = '', true))(document.getElementById(`+strconv.Quote(id)+`))`))
		return err
	})
}

// btUserAgent makes the tab's browser say it is ua (before navigating).
func btUserAgent(ua string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
		return err
	})
}

// btLatestCode reads the XXX-XXX code from the newest mail to addr: the
// line of its own in the text part.
func btLatestCode(t *testing.T, s *server, addr string) string {
	t.Helper()
	codeRE := regexp.MustCompile(`(?m)^\s+([0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3})\s*$`)
	m := codeRE.FindStringSubmatch(btNewestText(t, s, addr))
	if m == nil {
		t.Fatalf("the newest mail to %s has no code", addr)
	}
	return m[1]
}

// btAsk types addr on / in ctx's tab and waits until the page shows the
// number and waits for an approval; it returns the number.
func btAsk(t *testing.T, ctx context.Context, s *server, addr string) string {
	t.Helper()
	btDo(t, ctx, "opening /", chromedp.Navigate(s.URL+"/"))
	if state := btSettle(t, ctx); state != "request" {
		t.Fatalf("GET /: state %q, want the form", state)
	}
	btDo(t, ctx, "asking for a link", chromedp.SendKeys(chromedp.ID("email"), addr+"\r"))
	if state := btSettle(t, ctx, "request"); state != "waiting" {
		t.Fatalf("after asking: state %q, want waiting", state)
	}
	number := btText(t, ctx, "number")
	if !regexp.MustCompile(`^[0-9]{2}$`).MatchString(number) {
		t.Fatalf("the waiting page shows number %q, want two digits", number)
	}
	return number
}

// btHandleKeptOnlyInMemory finds the request handle in the URLs the page
// polled and checks it is nowhere else a page or a later visitor could read:
// not in storage, the address bar, history or cookies.
func btHandleKeptOnlyInMemory(t *testing.T, ctx context.Context) {
	t.Helper()
	handle := btRun(t, ctx, "waiting for the first poll", chromedp.Poll[string](
		`(performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)
		  .find(p => p.startsWith('/login/')) || '').slice('/login/'.length) || null`))
	if len(handle) < 22 {
		t.Fatalf("the waiting page polled no GET /login/{request} (handle %q)", handle)
	}
	where := btRun(t, ctx, "storage, address and history", chromedp.Evaluate[string](
		`JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), location.href,
		  JSON.stringify(history.state), document.cookie])`))
	if strings.Contains(where, handle) {
		t.Errorf("the request handle is stored or shown outside the page's memory: %s", where)
	}
}

func TestBrowserCrossDevice(t *testing.T) {
	btRequireChromium(t)
	s := startServer(t, map[string]string{"SIGN_UP": "auto", "RESEND_INTERVAL": "0s"})
	cfg := struct{ CrossDevice, Codes bool }{}
	if res, err := http.Get(s.URL + "/config.json"); err != nil {
		t.Fatal(err)
	} else {
		_ = json.NewDecoder(res.Body).Decode(&cfg)
		res.Body.Close()
	}
	if !cfg.CrossDevice || !cfg.Codes {
		t.Fatalf("/config.json under the dev server: crossDevice %v, codes %v; want both", cfg.CrossDevice, cfg.Codes)
	}
	chromium := btNewBrowser(t, "chromium")

	t.Run("approved from another device", func(t *testing.T) {
		a, b := chromium.device("A (asks)"), chromium.device("B (has the mail)")
		const erin = "erin@example.com"
		number := btAsk(t, a.ctx, s, erin)
		btVisible(t, a.ctx, "code-form", true)
		btShots(t, a.ctx, "12-waiting")
		btHandleKeptOnlyInMemory(t, a.ctx)

		btDo(t, b.ctx, "B opens the link", chromedp.Navigate(btLatestLink(t, s, erin)))
		if state := btSettle(t, b.ctx); state != "confirm" {
			t.Fatalf("B: state %q, want confirm (never spent on load)", state)
		}
		btVisible(t, b.ctx, "inapp-note", false)
		btVisible(t, b.ctx, "open-elsewhere", false)
		btShots(t, b.ctx, "13-link-choices")
		btDo(t, b.ctx, "B chooses to approve", chromedp.Click(chromedp.ID("approve-start")))
		if state := btSettle(t, b.ctx, "confirm"); state != "approve" {
			t.Fatalf("B after Approve…: state %q, want approve", state)
		}
		if got := btText(t, b.ctx, "approve-email"); got != erin {
			t.Errorf("B approves for %q, want %q", got, erin)
		}
		// A wrong format is caught on the page, costing the request nothing.
		btDo(t, b.ctx, "B types one digit", chromedp.SendKeys(chromedp.ID("number"), "7\r"))
		if got := btText(t, b.ctx, "number-error"); !strings.Contains(got, "two digits") {
			t.Errorf("one digit: the page says %q, want it to ask for two digits", got)
		}
		btShots(t, b.ctx, "14-approve-number")
		btDo(t, b.ctx, "B types A's number", btClear("number"),
			chromedp.SendKeys(chromedp.ID("number"), number+"\r"))
		if state := btSettle(t, b.ctx, "approve"); state != "approved" {
			t.Fatalf("B after approving: state %q (%s: %s), want approved", state,
				btText(t, b.ctx, "error-title"), btText(t, b.ctx, "error-text"))
		}
		if got := btText(t, b.ctx, "approved-text"); !strings.Contains(got, "Go back to your other device") {
			t.Errorf("B says %q after approving", got)
		}
		btShots(t, b.ctx, "15-approved")

		// A signs in by itself: nobody touches it.
		if state := btSettle(t, a.ctx, "waiting"); state != "signed-in-checked" {
			t.Fatalf("A after B approved: state %q (%s), want signed-in-checked", state, btText(t, a.ctx, "sent-end-text"))
		}
		if got := btText(t, a.ctx, "me-email"); got != erin {
			t.Errorf("A: /me shows %q, want %q", got, erin)
		}
		if _, ok := btSessionTokens(t, a.ctx); !ok {
			t.Error("A: no tokens after the approval")
		}
		btShots(t, a.ctx, "16-signed-in-by-approval")
		// B holds no tokens: it approved, it did not sign in.
		if _, ok := btSessionTokens(t, b.ctx); ok {
			t.Error("B holds tokens after only approving")
		}
		a.checkConsole()
		b.checkConsole()
	})

	t.Run("the code typed where the sign-in began", func(t *testing.T) {
		a := chromium.device("A (types the code)")
		const frank = "frank@example.com"
		btAsk(t, a.ctx, s, frank)
		code := btLatestCode(t, s, frank)

		// A mistyped code first: said plainly, and the page keeps waiting.
		wrong := []byte(code)
		wrong[0] = map[bool]byte{true: 'Z', false: 'Y'}[wrong[0] != 'Z']
		btDo(t, a.ctx, "typing a wrong code", chromedp.SendKeys(chromedp.ID("code"), string(wrong)+"\r"))
		if state := btSettle(t, a.ctx, "waiting"); state != "code-wrong" {
			t.Fatalf("a wrong code: state %q, want code-wrong", state)
		}
		if got := btText(t, a.ctx, "code-error"); !strings.Contains(got, "did not work") {
			t.Errorf("a wrong code: the page says %q", got)
		}
		btVisible(t, a.ctx, "number-panel", true)
		btShots(t, a.ctx, "17-code-wrong")

		// As a person might type it: lower case, no dash.
		typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
		btDo(t, a.ctx, "typing the code", btClear("code"),
			chromedp.SendKeys(chromedp.ID("code"), typed+"\r"))
		if state := btSettle(t, a.ctx, "code-wrong"); state != "signed-in-checked" {
			t.Fatalf("the code %s typed as %s: state %q (%s)", code, typed, state, btText(t, a.ctx, "code-error"))
		}
		if got := btText(t, a.ctx, "me-email"); got != frank {
			t.Errorf("/me shows %q, want %q", got, frank)
		}
		a.checkConsole()
	})

	t.Run("a wrong number ends the request", func(t *testing.T) {
		a, b := chromium.device("A (asks)"), chromium.device("B (mistypes)")
		const grace = "grace@example.com"
		number := btAsk(t, a.ctx, s, grace)
		wrong := fmt.Sprintf("%02d", (mustAtoi(t, number)+1)%100)

		btDo(t, b.ctx, "B opens the link", chromedp.Navigate(btLatestLink(t, s, grace)))
		if state := btSettle(t, b.ctx); state != "confirm" {
			t.Fatalf("B: state %q, want confirm", state)
		}
		btDo(t, b.ctx, "B approves with a wrong number", chromedp.Click(chromedp.ID("approve-start")),
			chromedp.SendKeys(chromedp.ID("number"), wrong+"\r"))
		if state := btSettle(t, b.ctx, "confirm", "approve"); state != "error-wrong-number" {
			t.Fatalf("B with a wrong number: state %q, want error-wrong-number", state)
		}
		want := "That number didn't match. That sign-in request can't be approved any more; ask for a new link there, or sign in here."
		if got := btText(t, b.ctx, "error-title") + ". " + btText(t, b.ctx, "error-text"); got != want {
			t.Errorf("B says %q, want %q", got, want)
		}
		btVisible(t, b.ctx, "error-sign-in", true)
		btShots(t, b.ctx, "18-wrong-number")

		if state := btSettle(t, a.ctx, "waiting"); state != "ended" {
			t.Fatalf("A after the wrong number: state %q, want ended", state)
		}
		if got := btText(t, a.ctx, "sent-end-text"); !strings.Contains(got, "request has ended") {
			t.Errorf("A says %q", got)
		}
		btVisible(t, a.ctx, "number-panel", false)
		btVisible(t, a.ctx, "code-form", true)
		btShots(t, a.ctx, "19-request-ended")

		// The link still works where it was opened.
		btDo(t, b.ctx, "B signs in here", chromedp.Click(chromedp.ID("error-sign-in")))
		if state := btSettle(t, b.ctx, "error-wrong-number"); state != "signed-in-checked" {
			t.Fatalf("B signing in after the wrong number: state %q (%s)", state, btText(t, b.ctx, "error-title"))
		}
		a.checkConsole()
		b.checkConsole()
	})

	t.Run("in-app browsers", func(t *testing.T) {
		const heidi = "heidi@example.com"
		btRequestLink(t, s, heidi)
		link := btLatestLink(t, s, heidi)
		for _, tc := range []struct {
			name, ua, shot, openButton string
			keepsFragment              bool
		}{
			{"Instagram on iOS",
				"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.22.98 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 605187680)",
				"20-inapp-ios", "open-safari", true},
			{"Facebook on Android",
				"Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.71 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/471.0.0.35.80;]",
				"21-inapp-android", "open-browser", false},
		} {
			d := chromium.device(tc.name)
			btDo(t, d.ctx, tc.name+" opens the link", btUserAgent(tc.ua),
				chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
				chromedp.Navigate(link))
			if state := btSettle(t, d.ctx); state != "confirm-inapp" {
				t.Fatalf("%s: state %q, want confirm-inapp", tc.name, state)
			}
			// The buttons in the order shown, the primary one marked.
			order := btRun(t, d.ctx, "the buttons", chromedp.Evaluate[string](
				`[...document.querySelectorAll('#view-confirm button')].filter(b => b.getClientRects().length)
				  .map(b => b.id + (b.classList.contains('secondary') ? '' : '*')).join(' ')`))
			if want := "approve-start* " + tc.openButton + " copy-link continue"; order != want {
				t.Errorf("%s: buttons %q, want %q (approving first and primary, signing in inside the app last)", tc.name, order, want)
			}
			btVisible(t, d.ctx, "inapp-note", true)
			btVisible(t, d.ctx, tc.openButton, true)
			btVisible(t, d.ctx, "copy-link", true)
			// iOS: "Open in Safari" from the app's menu opens the address
			// shown, so the page puts the link back there (a fragment: no
			// server sees it). Android hands it over with an intent: URL.
			hash := btRun(t, d.ctx, "location.hash", chromedp.Evaluate[string](`location.hash`))
			if (hash != "") != tc.keepsFragment || (tc.keepsFragment && link[strings.Index(link, "#"):] != hash) {
				t.Errorf("%s: location.hash = %q, want the link's fragment: %v", tc.name, btRedact("x:"+hash), tc.keepsFragment)
			}
			btScreenshot(t, d.ctx, tc.shot+"-phone")
			d.checkConsole()
		}
		// Neither spent the link: it still signs in.
		d := chromium.device("the system browser")
		btDo(t, d.ctx, "opening the link after the in-app views", chromedp.Navigate(link))
		if state := btSettle(t, d.ctx); state != "confirm" {
			t.Fatalf("state %q, want confirm", state)
		}
		btDo(t, d.ctx, "signing in", chromedp.Click(chromedp.ID("continue")))
		if state := btSettle(t, d.ctx, "confirm"); state != "signed-in-checked" {
			t.Fatalf("the link after the in-app views: state %q (%s) — was it spent?", state, btText(t, d.ctx, "error-title"))
		}
	})

	t.Run("in-app browsers are told from others by user agent", func(t *testing.T) {
		d := chromium.device("user agents")
		btDo(t, d.ctx, "opening /sign-in", chromedp.Navigate(s.URL+"/sign-in"))
		btSettle(t, d.ctx)
		for ua, want := range map[string]string{
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/471.0]":                        "Facebook",
			"Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/125.0 Mobile Safari/537.36 Line/14.9.0":    "LINE",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI": "WeChat",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/322.0.648915268 Mobile/15E148 Safari/604.1":               "Google app",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.8941":                        "LinkedIn",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/10.48":                       "X",
			"Mozilla/5.0 (Linux; Android 12; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/110.0 Mobile Safari/537.36 musical_ly_2023405040":               "TikTok",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/12.90.0.46 (like Safari/8617.2.4)":     "Snapchat",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]":                                "Pinterest",
			"Mozilla/5.0 (Linux; Android 14; Pixel 8; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0 Mobile Safari/537.36":                            "app",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1":                      "",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1":               "",
			"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36":                                    "",
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36":                                                        "",
		} {
			// The page's own function: importing the module again returns
			// the instance already loaded, without running it twice.
			got := btRun(t, d.ctx, "inAppBrowser", chromedp.Evaluate[string](
				`import('./assets/sign-in.js').then(m => m.inAppBrowser(`+strconv.Quote(ua)+`))`, chromedp.EvalAwaitPromise))
			if got != want {
				t.Errorf("inAppBrowser(%q) = %q, want %q", ua, got, want)
			}
		}
		d.checkConsole()
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
