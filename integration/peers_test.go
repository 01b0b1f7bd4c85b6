//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"magiclinks/challenge"
	"magiclinks/integration/internal/rie"
)

const (
	region        = "us-east-1"
	signInURL     = "https://app.example.com/sign-in"
	emailFrom     = "Example <no-reply@example.com>"
	challengeAttr = "custom:authChallenge"
)

// peers are the servers scripts/integration.sh started.
var peers struct {
	rie, bootstrap, cognitoURL, sesURL, dynamoURL, logDir string
}

// linkSecret is the functions' LINK_SECRET; codeKey the key it gives the
// codes, for fixtures written straight into the table.
const linkSecret = "integration-link-secret-0123456789abcdef"

var codeKey = challenge.DeriveKey([]byte(linkSecret), "code")

var (
	cog *cip.Client
	ddb *dynamodb.Client // dynalite
)

// createLinksTable makes a links table in dynalite with the key schema of
// DESIGN.md ("Contract: the link store"), as Terraform and operators make it.
func createLinksTable(t *testing.T, name string) string {
	t.Helper()
	name = fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	_, err := ddb.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatalf("creating table %s in dynalite: %v", name, err)
	}
	for range 100 { // dynalite makes it ACTIVE at once with --createTableMs 0
		out, err := ddb.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == ddbtypes.TableStatusActive {
			return name
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("table %s never became ACTIVE", name)
	return ""
}

func TestMain(m *testing.M) {
	missing := []string{}
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	peers.rie = get("INTEGRATION_RIE")
	peers.bootstrap = get("INTEGRATION_BOOTSTRAP")
	peers.cognitoURL = get("INTEGRATION_COGNITO_URL")
	peers.sesURL = get("INTEGRATION_SES_URL")
	peers.dynamoURL = get("INTEGRATION_DYNAMODB_URL")
	peers.logDir = os.Getenv("INTEGRATION_LOG_DIR")
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "integration: %s not set; run make integration (scripts/integration.sh), which starts the peers\n", strings.Join(missing, ", "))
		os.Exit(2)
	}
	if peers.logDir == "" {
		peers.logDir = os.TempDir()
	}
	cog = cip.New(cip.Options{
		Region:       region,
		BaseEndpoint: aws.String(peers.cognitoURL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	ddb = dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(peers.dynamoURL),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	os.Exit(m.Run())
}

// functionEnv is the function's configuration for a pool, with AWS pointed
// at the peers. Nothing here can reach AWS: both services the function uses
// have loopback endpoints, credentials are dummies, IMDS is off and no
// shared config file is read.
func functionEnv(poolID string, extra map[string]string) map[string]string {
	env := map[string]string{
		"USER_POOL_ID":                               poolID,
		"USER_POOL_CLIENT_ID":                        "1example23456789abcdefghij",
		"EMAIL_FROM":                                 emailFrom,
		"SIGN_IN_URL":                                signInURL,
		"AWS_REGION":                                 region,
		"AWS_ACCESS_KEY_ID":                          "local",
		"AWS_SECRET_ACCESS_KEY":                      "local",
		"AWS_EC2_METADATA_DISABLED":                  "true",
		"AWS_CONFIG_FILE":                            "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":                "/dev/null",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": peers.cognitoURL,
		"AWS_ENDPOINT_URL_SESV2":                     peers.sesURL,
		"AWS_ENDPOINT_URL_DYNAMODB":                  peers.dynamoURL,
		// Shared by every instance, as Terraform sets it; unused without
		// LINKS_TABLE.
		"LINK_SECRET": linkSecret,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// startFunction runs the bootstrap under the emulator for the rest of the
// test; its output goes to a file in INTEGRATION_LOG_DIR, shown on failure.
func startFunction(t *testing.T, env map[string]string) *rie.Function {
	t.Helper()
	logPath := functionLog(t)
	// Appending: a test may run several functions, all into one file.
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f, err := rie.Start(rie.Options{RIE: peers.rie, Bootstrap: peers.bootstrap, Env: env, Log: logFile})
	if err != nil {
		logFile.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Stop()
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("output of aws-lambda-rie and bootstrap (%s):\n%s", logPath, out)
		}
	})
	return f
}

// functionLog is where the test's emulated function writes its output.
func functionLog(t *testing.T) string {
	return filepath.Join(peers.logDir, "rie-"+strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".log")
}

// logContains reports whether the test's function output holds s.
func logContains(t *testing.T, s string) bool {
	b, _ := os.ReadFile(functionLog(t))
	return strings.Contains(string(b), s)
}

// peerHint explains a failure caused by a known difference between a peer
// and the real service, found in the function's output.
func peerHint(t *testing.T) string {
	top, _, _ := strings.Cut(t.Name(), "/")
	logs, _ := filepath.Glob(filepath.Join(peers.logDir, "rie-"+top+"*.log"))
	var out []byte
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		out = append(out, b...)
	}
	if bytes.Contains(out, []byte("Email is required to verify/un-verify an email")) {
		return "\n\tcognito-local rejects an AdminUpdateUserAttributes that sets email_verified without email in the same call" +
			"\n\t(real Cognito accepts it). Sending the user's current email along with email_verified=true works with both."
	}
	return ""
}

// invoke sends an event and fails the test if the emulator did not answer.
func invoke(t *testing.T, f *rie.Function, payload []byte) rie.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := f.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("invoke: emulator answered %d: %s", r.Status, r.Body)
	}
	return r
}

// httpReply is the part of an API Gateway proxy response the tests read
// (payload 1.0 and 2.0 share these fields).
type httpReply struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

func invokeHTTP(t *testing.T, f *rie.Function, payload []byte) httpReply {
	t.Helper()
	r := invoke(t, f, payload)
	if r.Err != nil {
		t.Fatalf("function error %s: %s", r.Err.Type, r.Err.Message)
	}
	var h httpReply
	if err := json.Unmarshal(r.Body, &h); err != nil {
		t.Fatalf("reply is not an API Gateway response: %v: %s", err, r.Body)
	}
	return h
}

// loginEvent is the recorded HTTP API POST /login with another body.
func loginEvent(t *testing.T, file, email string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, file), &ev); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"email": email})
	ev["body"] = string(body)
	if h, ok := ev["headers"].(map[string]any); ok {
		delete(h, "content-length")
	}
	out, _ := json.Marshal(ev)
	return out
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	return readTestdata(t, "events", name)
}

func readTestdata(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- cognito-local ---

// createPool makes a pool as terraform/ does in the points that matter: the
// email is the username, and the challenge attribute is a mutable custom
// string of at most 2048 characters.
func createPool(t *testing.T, name string) string {
	t.Helper()
	out, err := cog.CreateUserPool(context.Background(), &cip.CreateUserPoolInput{
		PoolName:           aws.String(name),
		UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		Schema: []types.SchemaAttributeType{{
			Name:                       aws.String("authChallenge"),
			AttributeDataType:          types.AttributeDataTypeString,
			Mutable:                    aws.Bool(true),
			StringAttributeConstraints: &types.StringAttributeConstraintsType{MinLength: aws.String("0"), MaxLength: aws.String("2048")},
		}},
	})
	if err != nil {
		t.Fatalf("cognito-local CreateUserPool: %v", err)
	}
	return aws.ToString(out.UserPool.Id)
}

// createUser makes a user the way an administrator would; attrs are extra
// attributes (a "sub" among them fixes the user's sub).
func createUser(t *testing.T, poolID, email string, attrs map[string]string) {
	t.Helper()
	in := &cip.AdminCreateUserInput{
		UserPoolId:     aws.String(poolID),
		Username:       aws.String(email),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(email)}},
	}
	for k, v := range attrs {
		in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	if _, err := cog.AdminCreateUser(context.Background(), in); err != nil {
		t.Fatalf("cognito-local AdminCreateUser %s: %v", email, err)
	}
}

// user is a user as cognito-local holds it, or nil.
type user struct {
	Username string
	Enabled  bool
	Status   string
	Attrs    map[string]string
}

func getUser(t *testing.T, poolID, username string) *user {
	t.Helper()
	out, err := cog.AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(username)})
	var nf *types.UserNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		t.Fatalf("cognito-local AdminGetUser %s: %v", username, err)
	}
	u := &user{Username: aws.ToString(out.Username), Enabled: out.Enabled, Status: string(out.UserStatus), Attrs: map[string]string{}}
	for _, a := range out.UserAttributes {
		u.Attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return u
}

// listUsers returns every user of the pool by email.
func listUsers(t *testing.T, poolID string) map[string]user {
	t.Helper()
	out, err := cog.ListUsers(context.Background(), &cip.ListUsersInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatalf("cognito-local ListUsers: %v", err)
	}
	users := map[string]user{}
	for _, u := range out.Users {
		x := user{Username: aws.ToString(u.Username), Enabled: u.Enabled, Status: string(u.UserStatus), Attrs: map[string]string{}}
		for _, a := range u.Attributes {
			x.Attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
		users[x.Attrs["email"]] = x
	}
	return users
}

// --- aws-ses-v2-local ---

// mail is a message as aws-ses-v2-local's store holds it.
type mail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	At int64 `json:"at"`
}

func mails(t *testing.T) []mail {
	t.Helper()
	resp, err := http.Get(peers.sesURL + "/store")
	if err != nil {
		t.Fatalf("aws-ses-v2-local store: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("aws-ses-v2-local store: %d %s", resp.StatusCode, body)
	}
	var store struct {
		Emails []mail `json:"emails"`
	}
	if err := json.Unmarshal(body, &store); err != nil {
		t.Fatalf("aws-ses-v2-local store: %v: %s", err, body)
	}
	return store.Emails
}

// mailsTo returns the messages to the address, oldest first.
func mailsTo(t *testing.T, to string) []mail {
	t.Helper()
	var out []mail
	for _, m := range mails(t) {
		for _, d := range m.Destination.To {
			if strings.EqualFold(d, to) || strings.HasSuffix(strings.ToLower(d), "<"+strings.ToLower(to)+">") {
				out = append(out, m)
			}
		}
	}
	return out
}

func clearMails(t *testing.T) {
	t.Helper()
	resp, err := http.Post(peers.sesURL+"/clear-store", "application/json", bytes.NewReader(nil))
	if err != nil {
		t.Fatalf("aws-ses-v2-local clear-store: %v", err)
	}
	resp.Body.Close()
}

var linkRE = regexp.MustCompile(regexp.QuoteMeta(signInURL) + `#[^\s"'<>]+`)

// link finds the one magic link in both bodies of a mail and returns the
// address and the answer it carries (the fragment split at its last comma).
func link(t *testing.T, m mail) (link, email, answer string) {
	t.Helper()
	text := linkRE.FindAllString(m.Body.Text, -1)
	if len(text) == 0 {
		t.Fatalf("no link to %s# in the text body:\n%s", signInURL, m.Body.Text)
	}
	for _, l := range text[1:] {
		if l != text[0] {
			t.Fatalf("the text body has different links: %q", text)
		}
	}
	l := text[0]
	html := linkRE.FindAllString(m.Body.HTML, -1)
	found := false
	for _, h := range html {
		if strings.ReplaceAll(h, "&amp;", "&") == l {
			found = true
		}
	}
	if !found {
		t.Errorf("the HTML body does not carry the text body's link %q (it has %q)", l, html)
	}
	frag := l[strings.IndexByte(l, '#')+1:]
	i := strings.LastIndexByte(frag, ',')
	if i < 0 {
		t.Fatalf("link fragment %q has no comma", frag)
	}
	email, err := url.QueryUnescape(frag[:i])
	if err != nil {
		t.Fatalf("link fragment %q: address part: %v", frag, err)
	}
	return l, email, frag[i+1:]
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func adminDeleteUser(pool, username string) *cip.AdminDeleteUserInput {
	return &cip.AdminDeleteUserInput{UserPoolId: aws.String(pool), Username: aws.String(username)}
}

func adminDisableUser(pool, username string) *cip.AdminDisableUserInput {
	return &cip.AdminDisableUserInput{UserPoolId: aws.String(pool), Username: aws.String(username)}
}
