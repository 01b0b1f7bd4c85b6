// Command load runs N full sign-in cycles against the local stack, C at a
// time, and prints cycles per second, cycle latency (p50, p99, max), how
// many cycles failed and, on Linux, the CPU time a cycle cost the server,
// this tool and other processes. It exits non-zero if any cycle failed.
//
// The tool shares the machine's cores with the server, so cycles/s is
// bounded by the CPU time per cycle when the cores are busy; on 2 cores
// about half of the server's is the two RS256 signatures Cognito's tokens
// need (go test -bench IssueTokens ./local/).
//
// A cycle is what a person does: POST /login with a fresh address → the
// mail in the outbox → InitiateAuth (CUSTOM_AUTH) → RespondToAuthChallenge
// with the link's answer → GET /me with the ID token. Cognito is called with
// JSON requests as the sign-in page makes them.
//
//	go run ./cmd/load -n 1000 -c 16           # builds and starts the binary itself
//	go run ./cmd/load -url http://127.0.0.1:8080   # against a running make dev (SIGN_UP=auto)
//
// Only loopback servers are accepted: this is a local tool.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"magiclinks/local/devserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 1000, "sign-in cycles to run")
	c := flag.Int("c", 16, "cycles in flight at once")
	target := flag.String("url", "", "base URL of a running local stack (make dev); empty: build and start one")
	bin := flag.String("bin", "", "prebuilt binary to start instead of building one")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up on the whole run after this long")
	flag.Parse()
	if *n < 1 || *c < 1 {
		return errors.New("-n and -c must be at least 1")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	base := strings.TrimRight(*target, "/")
	var logs *os.File
	serverPID := 0 // the server's CPU time is read only when we started it
	if base == "" {
		dir, err := os.MkdirTemp("", "magiclinks-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if *bin == "" {
			root, err := moduleRoot()
			if err != nil {
				return err
			}
			*bin = filepath.Join(dir, "magiclinks")
			fmt.Println("load: building the binary…")
			if err := devserver.Build(ctx, root, *bin); err != nil {
				return err
			}
		}
		if logs, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
			return err
		}
		srv, err := devserver.Start(ctx, devserver.Config{Bin: *bin, Output: logs})
		if err != nil {
			return err
		}
		defer srv.Stop()
		base = srv.URL
		serverPID = srv.PID()
	} else if err := checkLoopback(base); err != nil {
		return err
	}

	r, err := newRunner(ctx, base, *c)
	if err != nil {
		return err
	}
	fmt.Printf("load: %d cycles, concurrency %d, against %s\n", *n, *c, base)
	before := sampleCPU(serverPID)
	res := r.run(ctx, *n, *c)
	after := sampleCPU(serverPID)
	res.print(os.Stdout)
	printCPU(os.Stdout, before, after, len(res.ok))
	if res.failed > 0 {
		if logs != nil {
			fmt.Printf("load: the server's last log lines:\n%s\n", tail(logs.Name(), 20))
		}
		return fmt.Errorf("%d of %d cycles failed", res.failed, *n)
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run this from inside the magiclinks module, or pass -bin or -url")
	}
	return filepath.Dir(mod), nil
}

// checkLoopback refuses anything but this machine: the run is a burst of
// sign-ins, meant for the local stack only.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-url %q is not a URL", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-url must be a loopback address (127.0.0.1, localhost, [::1]), got %q", host)
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// runner holds what every cycle shares.
type runner struct {
	base, cognito, clientID string
	client                  *http.Client
	runID                   string
}

func newRunner(ctx context.Context, base string, conc int) (*runner, error) {
	r := &runner{
		base: base,
		client: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: 30 * time.Second},
		},
	}
	id := make([]byte, 4)
	rand.Read(id)
	r.runID = hex.EncodeToString(id)
	// What the sign-in page reads first: the client ID and where Cognito is.
	var cfg struct {
		ClientID        string `json:"clientId"`
		CognitoEndpoint string `json:"cognitoEndpoint"`
	}
	if _, err := r.getJSON(ctx, base+"/config.json", nil, &cfg); err != nil {
		return nil, fmt.Errorf("GET /config.json: %w", err)
	}
	if cfg.ClientID == "" || cfg.CognitoEndpoint == "" {
		return nil, errors.New("GET /config.json: no clientId or cognitoEndpoint")
	}
	if err := checkLoopback(cfg.CognitoEndpoint); err != nil {
		return nil, fmt.Errorf("config.json's cognitoEndpoint: %w", err)
	}
	r.clientID, r.cognito = cfg.ClientID, cfg.CognitoEndpoint
	return r, nil
}

// steps of a cycle, for the per-step figures.
var steps = []string{"login", "outbox", "initiate", "respond", "me"}

type cycleResult struct {
	total time.Duration
	steps [5]time.Duration
	err   error
}

type results struct {
	n, failed int
	wall      time.Duration
	ok        []cycleResult
	errs      map[string]int
}

func (r *runner) run(ctx context.Context, n, conc int) results {
	jobs := make(chan int)
	out := make(chan cycleResult, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out <- r.cycle(ctx, i)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(out)
	res := results{n: n, wall: time.Since(start), errs: map[string]int{}}
	for c := range out {
		if c.err != nil {
			res.errs[c.err.Error()]++
			continue
		}
		res.ok = append(res.ok, c)
	}
	res.failed = n - len(res.ok) // cycles never started (interrupted) count as failed
	return res
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func (res results) print(w io.Writer) {
	totals := make([]time.Duration, len(res.ok))
	for i, c := range res.ok {
		totals[i] = c.total
	}
	slices.Sort(totals)
	fmt.Fprintf(w, "cycles:    %d ok, %d failed, in %.2fs\n", len(res.ok), res.failed, res.wall.Seconds())
	fmt.Fprintf(w, "cycles/s:  %.1f\n", float64(len(res.ok))/res.wall.Seconds())
	if len(totals) > 0 {
		fmt.Fprintf(w, "latency:   p50 %s  p99 %s  max %s\n", ms(pct(totals, .50)), ms(pct(totals, .99)), ms(totals[len(totals)-1]))
		var parts []string
		for i, name := range steps {
			d := make([]time.Duration, len(res.ok))
			for j, c := range res.ok {
				d[j] = c.steps[i]
			}
			slices.Sort(d)
			parts = append(parts, fmt.Sprintf("%s %s/%s", name, ms(pct(d, .5)), ms(pct(d, .99))))
		}
		fmt.Fprintf(w, "steps p50/p99: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "failed:    %d\n", res.failed)
	for msg, count := range res.errs {
		fmt.Fprintf(w, "  %d× %s\n", count, msg)
	}
}

// linkPattern finds the link in the mail's text; its fragment is
// <QueryEscape'd address>,<answer>.
var linkPattern = regexp.MustCompile(`https?://[^\s#]+#[^\s"<>]+`)

// cycle is one person signing in. Errors name the step and never carry a
// link, an answer or a token.
func (r *runner) cycle(ctx context.Context, i int) (res cycleResult) {
	email := fmt.Sprintf("load-%s-%d@example.com", r.runID, i)
	start := time.Now()
	mark := start
	step := func(k int) {
		now := time.Now()
		res.steps[k] = now.Sub(mark)
		mark = now
	}
	fail := func(name string, err error) cycleResult {
		res.err = fmt.Errorf("%s: %w", name, err)
		return res
	}

	body, _ := json.Marshal(map[string]string{"email": email})
	status, err := r.post(ctx, r.base+"/login", "application/json", nil, body, nil)
	if err != nil || status != http.StatusAccepted {
		return fail("login", statusErr(status, err))
	}
	step(0)

	var answer string
	for attempt := 0; ; attempt++ {
		var mails []struct {
			Text string `json:"text"`
		}
		if _, err := r.getJSON(ctx, r.base+"/local/outbox?to="+url.QueryEscape(email), nil, &mails); err != nil {
			return fail("outbox", err)
		}
		if len(mails) > 0 {
			link := linkPattern.FindString(mails[len(mails)-1].Text)
			_, frag, _ := strings.Cut(link, "#")
			k := strings.LastIndex(frag, ",")
			if k < 0 {
				return fail("outbox", errors.New("no link of the form #email,answer in the mail"))
			}
			if got, err := url.QueryUnescape(frag[:k]); err != nil || got != email {
				return fail("outbox", errors.New("the link is for another address"))
			}
			answer = frag[k+1:]
			break
		}
		if attempt == 100 {
			return fail("outbox", errors.New("no mail after 100 looks"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	step(1)

	var ch struct {
		ChallengeName       string
		Session             string
		ChallengeParameters map[string]string
	}
	if err := r.cognitoCall(ctx, "InitiateAuth", map[string]any{
		"AuthFlow": "CUSTOM_AUTH", "ClientId": r.clientID, "AuthParameters": map[string]string{"USERNAME": email},
	}, &ch); err != nil {
		return fail("initiate", err)
	}
	if ch.ChallengeName != "CUSTOM_CHALLENGE" || ch.Session == "" {
		return fail("initiate", fmt.Errorf("challenge %q instead of CUSTOM_CHALLENGE", ch.ChallengeName))
	}
	step(2)

	var auth struct {
		AuthenticationResult *struct{ IdToken string }
	}
	if err := r.cognitoCall(ctx, "RespondToAuthChallenge", map[string]any{
		"ChallengeName": "CUSTOM_CHALLENGE", "ClientId": r.clientID, "Session": ch.Session,
		"ChallengeResponses": map[string]string{"USERNAME": ch.ChallengeParameters["USERNAME"], "ANSWER": answer},
	}, &auth); err != nil {
		return fail("respond", err)
	}
	if auth.AuthenticationResult == nil || auth.AuthenticationResult.IdToken == "" {
		return fail("respond", errors.New("another challenge instead of tokens"))
	}
	step(3)

	var me struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
	}
	status, err = r.getJSON(ctx, r.base+"/me", map[string]string{"Authorization": "Bearer " + auth.AuthenticationResult.IdToken}, &me)
	if err != nil {
		return fail("me", err)
	}
	if me.Sub != ch.ChallengeParameters["USERNAME"] || me.Email != email {
		return fail("me", errors.New("answered for someone else"))
	}
	step(4)
	res.total = time.Since(start)
	return res
}

func statusErr(status int, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("HTTP %d", status)
}

// cognitoCall is a JSON 1.1 request as the page's fetch makes it.
func (r *runner) cognitoCall(ctx context.Context, op string, in, out any) error {
	body, _ := json.Marshal(in)
	var fail struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	status, err := r.post(ctx, r.cognito, "application/x-amz-json-1.1",
		map[string]string{"X-Amz-Target": "AWSCognitoIdentityProviderService." + op}, body,
		func(status int, b []byte) error {
			if status != http.StatusOK {
				return json.Unmarshal(b, &fail)
			}
			return json.Unmarshal(b, out)
		})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d %s: %s", status, fail.Type, fail.Message)
	}
	return nil
}

func (r *runner) post(ctx context.Context, u, contentType string, header map[string]string, body []byte, read func(int, []byte) error) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", r.base)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return r.do(req, read)
}

func (r *runner) getJSON(ctx context.Context, u string, header map[string]string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	status, err := r.do(req, func(status int, b []byte) error {
		if status != http.StatusOK {
			return fmt.Errorf("HTTP %d", status)
		}
		return json.Unmarshal(b, out)
	})
	return status, err
}

func (r *runner) do(req *http.Request, read func(int, []byte) error) (int, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if read != nil {
		if err := read(resp.StatusCode, b); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}
