package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"magiclinks/challenge"
	"magiclinks/handlers"
	"magiclinks/logging"
)

// started is a POST /login as the waiting browser sees it.
type started struct {
	Request, Number string
	Secret, Code    string // from the mail, when one was sent
}

func (e *env) start(t *testing.T, email string) started {
	t.Helper()
	n := len(e.mailer.Sent())
	w := e.login(t, email)
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST /login: %d %s", w.Code, w.Body)
	}
	_, req, num := accepted202(t, w)
	s := started{Request: req, Number: num}
	if sent := e.mailer.Sent(); len(sent) > n {
		_, s.Secret = answer(t, sent[len(sent)-1].Link)
		s.Code = sent[len(sent)-1].Code
	}
	return s
}

func (e *env) get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	ctx, line := logging.With(context.Background())
	e.line = line
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	r.RemoteAddr = "192.0.2.1:4711"
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	return w
}

func (e *env) poll(t *testing.T, handle string) (int, map[string]string) {
	t.Helper()
	w := e.get(t, "/login/"+handle)
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET /login/{request}: %d %q: %v", w.Code, w.Body, err)
	}
	return w.Code, body
}

func (e *env) approve(t *testing.T, email, secret, number string) (int, map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "challenge": secret, "number": number})
	ctx, line := logging.With(context.Background())
	e.line = line
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/approve", strings.NewReader(string(b)))
	r.RemoteAddr = "198.51.100.7:4711"
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("POST /approve: %d %q: %v", w.Code, w.Body, err)
	}
	return w.Code, body
}

func otherNumber(n string) string {
	if n == "00" {
		return "01"
	}
	return "00"
}

// TestApprovalFlow: the waiting browser polls pending; the device with the
// link approves with the number it shows; the waiting browser is told the
// one-time answer exactly once, and it signs in once.
func TestApprovalFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	s := e.start(t, "user@example.com")
	if code, body := e.poll(t, s.Request); code != 200 || body["status"] != "pending" || body["answer"] != "" {
		t.Fatalf("poll before approval: %d %v", code, body)
	}
	if e.logged("route") != "GET /login/{request}" || strings.Contains(fmt.Sprint(e.line.Attrs()), s.Request) {
		t.Errorf("log line %v: want the route template and never the handle", e.line.Attrs())
	}
	if code, body := e.approve(t, "User@Example.com", s.Secret, s.Number); code != 200 || body["status"] != "approved" {
		t.Fatalf("approve: %d %v", code, body)
	}
	code, body := e.poll(t, s.Request)
	if code != 200 || body["status"] != "approved" || len(body["answer"]) != challenge.Length {
		t.Fatalf("poll after approval: %d %v", code, body)
	}
	if code, _ := e.poll(t, s.Request); code != http.StatusNotFound {
		t.Errorf("second poll after approval: %d, want 404", code)
	}
	if e.redeem(t, "sub-user", s.Secret) || e.redeem(t, "sub-user", s.Code) {
		t.Error("approving did not spend the link and its code")
	}
	if !e.redeem(t, "sub-user", body["answer"]) {
		t.Fatal("the approved answer does not sign in")
	}
	if e.redeem(t, "sub-user", body["answer"]) {
		t.Fatal("the approved answer signs in twice")
	}
	if code, b := e.approve(t, "user@example.com", s.Secret, s.Number); code != http.StatusGone || b["error"] != "link_expired" {
		t.Errorf("approving with the spent link: %d %v, want 410 link_expired", code, b)
	}
}

func TestApprovalWrongNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	s := e.start(t, "user@example.com")
	if code, b := e.approve(t, "user@example.com", s.Secret, otherNumber(s.Number)); code != http.StatusConflict || b["error"] != "wrong_number" {
		t.Fatalf("wrong number: %d %v, want 409 wrong_number", code, b)
	}
	if code, b := e.approve(t, "user@example.com", s.Secret, s.Number); code != http.StatusConflict {
		t.Fatalf("the right number after a wrong one: %d %v, want 409: the request is void", code, b)
	}
	if code, _ := e.poll(t, s.Request); code != http.StatusNotFound {
		t.Errorf("poll of a void request: %d, want 404", code)
	}
	if !e.redeem(t, "sub-user", s.Secret) {
		t.Error("the link stopped working after a wrong number")
	}
}

func TestApprovalUnknownLinkOrAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	s := e.start(t, "user@example.com")
	forged := strings.Repeat("f", challenge.Length)
	for name, c := range map[string][2]string{
		"unknown link":    {"user@example.com", forged},
		"other address":   {"nobody@example.com", s.Secret},
		"unknown, forged": {"nobody@example.com", forged},
	} {
		if code, b := e.approve(t, c[0], c[1], s.Number); code != http.StatusGone || b["error"] != "link_expired" {
			t.Errorf("%s: %d %v, want 410 link_expired", name, code, b)
		}
	}
	if code, _ := e.poll(t, s.Request); code != 200 {
		t.Errorf("the request did not survive approvals with other links: %d", code)
	}
}

// An address without an account gets a handle that polls pending until the
// link's lifetime ends, then 404: the same as an account nobody approves.
func TestPollUnknownAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	unknown := e.start(t, "nobody@example.com")
	known := e.start(t, "user@example.com")
	for _, h := range []string{unknown.Request, known.Request} {
		if code, body := e.poll(t, h); code != 200 || body["status"] != "pending" {
			t.Fatalf("poll: %d %v", code, body)
		}
	}
	e.clock.Advance(10 * time.Minute)
	for _, h := range []string{unknown.Request, known.Request} {
		if code, body := e.poll(t, h); code != http.StatusNotFound || body["error"] != "not_found" {
			t.Errorf("poll at the link's expiry: %d %v, want 404", code, body)
		}
	}
}

// Malformed or forged handles are 404 and touch nothing.
func TestPollBadHandles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	s := e.start(t, "user@example.com")
	other, _ := challenge.SealRequest(challenge.DeriveKey([]byte("another deployment"), "request"), rand.Reader, "sub-user", t0.Add(time.Hour))
	tampered := []byte(s.Request)
	tampered[5] ^= 1
	before := len(e.users.Calls())
	for name, h := range map[string]string{
		"short": "abc", "tampered": string(tampered), "another deployment's": other,
		"too long": strings.Repeat("A", 300), "percent-encoded junk": "%00%ff", "dots": "..",
	} {
		w := e.get(t, "/login/"+h)
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"error":"not_found"`) {
			t.Errorf("%s: %d %s, want 404 not_found", name, w.Code, w.Body)
		}
	}
	if calls := e.users.Calls()[before:]; len(calls) != 0 {
		t.Errorf("bad handles reached the store: %v", calls)
	}
	if code, _ := e.poll(t, s.Request); code != 200 {
		t.Errorf("the real request after bad ones: %d", code)
	}
}

func TestApproveBadInput(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", challenge.Length)
	tests := map[string]struct {
		body, contentType string
		status            int
		code              string
	}{
		"not JSON":          {`email=a`, "application/json", 400, "invalid_json"},
		"form post":         {`{"email":"user@example.com","challenge":"` + secret + `","number":"42"}`, "text/plain", 415, "unsupported_media_type"},
		"no number":         {`{"email":"user@example.com","challenge":"` + secret + `"}`, "application/json", 400, "missing_field"},
		"null challenge":    {`{"email":"user@example.com","challenge":null,"number":"42"}`, "application/json", 400, "missing_field"},
		"number is numeric": {`{"email":"user@example.com","challenge":"` + secret + `","number":42}`, "application/json", 400, "invalid_json"},
		"one digit":         {`{"email":"user@example.com","challenge":"` + secret + `","number":"4"}`, "application/json", 400, "invalid_number"},
		"three digits":      {`{"email":"user@example.com","challenge":"` + secret + `","number":"042"}`, "application/json", 400, "invalid_number"},
		"letters":           {`{"email":"user@example.com","challenge":"` + secret + `","number":"4a"}`, "application/json", 400, "invalid_number"},
		"short challenge":   {`{"email":"user@example.com","challenge":"abc","number":"42"}`, "application/json", 400, "invalid_challenge"},
		"challenge with +":  {`{"email":"user@example.com","challenge":"` + strings.Repeat("+", challenge.Length) + `","number":"42"}`, "application/json", 400, "invalid_challenge"},
		"bad address":       {`{"email":"not an address","challenge":"` + secret + `","number":"42"}`, "application/json", 400, "invalid_email"},
		"oversize":          {`{"email":"user@example.com","pad":"` + strings.Repeat("x", 5000) + `"}`, "application/json", 413, "body_too_large"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := httptest.NewRequest(http.MethodPost, "/approve", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			w := httptest.NewRecorder()
			e.router.ServeHTTP(w, r)
			var b map[string]string
			if w.Code != tc.status || json.Unmarshal(w.Body.Bytes(), &b) != nil || b["error"] != tc.code || b["message"] == "" {
				t.Errorf("%d %s, want %d %s with a message", w.Code, w.Body, tc.status, tc.code)
			}
			if calls := e.users.Calls(); len(calls) != 0 {
				t.Errorf("bad input reached the pool or the store: %v", calls)
			}
		})
	}
}

// Polls and approvals are bounded per IP, and polls per request.
func TestCrossDeviceLimits(t *testing.T) {
	t.Parallel()
	t.Run("approvals per IP", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "2/15m"})
		for i := range 2 {
			if code, _ := e.approve(t, "user@example.com", strings.Repeat("f", challenge.Length), "42"); code != http.StatusGone {
				t.Fatalf("approve %d: %d", i, code)
			}
		}
		if code, b := e.approve(t, "user@example.com", strings.Repeat("f", challenge.Length), "42"); code != http.StatusTooManyRequests || b["error"] != "rate_limited" {
			t.Fatalf("third approval from one IP: %d %v", code, b)
		}
	})
	t.Run("polls per IP", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "1/15m"})
		s := e.start(t, "nobody@example.com")
		for i := range 30 { // 30 polls per login allowed
			if code, _ := e.poll(t, s.Request); code != 200 {
				t.Fatalf("poll %d: %d", i, code)
			}
		}
		w := e.get(t, "/login/"+s.Request)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Fatalf("poll 31: %d %v", w.Code, w.Header())
		}
	})
	t.Run("polls per request", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "off"})
		// The per-request bound holds with the per-IP limit off.
		s := e.start(t, "nobody@example.com")
		code := 0
		n := 0
		for ; n < 1000; n++ {
			if code, _ = e.poll(t, s.Request); code != 200 {
				break
			}
		}
		if code != http.StatusNotFound || n != 600 {
			t.Fatalf("after %d polls: %d, want 404 after 600", n, code)
		}
	})
	t.Run("a longer link may be polled longer", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "off", "LINK_TTL": "1h"})
		s := e.start(t, "nobody@example.com")
		n := 0
		for ; n < 2000; n++ {
			if code, _ := e.poll(t, s.Request); code != 200 {
				break
			}
		}
		if n != 1440 { // one poll per 2.5 s of an hour
			t.Fatalf("%d polls of a 1-hour request, want 1440", n)
		}
	})
}

// Without a store that keeps requests (the Cognito attribute mode) the
// handle still polls pending, and /approve says it is not available.
func TestCrossDeviceOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.router = handlers.New(handlers.Deps{Config: e.cfg, Users: e.users, Links: e.links, RequestKey: testKey,
		Mailer: e.mailer, Now: e.clock.Now, Rand: rand.Reader, Wait: e.waits.wait})
	s := e.start(t, "user@example.com")
	if s.Code != "" {
		t.Errorf("a code was mailed without a store that keeps codes: %q", s.Code)
	}
	if code, body := e.poll(t, s.Request); code != 200 || body["status"] != "pending" {
		t.Errorf("poll: %d %v", code, body)
	}
	if code, body := e.approve(t, "user@example.com", s.Secret, s.Number); code != http.StatusNotFound || body["error"] != "not_available" {
		t.Errorf("approve: %d %v, want 404 not_available", code, body)
	}
}

// Every mail carries a code, XXX-XXX in the mail, that signs in like the
// link; the request handle and number change with every request.
func TestLoginMailsACode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"RESEND_INTERVAL": "0s"})
	a, b := e.start(t, "user@example.com"), e.start(t, "user@example.com")
	if len(a.Code) != challenge.CodeLength || a.Code == b.Code || a.Request == b.Request {
		t.Fatalf("codes %q %q, requests equal %v: want a fresh code and handle each time", a.Code, b.Code, a.Request == b.Request)
	}
	if !e.redeem(t, "sub-user", strings.ToLower(a.Code[:3]+"-"+a.Code[3:])) {
		t.Fatal("the mailed code does not sign in")
	}
	if e.redeem(t, "sub-user", b.Code) {
		t.Fatal("the other code survived the sign-in")
	}
}

// FuzzApproveBody: whatever the body, POST /approve answers JSON with a 4xx
// (or 200 for a real approval) and never fails inside; a 400 touches
// nothing.
func FuzzApproveBody(f *testing.F) {
	secret := strings.Repeat("s", challenge.Length)
	for _, b := range []string{
		`{"email":"user@example.com","challenge":"` + secret + `","number":"42"}`,
		`{"email":"user@example.com","challenge":"` + secret + `","number":42}`,
		`{"email":null}`, `[]`, ``, `{"email":"a@b.c","challenge":"x","number":"4\u0000"}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newEnv(t, map[string]string{"LOGIN_LIMIT_PER_IP": "off"})
		r := httptest.NewRequest(http.MethodPost, "/approve", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.router.ServeHTTP(w, r)
		var out map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d %q is not JSON", w.Code, w.Body)
		}
		switch w.Code {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if calls := e.users.Calls(); len(calls) != 0 || out["error"] == "" {
				t.Fatalf("%d %v after calls %v", w.Code, out, calls)
			}
		case http.StatusGone, http.StatusConflict:
		default:
			t.Fatalf("status %d %v for body %q", w.Code, out, body)
		}
	})
}
