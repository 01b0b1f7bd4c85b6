//go:build integration

package integration

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"magiclinks/challenge"
	"magiclinks/integration/internal/rie"
	"magiclinks/links"
)

// fixture mirrors the users and links the in-process golden tests give their
// fake pool and link store (main_test.go), now as real CONFIRMED users of a
// cognito-local pool and records in a dynalite links table: the recorded
// events name them by address or by sub.
var fixture = []struct {
	email, sub string
	enabled    bool
	attrs      map[string]string
	liveLink   bool // has the recorded Verify event's link, issued a minute ago
	recentLink bool // has a link issued a moment ago (the resend hold is on)
}{
	{email: "user@example.com", sub: "7d3f5a2e-9b1c-4e8a-a6d2-3c4b5e6f7a81", enabled: true, attrs: map[string]string{"email_verified": "true"}, liveLink: true},
	{email: "disabled@example.com", sub: "9f1c2d3e-0000-4000-8000-000000000002", enabled: false},
	{email: "recent@example.com", sub: "9f1c2d3e-0000-4000-8000-000000000003", enabled: true, recentLink: true},
}

// eventEnv is the configuration some recorded events need (as in main_test.go).
var eventEnv = map[string]map[string]string{
	"apigw-v2-post-login-signup": {"SIGN_UP": "auto"},
}

// golden is a golden file of the in-process tests: the response the fakes
// produced, the error, and the AWS calls made.
type golden struct {
	Response json.RawMessage `json:"response"`
	Error    string          `json:"error"`
	Calls    []struct {
		Op    string          `json:"op"`
		Input json.RawMessage `json:"input"`
	} `json:"calls"`
}

// saveInput is a recorded links.Save: whose record, how many links it held
// and whether they had been spent.
type saveInput struct {
	User  string `json:"user"`
	Links int    `json:"links"`
	Spent bool   `json:"spent"`
}

type callInput struct {
	Username       string `json:"Username"`
	UserAttributes []struct {
		Name  string `json:"Name"`
		Value string `json:"Value"`
	} `json:"UserAttributes"`
	Destination struct {
		ToAddresses []string `json:"ToAddresses"`
	} `json:"Destination"`
}

// TestRecordedEvents invokes the bootstrap under the Runtime Interface
// Emulator with every event of testdata/events/, against cognito-local,
// aws-ses-v2-local and a dynalite links table (LINKS_TABLE, the production
// default), in one long-lived process. The golden files come from fakes, so
// only what does not depend on them is compared: the reply (status, body,
// headers; trigger responses), error replies, and the effects the recorded
// calls must have had on the real peers (which users and attributes changed,
// which link records and counters changed and how, which mails were sent, or
// that nothing changed).
func TestRecordedEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded events in testdata/events: %v", err)
	}
	pool := createPool(t, "events")
	table := createLinksTable(t, "events")
	base := map[string]string{"LINKS_TABLE": table}
	f := startFunction(t, functionEnv(pool, base))
	functions := map[string]*rie.Function{}
	bootstrapPid := 0

	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			fn := f
			if env, ok := eventEnv[name]; ok {
				if functions[name] == nil {
					functions[name] = startFunction(t, functionEnv(pool, withEnv(base, env)))
				}
				fn = functions[name]
			}
			resetFixture(t, pool, table)
			g := readGolden(t, name)
			payload := readEvent(t, name+".json")
			usersBefore := listUsers(t, pool)
			itemsBefore := tableItems(t, table)

			r := invoke(t, fn, payload)

			if fn == f {
				pid := f.BootstrapPid()
				if bootstrapPid == 0 {
					bootstrapPid = pid
				} else if pid != bootstrapPid {
					t.Errorf("the bootstrap process changed from %d to %d: the function must keep serving after every event", bootstrapPid, pid)
				}
			}
			checkReply(t, name, payload, g, r)
			checkEffects(t, g, table, usersBefore, listUsers(t, pool), itemsBefore, tableItems(t, table))
		})
	}
	for _, need := range []string{"apigw-v1-post-login", "apigw-v2-post-login", "cognito-create", "cognito-define-first-call", "cognito-define-after-wrong-answer", "cognito-postauthentication", "cognito-presignup", "cognito-verify", "unknown-event"} {
		if !seen[need] {
			t.Errorf("testdata/events/%s.json is missing", need)
		}
	}

	// An unknown event gets an error reply for that invocation alone: the
	// same process answers the next ones.
	t.Run("keeps-serving-after-unknown-event", func(t *testing.T) {
		resetFixture(t, pool, table)
		for _, bad := range [][]byte{readEvent(t, "unknown-event.json"), []byte(`{"hello":"world"}`), []byte(`"just a string"`), []byte(`[1,2]`), []byte(`not json at all`)} {
			r := invoke(t, f, bad)
			if r.Err == nil {
				t.Errorf("event %s: reply %s, want an error reply", bad, r.Body)
			}
		}
		h := invokeHTTP(t, f, readEvent(t, "apigw-v2-post-login.json"))
		assertAccepted(t, h)
		if n := len(mailsTo(t, "user@example.com")); n != 1 {
			t.Errorf("after the unknown events POST /login sent %d mails, want 1", n)
		}
		out := invokeTrigger(t, f, readEvent(t, "cognito-define-first-call.json"))
		if name := out["response"].(map[string]any)["challengeName"]; name != "CUSTOM_CHALLENGE" {
			t.Errorf("Define after the unknown events: challengeName %v", name)
		}
		if pid := f.BootstrapPid(); pid == 0 || (bootstrapPid != 0 && pid != bootstrapPid) {
			t.Errorf("bootstrap pid %d, was %d: the process did not keep serving", pid, bootstrapPid)
		}
		if f.Exited() {
			t.Errorf("aws-lambda-rie exited")
		}
	})
}

func readGolden(t *testing.T, name string) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "golden", name+".json"))
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("golden file %s: %v", name, err)
	}
	return g
}

// liveAnswer is the answer of the recorded Verify event whose golden reply
// accepts it: the fixture's known user holds that link, live.
func liveAnswer(t *testing.T) string {
	t.Helper()
	var ev struct {
		Request struct {
			ChallengeAnswer string `json:"challengeAnswer"`
		} `json:"request"`
	}
	if err := json.Unmarshal(readEvent(t, "cognito-verify.json"), &ev); err != nil || ev.Request.ChallengeAnswer == "" {
		t.Fatalf("testdata/events/cognito-verify.json has no challengeAnswer (%v)", err)
	}
	var g struct {
		Response struct {
			Response struct {
				AnswerCorrect bool `json:"answerCorrect"`
			} `json:"response"`
		} `json:"response"`
	}
	if err := json.Unmarshal(readTestdata(t, "golden", "cognito-verify.json"), &g); err != nil || !g.Response.Response.AnswerCorrect {
		t.Fatalf("golden cognito-verify does not accept the recorded answer (%v)", err)
	}
	return ev.Request.ChallengeAnswer
}

// resetFixture makes the pool hold exactly the fixture users, the table
// exactly their links, and empties the outbox.
//
// cognito-local gives an admin-created user a random Username, not its sub
// as Cognito does: POST /login keys the record by that Username, a recorded
// trigger event by the sub. The fixture's links are put under both.
func resetFixture(t *testing.T, pool, table string) {
	t.Helper()
	for _, u := range listUsers(t, pool) {
		if _, err := cog.AdminDeleteUser(t.Context(), adminDeleteUser(pool, u.Username)); err != nil {
			t.Fatalf("cognito-local AdminDeleteUser: %v", err)
		}
	}
	clearTable(t, table)
	store := links.New(links.NewDynamo(ddb, table), codeKey)
	now := time.Now()
	for _, fx := range fixture {
		attrs := map[string]string{"sub": fx.sub}
		for k, v := range fx.attrs {
			attrs[k] = v
		}
		createUser(t, pool, fx.email, attrs)
		// CONFIRMED, as the fakes' users are: POST /login repairs nothing.
		if _, err := cog.AdminSetUserPassword(t.Context(), &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(pool), Username: aws.String(fx.email), Password: aws.String("Fixture-Passw0rd!"), Permanent: true,
		}); err != nil {
			t.Fatalf("cognito-local AdminSetUserPassword: %v", err)
		}
		if !fx.enabled {
			if _, err := cog.AdminDisableUser(t.Context(), adminDisableUser(pool, fx.email)); err != nil {
				t.Fatalf("cognito-local AdminDisableUser: %v", err)
			}
		}
		keys := []string{fx.sub}
		if u := getUser(t, pool, fx.email); u.Username != fx.sub {
			keys = append(keys, u.Username)
		}
		for _, key := range keys {
			if fx.liveLink {
				if _, err := store.Issue(t.Context(), key, links.NewLink{Secret: liveAnswer(t)}, now.Add(-time.Minute), 10*time.Minute, 0); err != nil {
					t.Fatalf("fixture: live link: %v", err)
				}
			}
			if fx.recentLink {
				secret, err := challenge.New(rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := store.Issue(t.Context(), key, links.NewLink{Secret: secret}, now.Add(-10*time.Second), 10*time.Minute, 0); err != nil {
					t.Fatalf("fixture: recent link: %v", err)
				}
			}
		}
	}
	clearMails(t)
}

// checkReply compares the reply with the golden one where the fakes do not
// matter.
func checkReply(t *testing.T, name string, payload []byte, g golden, r rie.Reply) {
	t.Helper()
	if g.Error != "" {
		if r.Err == nil {
			t.Fatalf("reply %s, want an error reply like %q", r.Body, g.Error)
		}
		if len(g.Calls) == 0 && r.Err.Message != g.Error {
			t.Errorf("error reply %q, want %q", r.Err.Message, g.Error)
		}
		return
	}
	if r.Err != nil {
		t.Fatalf("error reply %s: %s; want %s%s", r.Err.Type, r.Err.Message, g.Response, peerHint(t))
	}
	var want, got map[string]any
	if err := json.Unmarshal(g.Response, &want); err != nil {
		t.Fatalf("golden response: %v", err)
	}
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("reply is not a JSON object: %v: %s", err, r.Body)
	}
	if _, isHTTP := want["statusCode"]; isHTTP {
		checkHTTPReply(t, want, got)
		return
	}
	// A trigger: the whole event comes back with response filled in.
	var in map[string]any
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		if k != "response" && !reflect.DeepEqual(got[k], v) {
			t.Errorf("reply changed %q: got %v, sent %v", k, got[k], v)
		}
	}
	// The fixture's links are live by the real clock (resetFixture), so a
	// Verify is compared like every other trigger.
	wantResp, gotResp := want["response"], got["response"]
	// Create's private nonce is random; the fakes' came from a counter.
	wp, _ := wantResp.(map[string]any)["privateChallengeParameters"].(map[string]any)
	gp, _ := gotResp.(map[string]any)["privateChallengeParameters"].(map[string]any)
	if wn, ok := wp["nonce"].(string); ok && wn != "" {
		gn, _ := gp["nonce"].(string)
		if len(gn) < 22 || gn == wn {
			t.Errorf("privateChallengeParameters.nonce %q: want a fresh random value like %q", gn, wn)
		}
		gp["nonce"] = wn
	}
	if !reflect.DeepEqual(gotResp, wantResp) {
		t.Errorf("response %v, want %v", gotResp, wantResp)
	}
}

func checkHTTPReply(t *testing.T, want, got map[string]any) {
	t.Helper()
	if got["statusCode"] != want["statusCode"] {
		t.Fatalf("statusCode %v, want %v; body %v", got["statusCode"], want["statusCode"], got["body"])
	}
	wb, _ := want["body"].(string)
	gb, _ := got["body"].(string)
	var wj, gj any
	if json.Unmarshal([]byte(wb), &wj) == nil {
		if err := json.Unmarshal([]byte(gb), &gj); err != nil || !reflect.DeepEqual(blankRequest(gj), blankRequest(wj)) {
			t.Errorf("body %q, want %q", gb, wb)
		}
	} else if gb != wb {
		t.Errorf("body %q, want %q", gb, wb)
	}
	wh, _ := want["headers"].(map[string]any)
	gh, _ := got["headers"].(map[string]any)
	for k, v := range wh {
		if gh[k] != v {
			t.Errorf("header %s: %v, want %v", k, gh[k], v)
		}
	}
}

// checkEffects asserts on cognito-local, the links table and
// aws-ses-v2-local what the calls recorded in the golden file must have done
// there: the AWS calls on the peers, the store operations (links.*) on the
// table.
func checkEffects(t *testing.T, g golden, table string, before, after map[string]user, itemsBefore, itemsAfter map[string]map[string]string) {
	t.Helper()
	bySub := map[string]string{}
	for email, u := range before {
		bySub[u.Attrs["sub"]] = email
		bySub[u.Username] = email
	}
	created := ""
	wantWrites := map[string]map[string]string{} // email -> attribute -> golden value
	wantSaves := map[string]saveInput{}          // email -> last recorded links.Save
	wantIncr := 0
	var wantMailTo []string
	for _, c := range g.Calls {
		var in callInput
		_ = json.Unmarshal(c.Input, &in)
		switch c.Op {
		case "AdminCreateUser":
			created = strings.ToLower(in.Username)
		case "AdminUpdateUserAttributes", "AdminDeleteUserAttributes":
			email := bySub[in.Username]
			if strings.Contains(in.Username, "@") {
				email = strings.ToLower(in.Username)
			}
			if email == "" {
				email = created // the fakes' sub of the user just created
			}
			if wantWrites[email] == nil {
				wantWrites[email] = map[string]string{}
			}
			for _, a := range in.UserAttributes {
				wantWrites[email][a.Name] = a.Value
			}
		case "SendEmail":
			wantMailTo = append(wantMailTo, in.Destination.ToAddresses...)
		case "links.Save":
			var save saveInput
			if err := json.Unmarshal(c.Input, &save); err != nil {
				t.Fatalf("golden links.Save input %s: %v", c.Input, err)
			}
			email := bySub[save.User]
			if email == "" {
				email = created
			}
			wantSaves[email] = save
		case "links.Incr":
			wantIncr++
		case "links.Load":
			// A read: checked below by nothing else changing.
		default:
			if strings.HasPrefix(c.Op, "links.") {
				t.Errorf("golden file records store operation %s, which this test does not know", c.Op)
			}
		}
	}

	// Users: created as recorded, attributes changed as recorded, nothing else.
	// With LINKS_TABLE no link is written to Cognito.
	if created != "" {
		if _, ok := after[created]; !ok {
			t.Errorf("the recorded AdminCreateUser(%s) left no user in cognito-local", created)
		}
	}
	for email, u := range after {
		if email == created {
			continue
		}
		b, ok := before[email]
		if !ok {
			t.Errorf("user %s appeared in cognito-local", email)
			continue
		}
		if u.Enabled != b.Enabled || u.Status != b.Status {
			t.Errorf("user %s: enabled/status %v/%s became %v/%s", email, b.Enabled, b.Status, u.Enabled, u.Status)
		}
		writes := wantWrites[email]
		for _, name := range unionKeys(b.Attrs, u.Attrs) {
			old, now := b.Attrs[name], u.Attrs[name]
			want, written := writes[name]
			switch {
			case !written && now != old:
				t.Errorf("user %s: %s changed from %q to %q; the recorded calls do not write it", email, name, old, now)
			case written && now != want:
				t.Errorf("user %s: %s is %q, want %q as recorded", email, name, now, want)
			}
		}
		for name := range writes {
			if _, ok := u.Attrs[name]; !ok && writes[name] != "" {
				t.Errorf("user %s: recorded write of %s left no value", email, name)
			}
		}
	}
	for email := range before {
		if _, ok := after[email]; !ok {
			t.Errorf("user %s disappeared from cognito-local", email)
		}
	}

	// Links table: a recorded links.Save changed that user's record as
	// recorded (number of links, spent or not); a links.Incr moved one
	// per-IP counter by one; nothing else changed.
	owner := map[string]string{} // username or sub -> email
	for _, users := range []map[string]user{before, after} {
		for email, u := range users {
			owner[u.Attrs["sub"]] = email
			owner[u.Username] = email
		}
	}
	changed := map[string][]string{} // email -> record keys (usernames) that changed
	incremented := 0
	for _, key := range unionKeys(flatKeys(itemsBefore), flatKeys(itemsAfter)) {
		b, a := itemsBefore[key], itemsAfter[key]
		if reflect.DeepEqual(a, b) {
			continue
		}
		pk, sk, _ := strings.Cut(key, "|")
		switch {
		case a == nil:
			t.Errorf("links table item %s was deleted", key)
		case sk == "count" && strings.HasPrefix(pk, "ip#"):
			nb, _ := strconv.Atoi(b["n"])
			if na, _ := strconv.Atoi(a["n"]); na != nb+1 {
				t.Errorf("per-IP counter %s went from %d to %d, want one more", key, nb, na)
			}
			incremented++
		case sk == "links" && strings.HasPrefix(pk, "user#"):
			username := strings.TrimPrefix(pk, "user#")
			email := owner[username]
			if email == "" {
				t.Errorf("links table: a record changed for %s, who is no user of the pool", username)
				continue
			}
			changed[email] = append(changed[email], username)
		default:
			t.Errorf("links table: unexpected item %s changed", key)
		}
	}
	if incremented != wantIncr {
		t.Errorf("%d per-IP counters moved, want %d as recorded (links.Incr)", incremented, wantIncr)
	}
	for email, usernames := range changed {
		if _, ok := wantSaves[email]; !ok {
			t.Errorf("the links record of %s changed (%q); the recorded calls do not save it", email, usernames)
		}
	}
	for email, save := range wantSaves {
		usernames := changed[email]
		if len(usernames) != 1 {
			t.Errorf("recorded links.Save for %s: %d of its records changed (%q), want 1", email, len(usernames), usernames)
			continue
		}
		rec := linkRecord(t, table, usernames[0])
		if rec.Links.Len() != save.Links || (rec.SpentAt > 0) != save.Spent {
			t.Errorf("links record of %s: %d links, spent %v; want %d, %v as recorded", email, rec.Links.Len(), rec.SpentAt > 0, save.Links, save.Spent)
		}
		if exp, _ := strconv.ParseInt(itemsAfter["user#"+usernames[0]+"|links"]["expiresAt"], 10, 64); exp < time.Now().Unix() {
			t.Errorf("links record of %s: expiresAt %d is in the past", email, exp)
		}
	}

	// Mails: exactly those recorded, each with a link that is live in the
	// user's record, which does not hold it in plain text (nor does Cognito).
	got := mails(t)
	var gotTo []string
	for _, m := range got {
		gotTo = append(gotTo, m.Destination.To...)
	}
	sort.Strings(gotTo)
	sort.Strings(wantMailTo)
	if !reflect.DeepEqual(gotTo, wantMailTo) && !(len(gotTo) == 0 && len(wantMailTo) == 0) {
		t.Errorf("mails to %q, want %q as recorded", gotTo, wantMailTo)
	}
	for _, m := range got {
		_, email, answer := link(t, m)
		u, ok := after[email]
		if !ok {
			t.Errorf("a link was mailed for %s, who has no account", email)
			continue
		}
		assertNoPlainSecret(t, u.Attrs[challengeAttr], answer)
		assertNoPlainSecretInTable(t, itemsAfter, answer)
		if rec := linkRecord(t, table, u.Username); !rec.Links.Verify(answer, time.Now()) {
			t.Errorf("the link mailed to %s is not live in its record (user#%s)", email, u.Username)
		}
	}
}

func flatKeys(items map[string]map[string]string) map[string]string {
	keys := map[string]string{}
	for k := range items {
		keys[k] = k
	}
	return keys
}

func unionKeys(a, b map[string]string) []string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return sortedKeys(m)
}
