//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"magiclinks/challenge"
	"magiclinks/integration/internal/rie"
	"magiclinks/links"
)

// accepted is the one body POST /login answers any well-formed request with,
// as the golden file of the recorded request holds it.
func accepted(t *testing.T) any {
	t.Helper()
	var g struct {
		Response struct {
			Body string `json:"body"`
		} `json:"response"`
	}
	var body any
	if err := json.Unmarshal(readTestdata(t, "golden", "apigw-v2-post-login.json"), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(g.Response.Body), &body); err != nil {
		t.Fatalf("golden apigw-v2-post-login body: %v", err)
	}
	return body
}

func assertAccepted(t *testing.T, h httpReply) {
	t.Helper()
	if h.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /login: status %d, want 202; body %s", h.StatusCode, h.Body)
	}
	var body any
	if want := accepted(t); json.Unmarshal([]byte(h.Body), &body) != nil || !reflect.DeepEqual(blankRequest(body), blankRequest(want)) {
		t.Fatalf("POST /login: body %q, want %v", h.Body, want)
	}
}

// blankRequest blanks the request handle and number of a 202 body after
// checking their shape: they are random for every request, and only they
// may differ.
func blankRequest(body any) any {
	m, ok := body.(map[string]any)
	if !ok {
		return body
	}
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	if r, _ := m["request"].(string); len(r) >= 22 {
		out["request"] = "(handle)"
	}
	if n, _ := m["number"].(string); len(n) == 2 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' {
		out["number"] = "(number)"
	}
	return out
}

// triggerEvent is a recorded trigger event for this user, with the user's
// attributes as cognito-local holds them now: what Cognito would send.
func triggerEvent(t *testing.T, file string, u *user, set func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, file), &ev); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]any{"cognito:user_status": u.Status}
	for k, v := range u.Attrs {
		attrs[k] = v
	}
	ev["userName"] = u.Username
	ev["request"].(map[string]any)["userAttributes"] = attrs
	if set != nil {
		set(ev)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// invokeTrigger invokes a trigger and returns the event it answered with,
// after checking that everything but response came back as sent.
func invokeTrigger(t *testing.T, f *rie.Function, payload []byte) map[string]any {
	t.Helper()
	r := invoke(t, f, payload)
	if r.Err != nil {
		t.Fatalf("trigger answered with an error %s: %s%s", r.Err.Type, r.Err.Message, peerHint(t))
	}
	var in, out map[string]any
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("trigger reply is not a JSON object: %v: %s", err, r.Body)
	}
	for k, v := range in {
		if k != "response" && !reflect.DeepEqual(out[k], v) {
			t.Errorf("trigger reply changed %q: got %v, sent %v", k, out[k], v)
		}
	}
	if _, ok := out["response"].(map[string]any); !ok {
		t.Fatalf("trigger reply has no response object: %s", r.Body)
	}
	return out
}

// verifyAnswer runs what Cognito runs for one answer: CreateAuthChallenge,
// then VerifyAuthChallengeResponse with Create's private challenge
// parameters, both with the user's attributes as cognito-local holds them.
func verifyAnswer(t *testing.T, f *rie.Function, u *user, answer any) bool {
	t.Helper()
	return verifyWith(t, f, u, createChallenge(t, f, u), answer)
}

// createChallenge runs CreateAuthChallenge for the user and returns its
// private challenge parameters, which Cognito hands to Verify.
func createChallenge(t *testing.T, f *rie.Function, u *user) map[string]any {
	t.Helper()
	created := invokeTrigger(t, f, triggerEvent(t, "cognito-create.json", u, nil))
	resp := created["response"].(map[string]any)
	private, _ := resp["privateChallengeParameters"].(map[string]any)
	if len(private) == 0 {
		t.Fatalf("CreateAuthChallenge: empty privateChallengeParameters (Cognito rejects them): %v", resp)
	}
	public, _ := resp["publicChallengeParameters"].(map[string]any)
	for k, v := range private {
		if k != "challenge" && public[k] != nil {
			t.Errorf("CreateAuthChallenge: private parameter %s (%v) is public too", k, v)
		}
	}
	return private
}

// verifyWith runs VerifyAuthChallengeResponse for an answer given to the
// challenge whose private parameters are private (Cognito's retry of one
// Verify sends the same parameters and answer again).
func verifyWith(t *testing.T, f *rie.Function, u *user, private map[string]any, answer any) bool {
	t.Helper()
	ev := triggerEvent(t, "cognito-verify.json", u, func(ev map[string]any) {
		req := ev["request"].(map[string]any)
		req["privateChallengeParameters"] = private
		req["challengeAnswer"] = answer
	})
	out := invokeTrigger(t, f, ev)
	ok, isBool := out["response"].(map[string]any)["answerCorrect"].(bool)
	if !isBool {
		t.Fatalf("Verify: answerCorrect is not a boolean: %v", out["response"])
	}
	return ok
}

func assertNoPlainSecret(t *testing.T, value string, secrets ...string) {
	t.Helper()
	if len(value) > 2048 {
		t.Errorf("%s is %d characters, more than Cognito's 2048", challengeAttr, len(value))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(value, s) {
			t.Errorf("%s holds a challenge in plain text: %q contains %q", challengeAttr, value, s)
		}
	}
}

// --- dynalite: the links table ---

// tableItems returns every item of the table as key "pk|sk" -> attribute ->
// value (strings and numbers as written, other types in Go syntax).
func tableItems(t *testing.T, table string) map[string]map[string]string {
	t.Helper()
	items := map[string]map[string]string{}
	p := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("dynalite Scan %s: %v", table, err)
		}
		for _, it := range page.Items {
			flat := map[string]string{}
			for name, v := range it {
				switch v := v.(type) {
				case *ddbtypes.AttributeValueMemberS:
					flat[name] = v.Value
				case *ddbtypes.AttributeValueMemberN:
					flat[name] = v.Value
				default:
					flat[name] = fmt.Sprintf("%#v", v)
				}
			}
			items[flat["pk"]+"|"+flat["sk"]] = flat
		}
	}
	return items
}

// clearTable deletes every item of the table.
func clearTable(t *testing.T, table string) {
	t.Helper()
	for _, it := range tableItems(t, table) {
		_, err := ddb.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{
			TableName: aws.String(table),
			Key: map[string]ddbtypes.AttributeValue{
				"pk": &ddbtypes.AttributeValueMemberS{Value: it["pk"]},
				"sk": &ddbtypes.AttributeValueMemberS{Value: it["sk"]},
			},
		})
		if err != nil {
			t.Fatalf("dynalite DeleteItem: %v", err)
		}
	}
}

// linkRecord is the user's record in the table, read as the function reads it.
func linkRecord(t *testing.T, table, username string) links.Record {
	t.Helper()
	rec, _, err := links.NewDynamo(ddb, table).Load(t.Context(), username)
	if err != nil {
		t.Fatalf("links record of %s: %v", username, err)
	}
	return rec
}

// assertNoPlainSecretInTable checks that no attribute of any item holds a
// secret in plain text.
func assertNoPlainSecretInTable(t *testing.T, items map[string]map[string]string, secrets ...string) {
	t.Helper()
	for key, it := range items {
		for name, v := range it {
			for _, s := range secrets {
				if s != "" && strings.Contains(v, s) {
					t.Errorf("links table item %s: %s holds a challenge in plain text", key, name)
				}
			}
		}
	}
}

// withEnv is base with extra added.
func withEnv(base map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// TestMagicLinkFlow runs the seed's mode (no LINKS_TABLE: the links live in
// the custom:authChallenge attribute), the one place that mode meets a real
// Cognito peer: POST /login through the emulated Lambda reads and writes the
// attribute in cognito-local with the real SDK calls and mails the link
// through aws-ses-v2-local; Verify, given the attributes read back from
// cognito-local, accepts a link once and spends every link of the user in
// cognito-local; PostAuthentication only verifies the address.
func TestMagicLinkFlow(t *testing.T) {
	pool := createPool(t, "flow")
	const email = "alice@example.com"
	createUser(t, pool, email, map[string]string{"email_verified": "false"})
	other := "bob@example.com"
	createUser(t, pool, other, nil)
	f := startFunction(t, functionEnv(pool, map[string]string{"RESEND_INTERVAL": "0s"}))

	before := getUser(t, pool, email)
	if before.Attrs[challengeAttr] != "" {
		t.Fatalf("fresh user already has %s", challengeAttr)
	}

	// The first link, asked for through an HTTP API (payload 2.0) event with
	// an address to trim and lower-case.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", "  Alice@Example.COM ")))
	after1 := getUser(t, pool, email)
	if after1.Attrs[challengeAttr] == "" {
		t.Fatalf("POST /login did not write %s in cognito-local; attributes %v", challengeAttr, after1.Attrs)
	}
	if after1.Status != "CONFIRMED" {
		t.Errorf("after POST /login the admin-created user is %s, want CONFIRMED (a random permanent password)", after1.Status)
	}
	got := mailsTo(t, email)
	if len(got) != 1 {
		t.Fatalf("aws-ses-v2-local holds %d mails to %s, want 1", len(got), email)
	}
	m1 := got[0]
	if !strings.Contains(m1.From, "no-reply@example.com") || m1.Subject == "" || m1.Body.Text == "" || m1.Body.HTML == "" {
		t.Errorf("mail: from %q, subject %q, text %d bytes, html %d bytes: want EMAIL_FROM, a subject and both bodies", m1.From, m1.Subject, len(m1.Body.Text), len(m1.Body.HTML))
	}
	link1, linkEmail, answer1 := link(t, m1)
	if linkEmail != email {
		t.Errorf("link %q carries address %q, want %q", link1, linkEmail, email)
	}
	if len(answer1) < 22 {
		t.Errorf("challenge %q is shorter than 22 characters", answer1)
	}
	assertNoPlainSecret(t, after1.Attrs[challengeAttr], answer1)

	// A second link, through a REST API (v1) event: the first stays valid.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v1-post-login.json", email)))
	if got := mailsTo(t, email); len(got) != 2 {
		t.Fatalf("aws-ses-v2-local holds %d mails to %s after the second POST /login, want 2", len(got), email)
	}
	_, _, answer2 := link(t, mailsTo(t, email)[1])
	if answer2 == answer1 {
		t.Fatalf("two links carry the same challenge %q", answer1)
	}
	u := getUser(t, pool, email)
	assertNoPlainSecret(t, u.Attrs[challengeAttr], answer1, answer2)
	if u.Attrs[challengeAttr] == after1.Attrs[challengeAttr] {
		t.Errorf("the second POST /login did not change %s", challengeAttr)
	}
	set, err := challenge.Parse(u.Attrs[challengeAttr])
	if err != nil || !set.Verify(answer1, time.Now()) || !set.Verify(answer2, time.Now()) {
		t.Errorf("%s does not hold both links live (%v)", challengeAttr, err)
	}
	if len(mailsTo(t, other)) != 0 || getUser(t, pool, other).Attrs[challengeAttr] != "" {
		t.Errorf("another user got a mail or a challenge")
	}

	// Wrong answers, with the attributes as cognito-local holds them: refused,
	// and they write nothing.
	for _, wrong := range []any{answer1[:len(answer1)-1] + "x", strings.ToUpper(answer2), "", 42, nil} {
		if verifyAnswer(t, f, u, wrong) {
			t.Errorf("Verify accepted the wrong answer %#v", wrong)
		}
	}
	if now := getUser(t, pool, email); now.Attrs[challengeAttr] != u.Attrs[challengeAttr] {
		t.Errorf("a wrong answer changed %s in cognito-local", challengeAttr)
	}

	// The first correct answer spends every link of the user in cognito-local.
	if !verifyAnswer(t, f, u, answer2) {
		t.Fatalf("Verify refused the second link's answer")
	}
	spent := getUser(t, pool, email)
	if spent.Attrs[challengeAttr] != "v1" {
		t.Errorf("after a correct answer %s is %q, want the empty set \"v1\"", challengeAttr, spent.Attrs[challengeAttr])
	}
	if spent.Attrs["email_verified"] != "false" {
		t.Errorf("Verify changed email_verified to %q; PostAuthentication sets it", spent.Attrs["email_verified"])
	}
	for i, a := range []string{answer1, answer2} {
		if verifyAnswer(t, f, spent, a) {
			t.Errorf("Verify accepted link %d after a link was used", i+1)
		}
	}

	// Sign-in completes: PostAuthentication, with the cognito-local username,
	// verifies the address and touches nothing else.
	out := invokeTrigger(t, f, triggerEvent(t, "cognito-postauthentication.json", spent, nil))
	if resp := out["response"].(map[string]any); len(resp) != 0 {
		t.Errorf("PostAuthentication response %v, want {}", resp)
	}
	verified := getUser(t, pool, email)
	if verified.Attrs["email_verified"] != "true" {
		t.Errorf("after PostAuthentication email_verified is %q, want true", verified.Attrs["email_verified"])
	}
	for _, name := range unionKeys(spent.Attrs, verified.Attrs) {
		if name != "email_verified" && spent.Attrs[name] != verified.Attrs[name] {
			t.Errorf("PostAuthentication changed %s from %q to %q", name, spent.Attrs[name], verified.Attrs[name])
		}
	}

	if kib, err := rie.PeakRSSKiB(f.BootstrapPid()); err == nil {
		t.Logf("bootstrap peak RSS after the whole flow: %.1f MiB", float64(kib)/1024)
	}

	// A retry of PostAuthentication (Cognito retries) is harmless.
	invokeTrigger(t, f, triggerEvent(t, "cognito-postauthentication.json", verified, nil))
	if again := getUser(t, pool, email); !reflect.DeepEqual(again.Attrs, verified.Attrs) || verifyAnswer(t, f, again, answer1) {
		t.Errorf("a repeated PostAuthentication changed the user or revived a link: %v", again.Attrs)
	}

	// A new link after the sign-in works, once.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", email)))
	got = mailsTo(t, email)
	_, _, answer3 := link(t, got[len(got)-1])
	fresh := getUser(t, pool, email)
	if !verifyAnswer(t, f, fresh, answer3) || verifyAnswer(t, f, fresh, answer3) {
		t.Errorf("a link sent after the sign-in did not work exactly once")
	}
}

// TestMagicLinkFlowDynamoDB runs the production default (LINKS_TABLE): the
// links live in the DynamoDB table (dynalite) and Cognito sees no write for
// a link. Verify spends every link of the user on the first correct answer;
// Cognito's retry of that Verify (same challenge, same answer) succeeds
// again, nothing else does.
func TestMagicLinkFlowDynamoDB(t *testing.T) {
	pool := createPool(t, "flow-ddb")
	table := createLinksTable(t, "flow-ddb")
	const email = "erin@example.com"
	createUser(t, pool, email, map[string]string{"email_verified": "false"})
	f := startFunction(t, functionEnv(pool, map[string]string{"LINKS_TABLE": table, "RESEND_INTERVAL": "0s"}))
	// Confirmed already, so POST /login needs no Cognito write at all.
	if _, err := cog.AdminSetUserPassword(t.Context(), &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(pool), Username: aws.String(email), Password: aws.String("Fixture-Passw0rd!"), Permanent: true,
	}); err != nil {
		t.Fatalf("cognito-local AdminSetUserPassword: %v", err)
	}
	u := getUser(t, pool, email)

	for _, file := range []string{"apigw-v2-post-login.json", "apigw-v1-post-login.json"} {
		assertAccepted(t, invokeHTTP(t, f, loginEvent(t, file, email)))
	}
	got := mailsTo(t, email)
	if len(got) != 2 {
		t.Fatalf("aws-ses-v2-local holds %d mails to %s, want 2", len(got), email)
	}
	_, linkEmail, answer1 := link(t, got[0])
	_, _, answer2 := link(t, got[1])
	if linkEmail != email || answer1 == answer2 {
		t.Fatalf("links for %q with answers %q, %q: want %s and two different answers", linkEmail, answer1, answer2, email)
	}
	if now := getUser(t, pool, email); !reflect.DeepEqual(now, u) {
		t.Errorf("POST /login changed the user in cognito-local:\nbefore %+v\nafter  %+v", u, now)
	}
	items := tableItems(t, table)
	assertNoPlainSecretInTable(t, items, answer1, answer2)
	rec := linkRecord(t, table, u.Username)
	if rec.Links.Len() != 2 || !rec.Links.Verify(answer1, time.Now()) || !rec.Links.Verify(answer2, time.Now()) {
		t.Fatalf("the table holds %d links for %s, want both mailed links live", rec.Links.Len(), u.Username)
	}
	if it := items["user#"+u.Username+"|links"]; it["expiresAt"] == "" {
		t.Errorf("the user's item has no expiresAt (the table's TTL attribute): %v", sortedKeys(it))
	}

	for _, wrong := range []any{answer1[:len(answer1)-1] + "x", strings.ToUpper(answer2), "", 42, nil} {
		if verifyAnswer(t, f, u, wrong) {
			t.Errorf("Verify accepted the wrong answer %#v", wrong)
		}
	}
	if after := tableItems(t, table); !reflect.DeepEqual(after["user#"+u.Username+"|links"], items["user#"+u.Username+"|links"]) {
		t.Errorf("a wrong answer changed the user's item")
	}

	private := createChallenge(t, f, u)
	if private["nonce"] == nil {
		t.Errorf("CreateAuthChallenge gave no nonce: %v", private)
	}
	if !verifyWith(t, f, u, private, answer1) {
		t.Fatalf("Verify refused the first link's answer")
	}
	if !verifyWith(t, f, u, private, answer1) {
		t.Errorf("Cognito's retry of the same Verify (same challenge, same answer) was refused")
	}
	if verifyWith(t, f, u, private, answer2) {
		t.Errorf("the spending challenge accepted the other link")
	}
	if verifyAnswer(t, f, u, answer1) {
		t.Errorf("the used link worked again in a new challenge")
	}
	if verifyAnswer(t, f, u, answer2) {
		t.Errorf("the second link worked after the first was used")
	}
	spent := linkRecord(t, table, u.Username)
	if spent.Links.Len() != 0 || spent.SpentAt == 0 {
		t.Errorf("after the sign-in the record holds %d links, spentAt %d; want none and the time of the spend", spent.Links.Len(), spent.SpentAt)
	}
	assertNoPlainSecretInTable(t, tableItems(t, table), answer1, answer2)
	if now := getUser(t, pool, email); !reflect.DeepEqual(now, u) {
		t.Errorf("Verify changed the user in cognito-local:\nbefore %+v\nafter  %+v", u, now)
	}

	// PostAuthentication verifies the address, in Cognito, and nothing else.
	invokeTrigger(t, f, triggerEvent(t, "cognito-postauthentication.json", u, nil))
	verified := getUser(t, pool, email)
	if verified.Attrs["email_verified"] != "true" {
		t.Errorf("after PostAuthentication email_verified is %q, want true", verified.Attrs["email_verified"])
	}
	if _, ok := verified.Attrs[challengeAttr]; ok {
		t.Errorf("with LINKS_TABLE %s was written: %q", challengeAttr, verified.Attrs[challengeAttr])
	}
	if after := linkRecord(t, table, u.Username); after.Links.Len() != 0 || after.SpentAt != spent.SpentAt {
		t.Errorf("PostAuthentication changed the links record")
	}
}

// TestUnknownUserUntouched: with SIGN_UP=off an unknown address gets the same
// answer as a known one, and nothing changes in cognito-local, the links
// table (beyond the per-IP counter) or the outbox.
func TestUnknownUserUntouched(t *testing.T) {
	pool := createPool(t, "unknown")
	table := createLinksTable(t, "unknown")
	createUser(t, pool, "carol@example.com", map[string]string{"email_verified": "true"})
	f := startFunction(t, functionEnv(pool, map[string]string{"LINKS_TABLE": table, "SIGN_UP": "off", "RESEND_INTERVAL": "0s"}))
	// Give carol an outstanding link, so there is a record to disturb.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", "carol@example.com")))
	usersBefore := listUsers(t, pool)
	itemsBefore := tableItems(t, table)
	mailsBefore := len(mails(t))

	for _, file := range []string{"apigw-v2-post-login.json", "apigw-v1-post-login.json"} {
		assertAccepted(t, invokeHTTP(t, f, loginEvent(t, file, "Nobody@Example.com")))
	}
	if u := getUser(t, pool, "nobody@example.com"); u != nil {
		t.Errorf("SIGN_UP=off created the unknown user: %+v", u)
	}
	if after := listUsers(t, pool); !reflect.DeepEqual(after, usersBefore) {
		t.Errorf("cognito-local changed for an unknown address:\nbefore %+v\nafter  %+v", usersBefore, after)
	}
	for key, it := range tableItems(t, table) {
		if it["sk"] == "count" {
			continue // the per-IP counter counts every request alike
		}
		if !reflect.DeepEqual(it, itemsBefore[key]) {
			t.Errorf("links table item %s changed or appeared for an unknown address", key)
		}
	}
	if n := len(mails(t)); n != mailsBefore {
		t.Errorf("%d mails were sent for an unknown address", n-mailsBefore)
	}
}

// TestSignUpAuto: with SIGN_UP=auto an unknown address gets an account in
// cognito-local (CONFIRMED by a random permanent password, address not yet
// verified) and a working link, kept in the links table.
func TestSignUpAuto(t *testing.T) {
	pool := createPool(t, "signup")
	table := createLinksTable(t, "signup")
	f := startFunction(t, functionEnv(pool, map[string]string{"LINKS_TABLE": table, "SIGN_UP": "auto", "RESEND_INTERVAL": "0s"}))
	const email = "dave@example.com"
	if getUser(t, pool, email) != nil {
		t.Fatal("user exists before sign-up")
	}
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", " DAVE@example.com")))
	u := getUser(t, pool, email)
	if u == nil {
		t.Fatalf("SIGN_UP=auto did not create %s in cognito-local", email)
	}
	if !u.Enabled || u.Status != "CONFIRMED" {
		t.Errorf("created user: enabled %v, status %q; want enabled and CONFIRMED (random permanent password)", u.Enabled, u.Status)
	}
	if u.Attrs["email"] != email || u.Attrs["email_verified"] != "false" {
		t.Errorf("created user attributes %v: want email %s and email_verified false", u.Attrs, email)
	}
	if _, ok := u.Attrs[challengeAttr]; ok {
		t.Errorf("with LINKS_TABLE the new user has %s", challengeAttr)
	}
	got := mailsTo(t, email)
	if len(got) != 1 {
		t.Fatalf("aws-ses-v2-local holds %d mails to %s, want 1", len(got), email)
	}
	_, linkEmail, answer := link(t, got[0])
	if linkEmail != email {
		t.Errorf("link carries %q, want %q", linkEmail, email)
	}
	assertNoPlainSecretInTable(t, tableItems(t, table), answer)
	if rec := linkRecord(t, table, u.Username); !rec.Links.Verify(answer, time.Now()) {
		t.Errorf("the table holds no live link for the new user %s", u.Username)
	}
	if !verifyAnswer(t, f, u, answer) {
		t.Errorf("Verify refused the new user's link")
	}
	// The second request finds the account and does not create another.
	assertAccepted(t, invokeHTTP(t, f, loginEvent(t, "apigw-v2-post-login.json", email)))
	if n := len(listUsers(t, pool)); n != 1 {
		t.Errorf("pool has %d users after two sign-up requests, want 1", n)
	}
	if n := len(mailsTo(t, email)); n != 2 {
		t.Errorf("%d mails after the second request, want 2", n)
	}
}

// TestInitErrorNamesVariable: a function without its required configuration
// fails at init, as a Lambda init error naming the variable.
func TestInitErrorNamesVariable(t *testing.T) {
	for _, tc := range []struct{ unset, table, want string }{
		{unset: "USER_POOL_ID", table: "links", want: "USER_POOL_ID"},
		{table: "no spaces allowed", want: "LINKS_TABLE"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			env := functionEnv("unused", map[string]string{"LINKS_TABLE": tc.table})
			delete(env, tc.unset)
			f := startFunction(t, env)
			r, err := f.Invoke(t.Context(), readEvent(t, "cognito-define-first-call.json"))
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			// The emulator answers a failed init with 502 (Lambda: Runtime.ExitError);
			// the process's message is in the function's output.
			if r.Status == http.StatusOK {
				t.Fatalf("a function with a bad %s answered: %d %s", tc.want, r.Status, r.Body)
			}
			if !logContains(t, tc.want) {
				t.Errorf("the init error names no %s (reply %d %s)", tc.want, r.Status, r.Body)
			}
			if f.BootstrapPid() != 0 {
				t.Errorf("a bootstrap without its configuration is still running")
			}
		})
	}
}
