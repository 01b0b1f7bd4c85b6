//go:build integration

package integration

// The Cognito clients people already use, driven through the whole
// magic-link flow against the local stack (make dev's binary and its Cognito
// stand-in): Amplify JS v6, amazon-cognito-identity-js, the AWS SDK for
// JavaScript v3 and plain fetch in Node (integration/clients/*.mjs, pinned in
// integration/clients/package-lock.json), boto3 and the AWS CLI from Debian's
// packages. Each client reads /config.json as an app would; a recording proxy
// between the clients and the stand-in shows which Cognito operations each
// step really made.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// localStack is the binary running as make dev runs it, behind a recording
// proxy for its Cognito endpoint.
type localStack struct {
	url    string // the binary: /login, /config.json, /me, /local/outbox
	config struct {
		Region, UserPoolID, ClientID, CognitoEndpoint string
	}
	mu  sync.Mutex
	ops []string // Cognito operations through the proxy, e.g. "InitiateAuth(CUSTOM_AUTH,SRP_A)"
}

func startLocalStack(t *testing.T) *localStack {
	t.Helper()
	bin := os.Getenv("INTEGRATION_DEV_BINARY")
	if bin == "" {
		t.Fatal("INTEGRATION_DEV_BINARY is not set: run make integration, which builds the binary as make dev runs it")
	}
	s := &localStack{}
	var target *url.URL
	ready := make(chan struct{})
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.record(r.Header.Get("X-Amz-Target"), body)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		// Every request comes from 127.0.0.1: no resend hold, no per-IP limit.
		"PORT=0", "SIGN_UP=auto", "RESEND_INTERVAL=0s", "LOGIN_LIMIT_PER_IP=off",
		// The clients read the endpoint from /config.json: the proxy.
		"COGNITO_ENDPOINT="+rec.URL+"/local/cognito",
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(peers.logDir, "local-stack-"+strings.ReplaceAll(t.Name(), "/", "_")+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		waitOrKill(cmd, 10*time.Second)
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("log of the local stack (%s):\n%s", logPath, tailBytes(out, 8000))
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`Sign in:\s+(http://127\.0\.0\.1:\d+)/`)
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case s.url = <-found:
	case <-time.After(60 * time.Second):
		t.Fatalf("the local stack did not print its URL within 60s (log: %s)", logPath)
	}
	target, _ = url.Parse(s.url)
	close(ready)

	resp, err := http.Get(s.url + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The strings it names; crossDevice and codes are booleans for the page.
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("/config.json: %v", err)
	}
	cfg := map[string]string{}
	for k, v := range raw {
		if str, ok := v.(string); ok {
			cfg[k] = str
		}
	}
	s.config.Region, s.config.UserPoolID, s.config.ClientID, s.config.CognitoEndpoint = cfg["region"], cfg["userPoolId"], cfg["clientId"], cfg["cognitoEndpoint"]
	if !strings.HasPrefix(s.config.CognitoEndpoint, rec.URL) {
		t.Fatalf("/config.json names Cognito endpoint %q, not the recording proxy %s", s.config.CognitoEndpoint, rec.URL)
	}
	return s
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (s *localStack) record(target string, body []byte) {
	op := strings.TrimPrefix(target, "AWSCognitoIdentityProviderService.")
	var in struct {
		AuthFlow       string
		AuthParameters map[string]string
	}
	if json.Unmarshal(body, &in) == nil && in.AuthFlow != "" {
		detail := in.AuthFlow
		if _, ok := in.AuthParameters["SRP_A"]; ok {
			detail += ",SRP_A"
		}
		op += "(" + detail + ")"
	}
	s.mu.Lock()
	s.ops = append(s.ops, op)
	s.mu.Unlock()
}

// takeOps returns the operations recorded since the last call.
func (s *localStack) takeOps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ops := s.ops
	s.ops = nil
	return ops
}

// login asks for a link and returns its answer, read from the local outbox.
func (s *localStack) login(t *testing.T, email string) string {
	t.Helper()
	before := len(s.outbox(t, email))
	resp, err := http.Post(s.url+"/login", "application/json", strings.NewReader(`{"email":"`+email+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /login: %d", resp.StatusCode)
	}
	mails := s.outbox(t, email)
	if len(mails) != before+1 {
		t.Fatalf("the outbox holds %d mails to %s after POST /login, want %d", len(mails), email, before+1)
	}
	m := regexp.MustCompile(`/sign-in#(\S+)`).FindStringSubmatch(mails[len(mails)-1].Text)
	if m == nil {
		t.Fatalf("no sign-in link in the mail: %q", mails[len(mails)-1].Text)
	}
	return m[1][strings.LastIndex(m[1], ",")+1:]
}

type outboxMail struct {
	Text string `json:"text"`
}

func (s *localStack) outbox(t *testing.T, email string) []outboxMail {
	t.Helper()
	resp, err := http.Get(s.url + "/local/outbox?to=" + url.QueryEscape(email))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []outboxMail
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("/local/outbox: %v", err)
	}
	return out
}

// me calls the product's GET /me with a token a client got.
func (s *localStack) me(t *testing.T, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Email string }
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Email
}

// userStatus asks the stand-in, as an administrator, for the account's status.
func (s *localStack) userStatus(t *testing.T, email string) string {
	t.Helper()
	admin := cip.New(cip.Options{
		Region: s.config.Region, BaseEndpoint: aws.String(s.url + "/local/cognito"),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	out, err := admin.AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(s.config.UserPoolID), Username: aws.String(email)})
	if err != nil {
		t.Fatalf("AdminGetUser: %v", err)
	}
	return string(out.UserStatus)
}

// clientReply is one step's answer from a client.
type clientReply struct {
	OK       bool   `json:"ok"`
	SignedIn bool   `json:"signedIn"`
	Step     string `json:"step"`
	Email    string `json:"email"`
	Tokens   *struct {
		AccessToken string `json:"accessToken"`
		IDToken     string `json:"idToken"`
	} `json:"tokens"`
	Error *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

func (r clientReply) String() string {
	if r.Error != nil {
		return fmt.Sprintf("error %s: %s", r.Error.Name, r.Error.Message)
	}
	return fmt.Sprintf("ok, signedIn=%v step=%q email=%q tokens=%v", r.SignedIn, r.Step, r.Email, r.Tokens != nil)
}

// realClient is one client, driven step by step.
type realClient interface {
	do(t *testing.T, op string, args map[string]any) clientReply
	version() string
}

// lineClient is a driver process speaking one JSON object per line
// (integration/clients/driver.mjs, boto3_client.py).
type lineClient struct {
	in      io.WriteCloser
	out     *bufio.Scanner
	ver     string
	replies chan string
}

func startLineClient(t *testing.T, s *localStack, name string, args ...string) *lineClient {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MAGICLINKS_URL="+s.url,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_SESSION_TOKEN=",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &lineClient{in: in, replies: make(chan string)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.replies <- sc.Text()
		}
		close(c.replies)
	}()
	t.Cleanup(func() {
		in.Close()
		waitOrKill(cmd, 10*time.Second)
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("stderr of %s:\n%s", name, tailBytes(stderr.Bytes(), 8000))
		}
	})
	hello := c.read(t)
	var h struct {
		Client, Version string
	}
	if err := json.Unmarshal([]byte(hello), &h); err != nil || h.Version == "" {
		t.Fatalf("%s did not start: %q; stderr:\n%s", name, hello, stderr.String())
	}
	c.ver = h.Client + " " + h.Version
	return c
}

func (c *lineClient) read(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-c.replies:
		if !ok {
			t.Fatal("the client exited")
		}
		return line
	case <-time.After(60 * time.Second):
		t.Fatal("no answer from the client within 60s")
	}
	return ""
}

func (c *lineClient) do(t *testing.T, op string, args map[string]any) clientReply {
	t.Helper()
	req := map[string]any{"op": op}
	for k, v := range args {
		req[k] = v
	}
	b, _ := json.Marshal(req)
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
	var r clientReply
	if line := c.read(t); json.Unmarshal([]byte(line), &r) != nil {
		t.Fatalf("%s: not a reply: %q", op, line)
	}
	return r
}

func (c *lineClient) version() string { return c.ver }

// awsCLI drives the AWS CLI one command per step, as a person at a shell
// would: every value its own argument (a Session starting with "-" broke
// exactly this).
type awsCLI struct {
	bin, ver string
	s        *localStack
	env      []string
	result   map[string]any // AuthenticationResult of the sign-in, kept after sign-out
}

var cliError = regexp.MustCompile(`An error occurred \((\w+)\) when calling the \w+ operation: (.*)`)

func (c *awsCLI) run(t *testing.T, args ...string) (map[string]any, *clientReply) {
	t.Helper()
	args = append([]string{"--endpoint-url", c.s.config.CognitoEndpoint, "--region", c.s.config.Region, "--output", "json", "cognito-idp"}, args...)
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		r := &clientReply{Error: &struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		}{Name: "CLIError", Message: strings.TrimSpace(stderr.String())}}
		if m := cliError.FindStringSubmatch(stderr.String()); m != nil {
			r.Error.Name, r.Error.Message = m[1], strings.TrimSpace(m[2])
		}
		return nil, r
	}
	out := map[string]any{}
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("aws %s: output is not JSON: %q", strings.Join(args, " "), stdout.String())
		}
	}
	return out, nil
}

func strOf(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func (c *awsCLI) tokens() *struct {
	AccessToken string `json:"accessToken"`
	IDToken     string `json:"idToken"`
} {
	return &struct {
		AccessToken string `json:"accessToken"`
		IDToken     string `json:"idToken"`
	}{strOf(c.result, "AccessToken"), strOf(c.result, "IdToken")}
}

func (c *awsCLI) do(t *testing.T, op string, a map[string]any) clientReply {
	t.Helper()
	clientID := c.s.config.ClientID
	start := func(params string) (map[string]any, *clientReply) {
		return c.run(t, "initiate-auth", "--auth-flow", "CUSTOM_AUTH", "--client-id", clientID, "--auth-parameters", params)
	}
	respond := func(session, username, answer string) (map[string]any, *clientReply) {
		return c.run(t, "respond-to-auth-challenge", "--challenge-name", "CUSTOM_CHALLENGE", "--client-id", clientID,
			"--session", session, "--challenge-responses", "USERNAME="+username+",ANSWER="+answer)
	}
	username, _ := a["username"].(string)
	switch op {
	case "signIn", "srpSignIn":
		params := "USERNAME=" + username
		if op == "srpSignIn" {
			params += ",SRP_A=" + strings.Repeat("a1b2c3d4", 96)
		}
		out, e := start(params)
		if e != nil {
			return *e
		}
		done, e := respond(strOf(out, "Session"), username, a["answer"].(string))
		if e != nil {
			return *e
		}
		r, ok := done["AuthenticationResult"].(map[string]any)
		if !ok {
			return clientReply{OK: true, Step: strOf(done, "ChallengeName")}
		}
		c.result = r
		return clientReply{OK: true, SignedIn: true, Tokens: c.tokens()}
	case "wrongAnswers":
		out, e := start("USERNAME=" + username)
		for _, ans := range a["answers"].([]string) {
			if e != nil || out["AuthenticationResult"] != nil {
				break
			}
			out, e = respond(strOf(out, "Session"), username, ans)
		}
		if e != nil {
			return *e
		}
		return clientReply{OK: true, SignedIn: out["AuthenticationResult"] != nil, Step: strOf(out, "ChallengeName")}
	case "getUser":
		out, e := c.run(t, "get-user", "--access-token", strOf(c.result, "AccessToken"))
		if e != nil {
			return *e
		}
		r := clientReply{OK: true}
		for _, attr := range out["UserAttributes"].([]any) {
			if m := attr.(map[string]any); m["Name"] == "email" {
				r.Email = strOf(m, "Value")
			}
		}
		return r
	case "refresh":
		rt := strOf(c.result, "RefreshToken")
		out, e := c.run(t, "initiate-auth", "--auth-flow", "REFRESH_TOKEN_AUTH", "--client-id", clientID, "--auth-parameters", "REFRESH_TOKEN="+rt)
		if e != nil {
			return *e
		}
		c.result = out["AuthenticationResult"].(map[string]any)
		c.result["RefreshToken"] = rt
		return clientReply{OK: true, Tokens: c.tokens()}
	case "signOut":
		var e *clientReply
		if a["global"] == true {
			_, e = c.run(t, "global-sign-out", "--access-token", strOf(c.result, "AccessToken"))
		} else {
			_, e = c.run(t, "revoke-token", "--client-id", clientID, "--token", strOf(c.result, "RefreshToken"))
		}
		if e != nil {
			return *e
		}
		return clientReply{OK: true}
	}
	t.Fatalf("aws cli: no op %s", op)
	return clientReply{}
}

func (c *awsCLI) version() string { return c.ver }

// debianTool finds a client installed from Debian's packages, or says why
// not. Missing, it skips loudly, and fails under CI=true, where .ci/run
// installs it.
func debianTool(t *testing.T, what, pkg string, find func() (string, error)) string {
	t.Helper()
	path, err := find()
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found (%v): install Debian's %s (apt-get install %s; .ci/run does)", what, err, pkg, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	bar := strings.Repeat("!", 78)
	fmt.Fprintf(os.Stderr, "\n%s\n!!! SKIPPED: %s\n%s\n\n", bar, msg, bar)
	t.Skip(msg)
	return ""
}

// clientCase is one real client and the Cognito operations its own paths make.
type clientCase struct {
	name      string
	refreshOp string // what its refresh path calls
	start     func(t *testing.T, s *localStack) realClient
}

func nodeClient(name string) func(t *testing.T, s *localStack) realClient {
	return func(t *testing.T, s *localStack) realClient {
		mods := os.Getenv("INTEGRATION_CLIENTS_MODULES")
		if mods == "" {
			t.Fatal("INTEGRATION_CLIENTS_MODULES is not set: run make integration, which installs integration/clients/package-lock.json")
		}
		// The drivers import their packages by name: run them from a folder
		// whose node_modules is the installed one.
		dir := t.TempDir()
		files, _ := filepath.Glob("clients/*.mjs")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module"}`), 0o644)
		if err := os.Symlink(mods, filepath.Join(dir, "node_modules")); err != nil {
			t.Fatal(err)
		}
		return startLineClient(t, s, "node", filepath.Join(dir, "driver.mjs"), name)
	}
}

var clientCases = []clientCase{
	{name: "amplify", refreshOp: "GetTokensFromRefreshToken", start: nodeClient("amplify")},
	{name: "identity-js", refreshOp: "InitiateAuth(REFRESH_TOKEN_AUTH)", start: nodeClient("identity-js")},
	{name: "sdk-v3", refreshOp: "GetTokensFromRefreshToken", start: nodeClient("sdk-v3")},
	{name: "fetch", refreshOp: "InitiateAuth(REFRESH_TOKEN_AUTH)", start: nodeClient("fetch")},
	{name: "boto3", refreshOp: "InitiateAuth(REFRESH_TOKEN_AUTH)", start: func(t *testing.T, s *localStack) realClient {
		py := debianTool(t, "python3 with boto3", "python3-boto3", func() (string, error) {
			for _, py := range []string{"/usr/bin/python3", "python3"} {
				if err := exec.Command(py, "-c", "import boto3").Run(); err == nil {
					return py, nil
				}
			}
			return "", fmt.Errorf("no python3 imports boto3")
		})
		return startLineClient(t, s, py, "clients/boto3_client.py")
	}},
	{name: "aws-cli", refreshOp: "InitiateAuth(REFRESH_TOKEN_AUTH)", start: func(t *testing.T, s *localStack) realClient {
		bin := debianTool(t, "the AWS CLI", "awscli", func() (string, error) {
			if _, err := os.Stat("/usr/bin/aws"); err == nil {
				return "/usr/bin/aws", nil
			}
			return exec.LookPath("aws")
		})
		home := t.TempDir()
		c := &awsCLI{bin: bin, s: s, env: []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + home,
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		}}
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("aws --version: %v: %s", err, out)
		}
		c.ver = strings.TrimSpace(string(out))
		return c
	}},
}

// TestRealClients drives each client through the whole flow: two links
// asked for; sign-in with the first (the app's own code); GetUser; /me with
// the ID token; refresh through the client's own refresh path; global
// sign-out; access and refresh refused; the used link and the second link
// refused; three wrong answers fail; SRP_A with a live link fails; that link
// then signs in; sign-out with RevokeToken; refresh refused.
func TestRealClients(t *testing.T) {
	s := startLocalStack(t)
	for _, cc := range clientCases {
		t.Run(cc.name, func(t *testing.T) {
			c := cc.start(t, s)
			email := cc.name + "@example.com"
			a1 := s.login(t, email)
			a2 := s.login(t, email)
			if st := s.userStatus(t, email); st != "CONFIRMED" {
				t.Errorf("after POST /login with SIGN_UP=auto the account is %s, want CONFIRMED", st)
			}
			s.takeOps()
			var exercised []string
			step := func(what, op string, args map[string]any, check func(r clientReply, ops []string) string) clientReply {
				t.Helper()
				r := c.do(t, op, args)
				ops := s.takeOps()
				exercised = append(exercised, ops...)
				if problem := check(r, ops); problem != "" {
					t.Fatalf("%s: %s: got %s; Cognito operations %v", what, problem, r, ops)
				}
				t.Logf("%-40s %-60s %v", what, r, ops)
				return r
			}
			refused := func(r clientReply) string {
				if r.Error == nil || r.Error.Name != "NotAuthorizedException" {
					return "want NotAuthorizedException"
				}
				return ""
			}
			notSignedIn := func(r clientReply, ops []string) string {
				if r.Error != nil || r.SignedIn {
					return "want another challenge and no tokens"
				}
				return ""
			}

			signedIn := step("sign in with the first link", "signIn", map[string]any{"username": email, "answer": a1}, func(r clientReply, ops []string) string {
				switch {
				case !r.OK || !r.SignedIn || r.Tokens == nil:
					return "want tokens"
				case !slices.Equal(ops, []string{"InitiateAuth(CUSTOM_AUTH)", "RespondToAuthChallenge"}):
					return "want InitiateAuth(CUSTOM_AUTH) without SRP_A, then RespondToAuthChallenge"
				}
				return ""
			})
			if status, got := s.me(t, signedIn.Tokens.IDToken); status != http.StatusOK || got != email {
				t.Fatalf("GET /me with the client's ID token: %d %q", status, got)
			}
			step("GetUser", "getUser", nil, func(r clientReply, ops []string) string {
				if !r.OK || r.Email != email || !slices.Contains(ops, "GetUser") {
					return "want the user's address from GetUser"
				}
				return ""
			})
			refreshed := step("refresh through its own path", "refresh", nil, func(r clientReply, ops []string) string {
				switch {
				case !r.OK || r.Tokens == nil || r.Tokens.AccessToken == signedIn.Tokens.AccessToken:
					return "want new tokens"
				case !slices.Equal(ops, []string{cc.refreshOp}):
					return "want exactly " + cc.refreshOp
				}
				return ""
			})
			if status, got := s.me(t, refreshed.Tokens.IDToken); status != http.StatusOK || got != email {
				t.Fatalf("GET /me with the refreshed ID token: %d %q", status, got)
			}
			step("global sign-out", "signOut", map[string]any{"global": true}, func(r clientReply, ops []string) string {
				if !r.OK || !slices.Contains(ops, "GlobalSignOut") {
					return "want GlobalSignOut"
				}
				return ""
			})
			step("GetUser after global sign-out", "getUser", nil, func(r clientReply, _ []string) string { return refused(r) })
			step("refresh after global sign-out", "refresh", nil, func(r clientReply, _ []string) string { return refused(r) })
			step("the used link again", "signIn", map[string]any{"username": email, "answer": a1}, notSignedIn)
			step("the second link, spent by the sign-in", "signIn", map[string]any{"username": email, "answer": a2}, notSignedIn)
			step("three wrong answers", "wrongAnswers", map[string]any{"username": email, "answers": []string{"wrong-1", "wrong-2", "wrong-3"}}, func(r clientReply, _ []string) string {
				return refused(r)
			})

			a3 := s.login(t, email)
			s.takeOps()
			step("SRP_A with a live link", "srpSignIn", map[string]any{"username": email, "answer": a3}, func(r clientReply, ops []string) string {
				if len(ops) == 0 || ops[0] != "InitiateAuth(CUSTOM_AUTH,SRP_A)" {
					return "want InitiateAuth(CUSTOM_AUTH) with SRP_A"
				}
				return refused(r)
			})
			step("the same link without SRP_A", "signIn", map[string]any{"username": email, "answer": a3}, func(r clientReply, _ []string) string {
				if !r.OK || !r.SignedIn {
					return "want tokens: the SRP_A attempt must fail before the link is spent"
				}
				return ""
			})
			step("sign-out with RevokeToken", "signOut", map[string]any{"global": false}, func(r clientReply, ops []string) string {
				if !r.OK || !slices.Contains(ops, "RevokeToken") {
					return "want RevokeToken"
				}
				return ""
			})
			step("refresh after RevokeToken", "refresh", nil, func(r clientReply, _ []string) string { return refused(r) })

			slices.Sort(exercised)
			t.Logf("CLIENT %s: %s; exercised %v", cc.name, c.version(), slices.Compact(exercised))
		})
	}
}

// waitOrKill waits for cmd to exit after it was asked to stop, and kills it
// if it has not within d.
func waitOrKill(cmd *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
	}
}
