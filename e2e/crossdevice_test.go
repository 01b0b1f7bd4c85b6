package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The other two ways to finish a sign-in, through the local stack over HTTP
// and Cognito's API: the code typed where the sign-in began, and the
// approval from the device that opened the link.

var codeRE = regexp.MustCompile(`\b([0-9A-HJKMNP-TV-Z]{3})-([0-9A-HJKMNP-TV-Z]{3})\b`)

// code reads the XXX-XXX code from the latest mail to the address.
func (s *server) code(t *testing.T, to string) string {
	t.Helper()
	ms := s.mails(t, to)
	if len(ms) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	m := codeRE.FindStringSubmatch(ms[len(ms)-1].Text)
	if m == nil || !strings.Contains(ms[len(ms)-1].HTML, m[0]) {
		t.Fatalf("no XXX-XXX code in both parts of the mail:\n%s", ms[len(ms)-1].Text)
	}
	return m[0]
}

// started is what the requesting browser holds after POST /login.
func (s *server) start(t *testing.T, email string) (request, number string) {
	t.Helper()
	status, body := s.login(t, email)
	request, _ = body["request"].(string)
	number, _ = body["number"].(string)
	if status != http.StatusAccepted || len(request) < 22 || len(number) != 2 {
		t.Fatalf("POST /login: %d %v", status, body)
	}
	return request, number
}

func (s *server) poll(t *testing.T, request string) (int, map[string]string) {
	t.Helper()
	status, body := s.do(t, http.MethodGet, "/login/"+request, nil, nil)
	var out map[string]string
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET /login/{request}: %d %s", status, body)
	}
	return status, out
}

func (s *server) approve(t *testing.T, email, challenge, number string) (int, map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "challenge": challenge, "number": number})
	status, body := s.do(t, http.MethodPost, "/approve", b, map[string]string{"Content-Type": "application/json"})
	var out map[string]string
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("POST /approve: %d %s", status, body)
	}
	return status, out
}

// signInWith answers a fresh Cognito challenge for email with answer.
func (s *server) signInWith(t *testing.T, email, answer string) (tokens bool, err error) {
	t.Helper()
	ch := s.initiate(t, email)
	out, err := s.answer(t, aws.ToString(ch.Session), ch.ChallengeParameters["USERNAME"], answer)
	if err != nil {
		return false, err
	}
	return out.AuthenticationResult != nil, nil
}

func TestSignInWithTheCode(t *testing.T) {
	s := startServer(t, nil)
	const email = "grace+code@example.com"
	s.start(t, email)
	code := s.code(t, email)
	typed := strings.ToLower(strings.ReplaceAll(code, "-", "")) // as a person might type it
	if ok, err := s.signInWith(t, email, typed); err != nil || !ok {
		t.Fatalf("the code %q typed as %q: tokens %v, %v", code, typed, ok, err)
	}
	// Spent with its link: neither works again.
	if ok, _ := s.signInWith(t, email, code); ok {
		t.Error("the code signed in twice")
	}
	_, answer := parseLink(t, s.link(t, email))
	if ok, _ := s.signInWith(t, email, answer); ok {
		t.Error("the link still signs in after its code did")
	}
}

func TestSignInApprovedFromAnotherDevice(t *testing.T) {
	s := startServer(t, nil)
	const email = "linus+approve@example.com"
	request, number := s.start(t, email) // device A
	if status, body := s.poll(t, request); status != 200 || body["status"] != "pending" {
		t.Fatalf("A polls: %d %v", status, body)
	}
	linkEmail, challenge := parseLink(t, s.link(t, email)) // device B opens the mail
	if status, body := s.approve(t, linkEmail, challenge, number); status != 200 || body["status"] != "approved" {
		t.Fatalf("B approves with A's number: %d %v", status, body)
	}
	status, body := s.poll(t, request)
	if status != 200 || body["status"] != "approved" || body["answer"] == "" {
		t.Fatalf("A polls after approval: %d %v", status, body)
	}
	if again, _ := s.poll(t, request); again != http.StatusNotFound {
		t.Errorf("A polls again: %d, want 404 (told once)", again)
	}
	if ok, err := s.signInWith(t, email, body["answer"]); err != nil || !ok {
		t.Fatalf("A signs in with the approved answer: %v %v", ok, err)
	}
	// The answer is replayed, and B's link tried again: both refused.
	if ok, _ := s.signInWith(t, email, body["answer"]); ok {
		t.Error("the approved answer signed in twice")
	}
	if ok, _ := s.signInWith(t, email, challenge); ok {
		t.Error("the approving link still signs in")
	}
	// Nothing in the log names the handle or the answer.
	for _, secret := range []string{request, body["answer"], challenge} {
		if strings.Contains(s.Logs(), secret) {
			t.Errorf("the log holds a secret %q", secret[:8]+"…")
		}
	}
	if !strings.Contains(s.Logs(), `"route":"GET /login/{request}"`) {
		t.Error("the log does not name the poll route by its template")
	}
}

func TestApprovalWithTheWrongNumber(t *testing.T) {
	s := startServer(t, nil)
	const email = "mallory+victim@example.com"
	request, number := s.start(t, email)
	_, challenge := parseLink(t, s.link(t, email))
	wrong := "00"
	if number == wrong {
		wrong = "01"
	}
	if status, body := s.approve(t, email, challenge, wrong); status != http.StatusConflict || body["error"] != "wrong_number" {
		t.Fatalf("wrong number: %d %v", status, body)
	}
	if status, _ := s.approve(t, email, challenge, number); status != http.StatusConflict {
		t.Fatalf("the right number after a wrong one: %d, want 409", status)
	}
	if status, _ := s.poll(t, request); status != http.StatusNotFound {
		t.Errorf("A's request after a wrong number: %d, want 404", status)
	}
	// Whoever holds the link could sign in with it anyway: it still works.
	if ok, err := s.signInWith(t, email, challenge); err != nil || !ok {
		t.Fatalf("the link after a wrong number: %v %v", ok, err)
	}
	if status, body := s.approve(t, email, challenge, number); status != http.StatusGone || body["error"] != "link_expired" {
		t.Errorf("approving with a spent link: %d %v, want 410", status, body)
	}
}
