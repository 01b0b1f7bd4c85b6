//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"magiclinks/challenge"
	"magiclinks/integration/internal/rie"
	"magiclinks/links"
	"magiclinks/links/linkstest"
)

// TestStoreConformanceDynalite runs the link store's conformance suite (the
// same rules the in-process store passes) against DynamoDB as dynalite
// implements it: conditional writes, atomic counters, races included.
func TestStoreConformanceDynalite(t *testing.T) {
	linkstest.Run(t, func(t *testing.T, _ func() time.Time) links.Backend {
		return links.NewDynamo(ddb, createLinksTable(t, "conformance"))
	}, linkstest.Caps{Atomic: true, Receipts: true, Counters: true, CrossDevice: true})
}

// TestStoreBadItems: items the store did not write, a missing table and
// throttling give clear errors and never a sign-in, and nothing committed
// is lost or overwritten.
func TestStoreBadItems(t *testing.T) {
	ctx := t.Context()
	table := createLinksTable(t, "bad-items")
	s := links.New(links.NewDynamo(ddb, table), codeKey)
	now := time.Now()
	secret := linkstest.Secret(1)
	good := challenge.Set{}.Add(secret, now.Add(-time.Minute), 10*time.Minute).String()
	str := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	num := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: v} }
	items := map[string]map[string]ddbtypes.AttributeValue{
		"no version":              {"links": str(good)},
		"version not a number":    {"links": str(good), "ver": str("1")},
		"links not a string":      {"links": num("7"), "ver": num("1")},
		"links unreadable":        {"links": str("v1 not-a-hash.1.2"), "ver": num("1")},
		"links of another format": {"links": str("3f1c2a9e-6b0d-4e57-9d8a-2c4b6e8f0a13," + fmt.Sprint(now.Unix())), "ver": num("1")},
		"receipt not a string":    {"links": str(good), "ver": num("1"), "receipt": num("1")},
	}
	for name, attrs := range items {
		t.Run(name, func(t *testing.T) {
			user := "bad-" + strings.ReplaceAll(name, " ", "-")
			item := map[string]ddbtypes.AttributeValue{"pk": str("user#" + user), "sk": str("links")}
			for k, v := range attrs {
				item[k] = v
			}
			if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
				t.Fatal(err)
			}
			ok, err := s.Redeem(ctx, user, secret, "n", now)
			if ok || !errors.Is(err, links.ErrCorrupt) {
				t.Errorf("Redeem: ok %v, err %v; want no sign-in and ErrCorrupt", ok, err)
			}
			if _, err := s.Issue(ctx, user, links.NewLink{Secret: linkstest.Secret(2)}, now, 10*time.Minute, 0); !errors.Is(err, links.ErrCorrupt) {
				t.Errorf("Issue: %v, want ErrCorrupt", err)
			}
			out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{"pk": item["pk"], "sk": item["sk"]}})
			if err != nil || !reflect.DeepEqual(out.Item, item) {
				t.Errorf("the item was changed: %v (%v)", out.Item, err)
			}
		})
	}

	t.Run("missing table", func(t *testing.T) {
		s := links.New(links.NewDynamo(ddb, "no-such-table"), codeKey)
		ok, err := s.Redeem(ctx, "u", secret, "n", now)
		if ok || err == nil || !strings.Contains(err.Error(), `table "no-such-table" not found (LINKS_TABLE)`) {
			t.Errorf("ok %v, err %v; want a clear error naming the table", ok, err)
		}
	})

	t.Run("throttled while spending: no sign-in, the link survives", func(t *testing.T) {
		user := "throttled"
		if _, err := s.Issue(ctx, user, links.NewLink{Secret: secret}, now, 10*time.Minute, 0); err != nil {
			t.Fatal(err)
		}
		throttled := links.New(links.NewDynamo(throttlePuts{ddb}, table), codeKey)
		ok, err := throttled.Redeem(ctx, user, secret, "n1", now)
		var pe *ddbtypes.ProvisionedThroughputExceededException
		if ok || !errors.As(err, &pe) {
			t.Fatalf("ok %v, err %v; want no sign-in and the throttling error", ok, err)
		}
		if ok, err := s.Redeem(ctx, user, secret, "n2", now); !ok || err != nil {
			t.Fatalf("after the throttled attempt the link is gone: %v %v", ok, err)
		}
	})
}

// throttlePuts answers every PutItem as DynamoDB does when throttling.
type throttlePuts struct{ *dynamodb.Client }

func (throttlePuts) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, &ddbtypes.ProvisionedThroughputExceededException{Message: aws.String("Rate of requests exceeds the allowed throughput.")}
}

// fleet is several real bootstrap processes, each under its own emulator,
// sharing one links table: concurrent Lambda instances. Like a Lambda
// instance, each takes one invocation at a time (the emulator refuses a
// second); free holds the idle ones.
type fleet struct {
	fns  []*rie.Function
	free chan *rie.Function
}

func startFleet(t *testing.T, n int, env map[string]string) *fleet {
	t.Helper()
	fl := &fleet{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			f := startFunction(t, env)
			mu.Lock()
			fl.fns = append(fl.fns, f)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(fl.fns) != n {
		t.Fatalf("%d of %d functions started", len(fl.fns), n)
	}
	fl.free = make(chan *rie.Function, n)
	for _, f := range fl.fns {
		fl.free <- f
	}
	// Warm every instance so the race is between handlers, not inits.
	for _, f := range fl.fns {
		if _, err := f.Invoke(t.Context(), readEvent(t, "cognito-define-first-call.json")); err != nil {
			t.Fatal(err)
		}
	}
	return fl
}

// invoke sends payload to the next idle instance; safe in goroutines.
func (fl *fleet) invoke(ctx context.Context, payload []byte) (map[string]any, error) {
	f := <-fl.free
	r, err := f.Invoke(ctx, payload)
	fl.free <- f
	if err != nil {
		return nil, err
	}
	if r.Err != nil {
		return nil, fmt.Errorf("function error %s: %s", r.Err.Type, r.Err.Message)
	}
	var out map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return nil, fmt.Errorf("reply %s: %w", r.Body, err)
	}
	return out, nil
}

// loginFrom is a POST /login event for email from sourceIP.
func loginFrom(t *testing.T, email, sourceIP string) []byte {
	var ev map[string]any
	if err := json.Unmarshal(loginEvent(t, "apigw-v2-post-login.json", email), &ev); err != nil {
		t.Fatal(err)
	}
	ev["requestContext"].(map[string]any)["http"].(map[string]any)["sourceIp"] = sourceIP
	b, _ := json.Marshal(ev)
	return b
}

// verifyEvent is what Cognito sends Verify for user's answer in the
// challenge whose private nonce is nonce.
func verifyEvent(t *testing.T, u *user, answer, nonce string) []byte {
	return triggerEvent(t, "cognito-verify.json", u, func(ev map[string]any) {
		req := ev["request"].(map[string]any)
		req["privateChallengeParameters"] = map[string]any{"challenge": "MAGIC_LINK", "nonce": nonce}
		req["challengeAnswer"] = answer
	})
}

func answerCorrect(out map[string]any) bool {
	resp, _ := out["response"].(map[string]any)
	ok, _ := resp["answerCorrect"].(bool)
	return ok
}

// raceSetup makes a pool with one user, a links table and a fleet.
func raceSetup(t *testing.T, name string, n int, env map[string]string) (*fleet, *user, string) {
	t.Helper()
	pool := createPool(t, name)
	email := fmt.Sprintf("%s-%d@example.com", name, time.Now().UnixNano())
	createUser(t, pool, email, map[string]string{"email_verified": "true"})
	table := createLinksTable(t, name)
	all := map[string]string{"LINKS_TABLE": table}
	for k, v := range env {
		all[k] = v
	}
	fl := startFleet(t, n, functionEnv(pool, all))
	return fl, getUser(t, pool, email), table
}

const instances = 4

// TestRaceParallelLoginsOneMail: parallel POST /login for one user across
// several instances send exactly one mail per RESEND_INTERVAL.
func TestRaceParallelLoginsOneMail(t *testing.T) {
	fl, u, _ := raceSetup(t, "race-login", instances, map[string]string{"RESEND_INTERVAL": "1m"})
	email := u.Attrs["email"]
	const parallel = 24
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for i := range parallel {
		wg.Go(func() {
			out, err := fl.invoke(t.Context(), loginFrom(t, email, fmt.Sprintf("192.0.2.%d", i)))
			if err != nil {
				t.Error(err)
				return
			}
			if out["statusCode"] == float64(202) {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	n := len(mailsTo(t, email))
	t.Logf("%d parallel POST /login on %d instances: %d answered 202, %d mail(s) sent", parallel, instances, accepted.Load(), n)
	if accepted.Load() != parallel || n != 1 {
		t.Fatalf("%d accepted, %d mails; want %d and exactly 1", accepted.Load(), n, parallel)
	}
}

// TestRaceParallelAnswersOneSuccess: one link answered in parallel Cognito
// sessions (distinct nonces) on several instances: exactly one success.
func TestRaceParallelAnswersOneSuccess(t *testing.T) {
	fl, u, _ := raceSetup(t, "race-answer", instances, map[string]string{"RESEND_INTERVAL": "0s"})
	email := u.Attrs["email"]
	const rounds, parallel = 5, 12
	for round := range rounds {
		out, err := fl.invoke(t.Context(), loginFrom(t, email, "192.0.2.1"))
		if err != nil || out["statusCode"] != float64(202) {
			t.Fatalf("login: %v %v", out, err)
		}
		got := mailsTo(t, email)
		_, _, answer := link(t, got[len(got)-1])
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range parallel {
			wg.Go(func() {
				out, err := fl.invoke(t.Context(), verifyEvent(t, u, answer, fmt.Sprintf("nonce-%d-%d", round, i)))
				if err != nil {
					t.Error(err)
					return
				}
				if answerCorrect(out) {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		t.Logf("round %d: %d parallel answers with one link on %d instances: %d succeeded", round+1, parallel, instances, wins.Load())
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d successes, want exactly 1", round+1, wins.Load())
		}
	}
}

// TestRaceSignInVersusLogin: a sign-in racing POST /login for the same
// user, many times over: the spent link never works again.
func TestRaceSignInVersusLogin(t *testing.T) {
	fl, u, _ := raceSetup(t, "race-revive", instances, map[string]string{"RESEND_INTERVAL": "0s"})
	email := u.Attrs["email"]
	const rounds = 25
	revived, signedIn := 0, 0
	for round := range rounds {
		if out, err := fl.invoke(t.Context(), loginFrom(t, email, "192.0.2.1")); err != nil || out["statusCode"] != float64(202) {
			t.Fatalf("login: %v %v", out, err)
		}
		got := mailsTo(t, email)
		_, _, answer := link(t, got[len(got)-1])
		var wg sync.WaitGroup
		var ok atomic.Bool
		wg.Go(func() {
			out, err := fl.invoke(t.Context(), verifyEvent(t, u, answer, fmt.Sprint("sign-in-", round)))
			if err != nil {
				t.Error(err)
			}
			ok.Store(answerCorrect(out))
		})
		for range instances - 1 {
			wg.Go(func() {
				if _, err := fl.invoke(t.Context(), loginFrom(t, email, "192.0.2.1")); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() {
			signedIn++
		}
		for i := range instances {
			out, err := fl.invoke(t.Context(), verifyEvent(t, u, answer, fmt.Sprint("late-", round, "-", i)))
			if err != nil {
				t.Fatal(err)
			}
			if answerCorrect(out) {
				revived++
			}
		}
	}
	t.Logf("%d rounds of a sign-in racing %d logins on %d instances: %d sign-ins, %d revived uses", rounds, instances-1, instances, signedIn, revived)
	if signedIn != rounds || revived != 0 {
		t.Fatalf("%d of %d sign-ins succeeded, %d uses after the spend succeeded; want all and none", signedIn, rounds, revived)
	}
}

// TestRaceLimitPerIP: parallel POST /login from one IP across instances:
// exactly LOGIN_LIMIT_PER_IP pass, the rest get 429 with Retry-After,
// before any lookup.
func TestRaceLimitPerIP(t *testing.T) {
	fl, _, _ := raceSetup(t, "race-limit", instances, map[string]string{"LOGIN_LIMIT_PER_IP": "5/15m"})
	const parallel = 16
	var mu sync.Mutex
	statuses := map[float64]int{}
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Go(func() {
			out, err := fl.invoke(t.Context(), loginFrom(t, fmt.Sprintf("nobody-%d@example.com", i), "203.0.113.9"))
			if err != nil {
				t.Error(err)
				return
			}
			code, _ := out["statusCode"].(float64)
			if code == 429 {
				h, _ := out["headers"].(map[string]any)
				if h["Retry-After"] == nil || !strings.Contains(fmt.Sprint(out["body"]), `"rate_limited"`) {
					t.Errorf("429 without Retry-After or code: %v", out)
				}
			}
			mu.Lock()
			statuses[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("%d parallel POST /login from one IP on %d instances with 5/15m: %v", parallel, instances, statuses)
	if statuses[202] != 5 || statuses[429] != parallel-5 {
		t.Fatalf("statuses %v, want 5 × 202 and %d × 429", statuses, parallel-5)
	}
	if out, err := fl.invoke(t.Context(), loginFrom(t, "nobody@example.com", "203.0.113.10")); err != nil || out["statusCode"] != float64(202) {
		t.Fatalf("another IP: %v %v", out, err)
	}
}

// TestFailureAfterLookup: a mail that cannot be sent, or a store that cannot
// be written, answers the same 202 after the same floor, logs at ERROR and
// leaves no usable link and no hold: a retry a second later sends.
func TestFailureAfterLookup(t *testing.T) {
	pool := createPool(t, "after-lookup")
	email := fmt.Sprintf("after-lookup-%d@example.com", time.Now().UnixNano())
	createUser(t, pool, email, map[string]string{"email_verified": "true"})
	u := getUser(t, pool, email)
	table := createLinksTable(t, "after-lookup")
	base := map[string]string{"LINKS_TABLE": table, "LOGIN_MIN_DURATION": "800ms", "RESEND_INTERVAL": "1m"}
	env := func(extra map[string]string) map[string]string {
		e := functionEnv(pool, base)
		for k, v := range extra {
			e[k] = v
		}
		return e
	}
	deadPort, err := rie.FreePort() // nothing listens there: every send fails
	if err != nil {
		t.Fatal(err)
	}
	noMail := startFunction(t, env(map[string]string{"AWS_ENDPOINT_URL_SESV2": fmt.Sprintf("http://127.0.0.1:%d", deadPort)}))
	noTable := startFunction(t, env(map[string]string{"LINKS_TABLE": "missing-table"}))
	working := startFunction(t, env(nil))

	unknown := loginFrom(t, "nobody@example.com", "192.0.2.50")
	start := time.Now()
	want := invokeHTTP(t, working, unknown)
	t.Logf("unknown address: %d after %s", want.StatusCode, time.Since(start).Round(time.Millisecond))

	for name, f := range map[string]*rie.Function{"send fails": noMail, "store fails": noTable} {
		start := time.Now()
		got := invokeHTTP(t, f, loginFrom(t, email, "192.0.2.50"))
		took := time.Since(start)
		t.Logf("%s: %d after %s", name, got.StatusCode, took.Round(time.Millisecond))
		var gb, wb any
		_ = json.Unmarshal([]byte(got.Body), &gb)
		_ = json.Unmarshal([]byte(want.Body), &wb)
		if got.StatusCode != want.StatusCode || !reflect.DeepEqual(blankRequest(gb), blankRequest(wb)) {
			t.Errorf("%s: answered %d %s; an unknown address gets %d %s", name, got.StatusCode, got.Body, want.StatusCode, want.Body)
		}
		if took < 800*time.Millisecond {
			t.Errorf("%s: answered after %s, before the 800ms floor", name, took)
		}
	}
	for _, outcome := range []string{`"outcome":"send_failed"`, `"outcome":"store_failed"`} {
		if !logLineContains(t, outcome, `"level":"ERROR"`) {
			t.Errorf("no ERROR log line with %s", outcome)
		}
	}
	// No usable link was left: the table holds no live link for the user.
	if rec, _, err := links.NewDynamo(ddb, table).Load(t.Context(), u.Username); err != nil || rec.Links.Live(time.Now()).Len() != 0 {
		t.Errorf("after the failed send the user has %d live links (%v)", rec.Links.Len(), err)
	}
	// No hold: a retry a second later sends.
	time.Sleep(time.Second)
	if r := invokeHTTP(t, working, loginFrom(t, email, "192.0.2.50")); r.StatusCode != http.StatusAccepted || len(mailsTo(t, email)) != 1 {
		t.Fatalf("retry: %d, %d mails; want a mail", r.StatusCode, len(mailsTo(t, email)))
	}
}

// logLineContains reports whether one line of the test's function output
// holds every one of parts.
func logLineContains(t *testing.T, parts ...string) bool {
	b, _ := os.ReadFile(functionLog(t))
	for _, line := range strings.Split(string(b), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
