package local

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// fakeTriggers plays the trigger Lambda with the product's rules in their
// simplest form: the challenge is stored in custom:authChallenge as is, three
// wrong answers fail. It records every event it receives.
type fakeTriggers struct {
	mu     sync.Mutex
	events []map[string]any
	// fail, when set, makes the named trigger source fail this way.
	fail map[string]func() ([]byte, error)
	// alwaysCorrect makes Verify say yes to anything (to prove the stand-in
	// still never signs in an unknown user).
	alwaysCorrect bool
	// emptyPrivate makes Create return no private parameters.
	emptyPrivate bool
}

func (f *fakeTriggers) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("fake: bad event: %w", err)
	}
	var record map[string]any // a copy: ev is about to get its response
	json.Unmarshal(payload, &record)
	f.mu.Lock()
	f.events = append(f.events, record)
	fail := f.fail[ev["triggerSource"].(string)]
	f.mu.Unlock()
	if fail != nil {
		return fail()
	}
	req := ev["request"].(map[string]any)
	resp := map[string]any{}
	switch ev["triggerSource"] {
	case "DefineAuthChallenge_Authentication":
		session := req["session"].([]any)
		foreign := false // the product's rule: only custom challenges get tokens
		for _, e := range session {
			foreign = foreign || e.(map[string]any)["challengeName"] != "CUSTOM_CHALLENGE"
		}
		switch {
		case foreign:
			resp["issueTokens"], resp["failAuthentication"] = false, true
		case len(session) > 0 && session[len(session)-1].(map[string]any)["challengeResult"] == true:
			resp["issueTokens"], resp["failAuthentication"] = true, false
		case len(session) >= 3:
			resp["issueTokens"], resp["failAuthentication"] = false, true
		default:
			resp["challengeName"], resp["issueTokens"], resp["failAuthentication"] = "CUSTOM_CHALLENGE", false, false
		}
	case "CreateAuthChallenge_Authentication":
		if f.emptyPrivate {
			resp["privateChallengeParameters"] = map[string]string{}
		} else {
			resp["privateChallengeParameters"] = map[string]string{"challenge": "MAGIC_LINK"}
		}
		resp["publicChallengeParameters"] = map[string]string{"kind": "link"}
		resp["challengeMetadata"] = "MAGIC_LINK"
	case "VerifyAuthChallengeResponse_Authentication":
		attrs := req["userAttributes"].(map[string]any)
		want, _ := attrs["custom:authChallenge"].(string)
		got, _ := req["challengeAnswer"].(string)
		resp["answerCorrect"] = f.alwaysCorrect || (want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1)
	case "PreSignUp_AdminCreateUser":
		resp["autoConfirmUser"], resp["autoVerifyEmail"] = true, false
	case "PostAuthentication_Authentication":
	default:
		return nil, errors.New("fake: unexpected trigger")
	}
	ev["response"] = resp
	return json.Marshal(ev)
}

func (f *fakeTriggers) eventsOf(source string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, e := range f.events {
		if e["triggerSource"] == source {
			out = append(out, e)
		}
	}
	return out
}

const (
	testRegion = "us-east-1"
	testPool   = "us-east-1_localpool"
	testClient = "localclient"
)

// testEnv is a Stack behind a real HTTP server, with SDK clients pointed at
// it the way main points its own.
type testEnv struct {
	stack    *Stack
	srv      *httptest.Server
	triggers *fakeTriggers
	clock    *Clock
	cip      *cip.Client
	ses      *sesv2.Client
}

func newTestEnv(t testing.TB, f *fakeTriggers) *testEnv {
	t.Helper()
	if f == nil {
		f = &fakeTriggers{}
	}
	srv := httptest.NewUnstartedServer(nil)
	clock := NewClock(time.Now)
	st, err := New(Options{
		Region: testRegion, UserPoolID: testPool, ClientID: testClient,
		BaseURL:  "http://" + srv.Listener.Addr().String(),
		Triggers: f,
		Clock:    clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = st.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	creds := credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", "")
	return &testEnv{
		stack: st, srv: srv, triggers: f, clock: clock,
		cip: cip.New(cip.Options{
			Region: testRegion, BaseEndpoint: aws.String(st.CognitoEndpoint()), Credentials: creds,
			HTTPClient: srv.Client(), RetryMaxAttempts: 1,
		}),
		ses: sesv2.New(sesv2.Options{
			Region: testRegion, BaseEndpoint: aws.String(st.SESEndpoint()), Credentials: creds,
			HTTPClient: srv.Client(), RetryMaxAttempts: 1,
		}),
	}
}
