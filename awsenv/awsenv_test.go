package awsenv_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"hash/crc32"
	"io"
	"log"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/defaults"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"magiclinks/awsenv"
)

// lambdaEnv is what Lambda gives a function: its region and its execution
// role's keys.
var lambdaEnv = map[string]string{
	"AWS_REGION":            "eu-west-1",
	"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLELAMBDA",
	"AWS_SECRET_ACCESS_KEY": "lambda-secret",
	"AWS_SESSION_TOKEN":     "lambda-session-token",
	"AWS_ACCOUNT_ID":        "123456789012",
}

// opts are the function's own choices, as awsclients.go makes them, but
// for a timeout that a busy machine's TLS handshakes on 127.0.0.1 cannot
// reach.
var opts = awsenv.Options{MaxAttempts: 2, Timeout: 10 * time.Second}

// lambdaWith is lambdaEnv changed by changes; an empty value removes the
// variable.
func lambdaWith(changes map[string]string) map[string]string {
	env := maps.Clone(lambdaEnv)
	for k, v := range changes {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// setenv makes env the process's whole AWS environment until the test ends.
// The others are unset, not emptied: the service clients ask
// os.LookupEnv("AWS_ENDPOINT_URL"), for which an empty variable is set.
func setenv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // restores the value at the end
			os.Unsetenv(k)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sdkConfig is what config.LoadDefaultConfig makes of the process's
// environment, kept off the machine's own shared files and instance
// metadata, which Lambda does not have.
func sdkConfig(t *testing.T) (aws.Config, error) {
	t.Helper()
	empty := writeFile(t, "")
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return config.LoadDefaultConfig(t.Context(), config.WithRetryMaxAttempts(opts.MaxAttempts))
}

// sent is what one request carried that the configuration decides.
type sent struct {
	Err                  string // when the call failed before anything was sent
	Method, URL, Target  string
	Credential           string // the key ID and scope signed with, without the date
	SignedHeaders, Token string
	UserAgent            string // with the app ID and the features in use
	SDKRequest           string // amz-sdk-request: the attempt and the most attempts
}

// capture stands in for the network: it records what a client sends and
// answers 400 ValidationException, which no retryer retries, so each call
// makes one request and nothing leaves the machine, whatever the endpoint.
type capture struct {
	mu   sync.Mutex
	sent []sent
}

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	s := sent{
		Method: r.Method, URL: r.URL.Scheme + "://" + r.URL.Host + r.URL.Path, Target: r.Header.Get("X-Amz-Target"),
		Token: r.Header.Get("X-Amz-Security-Token"), UserAgent: r.Header.Get("User-Agent"), SDKRequest: r.Header.Get("Amz-Sdk-Request"),
	}
	if _, auth, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred, rest, _ := strings.Cut(auth, ", ")
		if parts := strings.Split(cred, "/"); len(parts) == 5 {
			cred = strings.Join(slices.Delete(parts, 1, 2), "/")
		}
		s.Credential = cred
		signed, _, _ := strings.Cut(strings.TrimPrefix(rest, "SignedHeaders="), ",")
		s.SignedHeaders = signed
	}
	c.mu.Lock()
	c.sent = append(c.sent, s)
	c.mu.Unlock()
	const body = `{"__type":"ValidationException","message":"captured"}`
	return &http.Response{
		StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: r,
		Header: http.Header{
			"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Errortype": {"ValidationException"},
			// DynamoDB's clients check it, and LoadDefaultConfig's log a mismatch.
			"X-Amz-Crc32": {strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10)},
		},
		Body: io.NopCloser(strings.NewReader(body)),
	}, nil
}

// request is the operation's request, or the error that stopped it first.
// DynamoDB's endpoint discovery sends DescribeEndpoints from a goroutine of
// its own, so that one is left out.
func (c *capture) request(err error) sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sent {
		if !strings.HasSuffix(s.Target, ".DescribeEndpoints") {
			return s
		}
	}
	if err == nil {
		return sent{Err: "no request and no error"}
	}
	return sent{Err: err.Error()}
}

// client is what a service client was made with, as it resolved it, and
// the request it sends.
type client struct {
	Region, BaseEndpoint       string
	FIPS                       aws.FIPSEndpointState
	DualStack                  aws.DualStackEndpointState
	Discovery                  aws.EndpointDiscoveryEnableState // DynamoDB only
	RetryMaxAttempts           int
	MaxAttempts                int // the retryer's
	RetryMode                  aws.RetryMode
	AppID                      string
	AccountIDEndpointMode      aws.AccountIDEndpointMode
	DefaultsMode               aws.DefaultsMode
	DisableClockSkewCorrection bool
	Request                    sent
}

// defaultsMode is the mode a client runs in (its setResolvedDefaultsMode):
// unset is legacy, auto is decided by where it runs.
func defaultsMode(m aws.DefaultsMode, region string, env aws.RuntimeEnvironment) aws.DefaultsMode {
	var mode aws.DefaultsMode
	mode.SetFromString(string(m))
	if mode == aws.DefaultsModeAuto {
		mode = defaults.ResolveDefaultsModeAuto(region, env)
	}
	return mode
}

// clients makes the function's three clients from cfg and has each send
// the kind of call the function makes.
func clients(t *testing.T, cfg aws.Config) map[string]client {
	t.Helper()
	ctx := t.Context()
	out := map[string]client{}

	var dc capture
	d := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.HTTPClient = &dc })
	_, err := d.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("links"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}},
	})
	do := d.Options()
	out["dynamodb"] = client{
		Region: do.Region, BaseEndpoint: aws.ToString(do.BaseEndpoint),
		FIPS: do.EndpointOptions.UseFIPSEndpoint, DualStack: do.EndpointOptions.UseDualStackEndpoint,
		Discovery:        do.EndpointDiscovery.EnableEndpointDiscovery,
		RetryMaxAttempts: do.RetryMaxAttempts, MaxAttempts: do.Retryer.MaxAttempts(), RetryMode: do.RetryMode,
		AppID: do.AppID, AccountIDEndpointMode: do.AccountIDEndpointMode,
		DefaultsMode:               defaultsMode(do.DefaultsMode, do.Region, do.RuntimeEnvironment),
		DisableClockSkewCorrection: do.DisableClockSkewCorrection,
		Request:                    dc.request(err),
	}

	var sc capture
	s := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.HTTPClient = &sc })
	_, err = s.GetAccount(ctx, &sesv2.GetAccountInput{})
	so := s.Options()
	out["sesv2"] = client{
		Region: so.Region, BaseEndpoint: aws.ToString(so.BaseEndpoint),
		FIPS: so.EndpointOptions.UseFIPSEndpoint, DualStack: so.EndpointOptions.UseDualStackEndpoint,
		RetryMaxAttempts: so.RetryMaxAttempts, MaxAttempts: so.Retryer.MaxAttempts(), RetryMode: so.RetryMode,
		AppID:                      so.AppID, // SES v2 has no account ID endpoints
		DefaultsMode:               defaultsMode(so.DefaultsMode, so.Region, so.RuntimeEnvironment),
		DisableClockSkewCorrection: so.DisableClockSkewCorrection,
		Request:                    sc.request(err),
	}

	var cc capture
	c := cip.NewFromConfig(cfg, func(o *cip.Options) { o.HTTPClient = &cc })
	_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String("eu-west-1_example"), Username: aws.String("someone")})
	co := c.Options()
	out["cognito"] = client{
		Region: co.Region, BaseEndpoint: aws.ToString(co.BaseEndpoint),
		FIPS: co.EndpointOptions.UseFIPSEndpoint, DualStack: co.EndpointOptions.UseDualStackEndpoint,
		RetryMaxAttempts: co.RetryMaxAttempts, MaxAttempts: co.Retryer.MaxAttempts(), RetryMode: co.RetryMode,
		AppID:        co.AppID, // nor has Cognito
		DefaultsMode: defaultsMode(co.DefaultsMode, co.Region, co.RuntimeEnvironment),
		Request:      cc.request(err),
	}
	return out
}

// settings are the aws.Config fields that no client above reads back (the
// checksum settings matter to S3's only) or that clients take as they are.
type settings struct {
	Region, BaseEndpoint       string
	RetryMaxAttempts           int
	RetryMode                  aws.RetryMode
	AppID                      string
	DefaultsMode               aws.DefaultsMode
	AccountIDEndpointMode      aws.AccountIDEndpointMode
	RequestChecksum            aws.RequestChecksumCalculation
	ResponseChecksum           aws.ResponseChecksumValidation
	DisableClockSkewCorrection bool
	Credentials                aws.Credentials
}

func settingsOf(t *testing.T, cfg aws.Config) settings {
	t.Helper()
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatalf("credentials: %v", err)
	}
	s := settings{
		Region: cfg.Region, BaseEndpoint: aws.ToString(cfg.BaseEndpoint),
		RetryMaxAttempts: cfg.RetryMaxAttempts, RetryMode: cfg.RetryMode, AppID: cfg.AppID,
		DefaultsMode:          defaultsMode(cfg.DefaultsMode, cfg.Region, cfg.RuntimeEnvironment),
		AccountIDEndpointMode: cfg.AccountIDEndpointMode,
		RequestChecksum:       cfg.RequestChecksumCalculation, ResponseChecksum: cfg.ResponseChecksumValidation,
		DisableClockSkewCorrection: cfg.DisableClockSkewCorrection,
		Credentials:                creds,
	}
	// Unset is when_supported for the clients that read them, which
	// LoadDefaultConfig writes in and awsenv leaves unset.
	if s.RequestChecksum == 0 {
		s.RequestChecksum = aws.RequestChecksumCalculationWhenSupported
	}
	if s.ResponseChecksum == 0 {
		s.ResponseChecksum = aws.ResponseChecksumValidationWhenSupported
	}
	return s
}

// The same environment makes the same clients, sending the same requests
// to the same endpoints with the same credentials, whether the SDK's
// LoadDefaultConfig reads it or awsenv does.
func TestSameAsTheSDK(t *testing.T) {
	const (
		global  = "http://127.0.0.1:4566"
		dynamo  = "http://127.0.0.1:8000"
		ses     = "http://127.0.0.1:8001"
		cognito = "http://127.0.0.1:8002"
	)
	services := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": dynamo, "AWS_ENDPOINT_URL_SESV2": ses, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": cognito,
	}
	plus := func(a, b map[string]string) map[string]string {
		m := maps.Clone(a)
		maps.Copy(m, b)
		return m
	}
	tests := map[string]struct {
		env map[string]string // changes to lambdaEnv
		// The URL DynamoDB's GetItem goes to, or "" if it fails first: that
		// both agree on the right thing, not only on something.
		dynamoURL string
	}{
		"Lambda's":                            {nil, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"AWS_DEFAULT_REGION only":             {map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2"}, "https://123456789012.ddb.us-west-2.amazonaws.com/"},
		"AWS_REGION over AWS_DEFAULT_REGION":  {map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"keys without session or account":     {map[string]string{"AWS_SESSION_TOKEN": "", "AWS_ACCOUNT_ID": ""}, "https://dynamodb.eu-west-1.amazonaws.com/"},
		"older key names":                     {map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ACCESS_KEY": "AKIDOLDNAME", "AWS_SECRET_KEY": "old-secret"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"AWS_ENDPOINT_URL":                    {map[string]string{"AWS_ENDPOINT_URL": global}, global + "/"},
		"service endpoints":                   {services, dynamo + "/"},
		"service endpoints over the global":   {plus(services, map[string]string{"AWS_ENDPOINT_URL": global}), dynamo + "/"},
		"global where no service endpoint":    {map[string]string{"AWS_ENDPOINT_URL": global, "AWS_ENDPOINT_URL_SESV2": ses}, global + "/"},
		"configured endpoints ignored":        {plus(services, map[string]string{"AWS_ENDPOINT_URL": global, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}), "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"configured endpoints ignored, True":  {plus(services, map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "True"}), "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"configured endpoints not ignored":    {plus(services, map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}), dynamo + "/"},
		"FIPS":                                {map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_REGION": "us-east-1"}, "https://dynamodb-fips.us-east-1.amazonaws.com/"},
		"FIPS FALSE":                          {map[string]string{"AWS_USE_FIPS_ENDPOINT": "FALSE"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"dual-stack TRUE":                     {map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "TRUE"}, "https://123456789012.ddb.eu-west-1.api.aws/"},
		"dual-stack fAlSe":                    {map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "fAlSe"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"FIPS and dual-stack":                 {map[string]string{"AWS_USE_FIPS_ENDPOINT": "True", "AWS_USE_DUALSTACK_ENDPOINT": "true", "AWS_REGION": "us-east-1"}, "https://dynamodb-fips.us-east-1.api.aws/"},
		"FIPS with an endpoint":               {map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL": global}, ""},
		"endpoint discovery true":             {map[string]string{"AWS_ENABLE_ENDPOINT_DISCOVERY": "true"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"endpoint discovery FALSE":            {map[string]string{"AWS_ENABLE_ENDPOINT_DISCOVERY": "FALSE"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"endpoint discovery auto":             {map[string]string{"AWS_ENABLE_ENDPOINT_DISCOVERY": "auto"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"endpoint discovery with an endpoint": {map[string]string{"AWS_ENABLE_ENDPOINT_DISCOVERY": "true", "AWS_ENDPOINT_URL_DYNAMODB": dynamo}, dynamo + "/"},
		"adaptive retries":                    {map[string]string{"AWS_RETRY_MODE": "adaptive"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"standard retries":                    {map[string]string{"AWS_RETRY_MODE": "standard"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"defaults mode standard":              {map[string]string{"AWS_DEFAULTS_MODE": "standard"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"defaults mode In-Region":             {map[string]string{"AWS_DEFAULTS_MODE": "In-Region"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"defaults mode legacy":                {map[string]string{"AWS_DEFAULTS_MODE": "legacy"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"defaults mode auto in Lambda":        {map[string]string{"AWS_DEFAULTS_MODE": "auto", "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"defaults mode auto elsewhere":        {map[string]string{"AWS_DEFAULTS_MODE": "AUTO"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"account ID endpoints disabled":       {map[string]string{"AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}, "https://dynamodb.eu-west-1.amazonaws.com/"},
		"account ID endpoints required":       {map[string]string{"AWS_ACCOUNT_ID_ENDPOINT_MODE": "required"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"account ID required, none given":     {map[string]string{"AWS_ACCOUNT_ID_ENDPOINT_MODE": "required", "AWS_ACCOUNT_ID": ""}, ""},
		"account ID endpoints preferred":      {map[string]string{"AWS_ACCOUNT_ID_ENDPOINT_MODE": "preferred"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"app ID":                              {map[string]string{"AWS_SDK_UA_APP_ID": "magiclinks-test"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"checksums when required":             {map[string]string{"AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"checksums when supported":            {map[string]string{"AWS_REQUEST_CHECKSUM_CALCULATION": "when_supported", "AWS_RESPONSE_CHECKSUM_VALIDATION": "When_Supported"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
		"clock skew correction off":           {map[string]string{"AWS_DISABLE_CLOCK_SKEW_CORRECTION": "true"}, "https://123456789012.ddb.eu-west-1.amazonaws.com/"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			setenv(t, lambdaWith(tt.env))
			want, err := sdkConfig(t)
			if err != nil {
				t.Fatalf("LoadDefaultConfig: %v", err)
			}
			got, err := awsenv.Load(os.Getenv, os.ReadFile, opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if g, w := settingsOf(t, got), settingsOf(t, want); g != w {
				t.Errorf("configuration\n got %+v\nwant %+v", g, w)
			}
			gotClients, wantClients := clients(t, got), clients(t, want)
			for _, service := range slices.Sorted(maps.Keys(wantClients)) {
				if g, w := gotClients[service], wantClients[service]; g != w {
					t.Errorf("%s client\n got %+v\nwant %+v", service, g, w)
				}
			}
			if r := gotClients["dynamodb"].Request; r.URL != tt.dynamoURL {
				t.Errorf("DynamoDB called %q (error %q), want %q", r.URL, r.Err, tt.dynamoURL)
			}
		})
	}
}

// Each setting the function cannot honour, or honour only by guessing, stops
// it at start with an error that names the variable.
func TestRefused(t *testing.T) {
	withSettings := writeFile(t, "[default]\nregion = us-east-1\n")
	notPEM := writeFile(t, "not a certificate\n")
	type refusal struct {
		env    map[string]string // changes to lambdaEnv
		naming string            // the variable the error names
		sdkToo bool              // LoadDefaultConfig refuses it too
	}
	tests := map[string]refusal{
		"config file with settings":                 {env: map[string]string{"AWS_CONFIG_FILE": withSettings}, naming: "AWS_CONFIG_FILE"},
		"credentials file with settings":            {env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": withSettings}, naming: "AWS_SHARED_CREDENTIALS_FILE"},
		"config file a directory":                   {env: map[string]string{"AWS_CONFIG_FILE": t.TempDir()}, naming: "AWS_CONFIG_FILE"},
		"no region":                                 {env: map[string]string{"AWS_REGION": ""}, naming: "AWS_REGION"},
		"key ID without secret":                     {env: map[string]string{"AWS_SECRET_ACCESS_KEY": ""}, naming: "AWS_SECRET_ACCESS_KEY"},
		"secret without key ID":                     {env: map[string]string{"AWS_ACCESS_KEY_ID": ""}, naming: "AWS_ACCESS_KEY_ID"},
		"older key name without secret":             {env: map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_ACCESS_KEY": "AKIDOLD", "AWS_SECRET_ACCESS_KEY": ""}, naming: "AWS_ACCESS_KEY "},
		"no credentials":                            {env: map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, naming: "AWS_ACCESS_KEY_ID"},
		"FIPS yes":                                  {env: map[string]string{"AWS_USE_FIPS_ENDPOINT": "yes"}, naming: "AWS_USE_FIPS_ENDPOINT", sdkToo: true},
		"dual-stack 1":                              {env: map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "1"}, naming: "AWS_USE_DUALSTACK_ENDPOINT", sdkToo: true},
		"endpoint discovery on":                     {env: map[string]string{"AWS_ENABLE_ENDPOINT_DISCOVERY": "on"}, naming: "AWS_ENABLE_ENDPOINT_DISCOVERY", sdkToo: true},
		"ignore endpoints 0":                        {env: map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "0"}, naming: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", sdkToo: true},
		"clock skew correction off":                 {env: map[string]string{"AWS_DISABLE_CLOCK_SKEW_CORRECTION": "off"}, naming: "AWS_DISABLE_CLOCK_SKEW_CORRECTION", sdkToo: true},
		"retry mode legacy":                         {env: map[string]string{"AWS_RETRY_MODE": "legacy"}, naming: "AWS_RETRY_MODE", sdkToo: true},
		"retry mode Adaptive, case-sensitive":       {env: map[string]string{"AWS_RETRY_MODE": "Adaptive"}, naming: "AWS_RETRY_MODE", sdkToo: true},
		"defaults mode fast":                        {env: map[string]string{"AWS_DEFAULTS_MODE": "fast"}, naming: "AWS_DEFAULTS_MODE", sdkToo: true},
		"account ID endpoint mode always":           {env: map[string]string{"AWS_ACCOUNT_ID_ENDPOINT_MODE": "always"}, naming: "AWS_ACCOUNT_ID_ENDPOINT_MODE", sdkToo: true},
		"account ID mode Preferred, case-sensitive": {env: map[string]string{"AWS_ACCOUNT_ID_ENDPOINT_MODE": "Preferred"}, naming: "AWS_ACCOUNT_ID_ENDPOINT_MODE", sdkToo: true},
		"request checksum always":                   {env: map[string]string{"AWS_REQUEST_CHECKSUM_CALCULATION": "always"}, naming: "AWS_REQUEST_CHECKSUM_CALCULATION", sdkToo: true},
		"response checksum never":                   {env: map[string]string{"AWS_RESPONSE_CHECKSUM_VALIDATION": "never"}, naming: "AWS_RESPONSE_CHECKSUM_VALIDATION", sdkToo: true},
		"endpoint without a scheme":                 {env: map[string]string{"AWS_ENDPOINT_URL": "127.0.0.1:4566"}, naming: "AWS_ENDPOINT_URL"},
		"endpoint host:port":                        {env: map[string]string{"AWS_ENDPOINT_URL": "localhost:4566"}, naming: "AWS_ENDPOINT_URL"},
		"endpoint a path":                           {env: map[string]string{"AWS_ENDPOINT_URL": "/dynamodb"}, naming: "AWS_ENDPOINT_URL"},
		"CA bundle missing":                         {env: map[string]string{"AWS_CA_BUNDLE": filepath.Join(t.TempDir(), "missing.pem")}, naming: "AWS_CA_BUNDLE", sdkToo: true},
		"CA bundle without PEM":                     {env: map[string]string{"AWS_CA_BUNDLE": notPEM}, naming: "AWS_CA_BUNDLE", sdkToo: true},
		"container endpoint over http to another host": {
			env:    map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.5/creds"},
			naming: "AWS_CONTAINER_CREDENTIALS_FULL_URI", sdkToo: true,
		},
		"container endpoint not http": {
			env:    map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "ftp://127.0.0.1/creds"},
			naming: "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		},
	}
	// The ones that must stay refused, and any added since.
	refused := []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_MAX_ATTEMPTS"}
	for _, name := range slices.Concat(refused, slices.Collect(maps.Keys(awsenv.Refused))) {
		tests[name+" set"] = refusal{env: map[string]string{name: "x"}, naming: name}
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := awsenv.Load(getenv(lambdaWith(tt.env)), os.ReadFile, opts)
			if !errors.Is(err, awsenv.ErrSetting) || !strings.Contains(err.Error(), tt.naming) {
				t.Fatalf("error %v, want ErrSetting naming %s", err, tt.naming)
			}
		})
	}

	// Where LoadDefaultConfig refuses a value too, awsenv refuses no more
	// than the SDK would: the same values are wrong.
	for name, tt := range tests {
		if !tt.sdkToo {
			continue
		}
		t.Run("the SDK too: "+name, func(t *testing.T) {
			setenv(t, lambdaWith(tt.env))
			if _, err := sdkConfig(t); err == nil {
				t.Fatalf("LoadDefaultConfig accepted %v", tt.env)
			}
		})
	}
}

// What the function's operators and its local stand-ins set and the
// function can honour is accepted.
func TestAccepted(t *testing.T) {
	empty := writeFile(t, "")
	blank := writeFile(t, "\n  \n")
	missing := filepath.Join(t.TempDir(), "missing")
	container := func(uri string) map[string]string {
		return lambdaWith(map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": uri})
	}
	tests := map[string]map[string]string{
		"config file empty":                   lambdaWith(map[string]string{"AWS_CONFIG_FILE": empty}),
		"config file blank":                   lambdaWith(map[string]string{"AWS_CONFIG_FILE": blank}),
		"config file /dev/null":               lambdaWith(map[string]string{"AWS_CONFIG_FILE": os.DevNull}),
		"config file missing":                 lambdaWith(map[string]string{"AWS_CONFIG_FILE": missing}),
		"credentials file empty":              lambdaWith(map[string]string{"AWS_SHARED_CREDENTIALS_FILE": empty}),
		"credentials file /dev/null":          lambdaWith(map[string]string{"AWS_SHARED_CREDENTIALS_FILE": os.DevNull}),
		"credentials file missing":            lambdaWith(map[string]string{"AWS_SHARED_CREDENTIALS_FILE": missing}),
		"https endpoint":                      lambdaWith(map[string]string{"AWS_ENDPOINT_URL": "https://localhost:4566/base"}),
		"bad endpoint, ignored":               lambdaWith(map[string]string{"AWS_ENDPOINT_URL": "localhost:4566", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"}),
		"container endpoint on loopback":      container("http://127.0.0.1:9/creds"),
		"container endpoint on localhost":     container("http://localhost:9/creds"),
		"container endpoint on LOCALHOST.":    container("http://LOCALHOST.:9/creds"),
		"container endpoint on IPv6 loopback": container("http://[::1]:9/creds"),
		"ECS container endpoint":              container("http://169.254.170.2/v2/credentials"),
		"EKS pod identity endpoint":           container("http://169.254.170.23/v1/credentials"),
		"EKS pod identity endpoint on IPv6":   container("http://[fd00:ec2::23]/v1/credentials"),
		"container endpoint over https":       container("https://203.0.113.5/creds"),
		"relative container endpoint":         lambdaWith(map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"}),
	}
	for name, env := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := awsenv.Load(getenv(env), os.ReadFile, opts); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A service's endpoint variable is read only when its client is made, so the
// function checks the three at start; each has the SDK's name for it.
func TestCheckServiceEndpoints(t *testing.T) {
	ids := []string{cip.ServiceID, sesv2.ServiceID, dynamodb.ServiceID}
	tests := map[string]struct {
		env    map[string]string
		naming string // "" if accepted
	}{
		"none":            {nil, ""},
		"all good":        {map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SESV2": "https://127.0.0.1:8001", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://localhost:8002/"}, ""},
		"other services'": {map[string]string{"AWS_ENDPOINT_URL_S3": "s3.local"}, ""},
		"DynamoDB's":      {map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "127.0.0.1:8000"}, "AWS_ENDPOINT_URL_DYNAMODB"},
		"SES's":           {map[string]string{"AWS_ENDPOINT_URL_SESV2": "ftp://127.0.0.1"}, "AWS_ENDPOINT_URL_SESV2"},
		"Cognito's":       {map[string]string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://"}, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"},
		// The clients will not read them: nothing to stop the start for.
		"bad, but ignored": {map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "localhost:8000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := awsenv.CheckServiceEndpoints(getenv(tt.env), ids...)
			switch {
			case tt.naming == "" && err != nil:
				t.Fatal(err)
			case tt.naming != "" && (!errors.Is(err, awsenv.ErrSetting) || !strings.Contains(err.Error(), tt.naming)):
				t.Fatalf("error %v, want ErrSetting naming %s", err, tt.naming)
			}
		})
	}
}

// pemFile writes certs as a PEM bundle.
func pemFile(t *testing.T, certs ...*x509.Certificate) string {
	t.Helper()
	var b strings.Builder
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return writeFile(t, b.String())
}

var quiet = log.New(io.Discard, "", 0)

// otherTLSServer serves over TLS with a certificate of its own (every
// httptest TLS server shares one).
func otherTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = quiet
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// AWS_CA_BUNDLE's certificates are what the function trusts, and the only
// ones, as in the SDK.
func TestCABundle(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewUnstartedServer(ok)
	srv.Config.ErrorLog = quiet // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	other := otherTLSServer(t, ok)
	bundle := pemFile(t, srv.Certificate())

	get := func(cfg aws.Config, url string) error {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cfg.HTTPClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s", resp.Status)
		}
		return nil
	}
	load := func(env map[string]string) aws.Config {
		cfg, err := awsenv.Load(getenv(env), os.ReadFile, opts)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	var unknown x509.UnknownAuthorityError

	withBundle := load(lambdaWith(map[string]string{"AWS_CA_BUNDLE": bundle}))
	if err := get(withBundle, srv.URL); err != nil {
		t.Errorf("with the server's certificate in AWS_CA_BUNDLE: %v", err)
	}
	if err := get(withBundle, other.URL); !errors.As(err, &unknown) {
		t.Errorf("a server whose certificate is not in AWS_CA_BUNDLE: error %v, want an unknown authority", err)
	}
	if err := get(load(lambdaEnv), srv.URL); !errors.As(err, &unknown) {
		t.Errorf("without AWS_CA_BUNDLE: error %v, want an unknown authority", err)
	}
	both := load(lambdaWith(map[string]string{"AWS_CA_BUNDLE": pemFile(t, srv.Certificate(), other.Certificate())}))
	for _, url := range []string{srv.URL, other.URL} {
		if err := get(both, url); err != nil {
			t.Errorf("with both certificates in AWS_CA_BUNDLE: %v", err)
		}
	}
	if got := withBundle.HTTPClient.(*awshttp.BuildableClient).GetTimeout(); got != opts.Timeout {
		t.Errorf("with AWS_CA_BUNDLE each attempt's timeout is %v, want %v", got, opts.Timeout)
	}

	t.Run("same roots as the SDK", func(t *testing.T) {
		setenv(t, lambdaWith(map[string]string{"AWS_CA_BUNDLE": bundle}))
		sdk, err := sdkConfig(t)
		if err != nil {
			t.Fatal(err)
		}
		roots := func(cfg aws.Config) *x509.CertPool {
			return cfg.HTTPClient.(*awshttp.BuildableClient).GetTransport().TLSClientConfig.RootCAs
		}
		only := x509.NewCertPool()
		only.AddCert(srv.Certificate())
		if !roots(withBundle).Equal(roots(sdk)) || !roots(sdk).Equal(only) {
			t.Error("the roots differ from LoadDefaultConfig's, the bundle's certificate alone")
		}
	})
}

// credentialServer is a container credentials endpoint on 127.0.0.1, as
// ECS and EKS Pod Identity serve it, that answers only to token.
// It returns the server and how many requests it has had.
func credentialServer(t *testing.T, token string, expires time.Time, overTLS bool) (*httptest.Server, func() int) {
	t.Helper()
	var requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/creds" || r.Header.Get("Authorization") != token {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":"AccessDenied","message":"wrong token"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "container-secret", "Token": "container-session",
			"AccountId": "210987654321", "Expiration": expires.Format(time.RFC3339),
		})
	}))
	srv.Config.ErrorLog = quiet
	if overTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, func() int { return int(requests.Load()) }
}

// Outside Lambda (ECS, EKS, the local stand-ins) credentials come from a
// container credentials endpoint, with a token given or read from a file.
func TestContainerCredentials(t *testing.T) {
	const token = "the-token"
	expires := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	srv, requests := credentialServer(t, token, expires, false)
	tokenFile := writeFile(t, token)
	wrongFile := writeFile(t, "wrong")
	base := lambdaWith(map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_ACCOUNT_ID": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds"})
	env := func(changes map[string]string) map[string]string {
		m := maps.Clone(base)
		maps.Copy(m, changes)
		return m
	}
	want := aws.Credentials{
		AccessKeyID: "ASIACONTAINER", SecretAccessKey: "container-secret", SessionToken: "container-session",
		AccountID: "210987654321", CanExpire: true, Source: "CredentialsEndpointProvider",
		// Renewed five minutes early, as the SDK does.
		Expires: expires.Add(-5 * time.Minute),
	}
	same := func(got, want aws.Credentials) bool {
		return got.AccessKeyID == want.AccessKeyID && got.SecretAccessKey == want.SecretAccessKey &&
			got.SessionToken == want.SessionToken && got.AccountID == want.AccountID &&
			got.CanExpire == want.CanExpire && got.Expires.Equal(want.Expires) && got.Source == want.Source
	}

	tests := map[string]struct {
		env     map[string]string
		wantErr bool
	}{
		"token":                  {env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": token}), false},
		"token file":             {env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile}), false},
		"token file over token":  {env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile}), false},
		"wrong token":            {env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"}), true},
		"wrong token file":       {env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": wrongFile}), true},
		"no token":               {base, true},
		"token file missing":     {env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": filepath.Join(t.TempDir(), "missing")}), true},
		"token with a line feed": {env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": token + "\n"}), true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := awsenv.Load(getenv(tt.env), os.ReadFile, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.Credentials.Retrieve(t.Context())
			switch {
			case tt.wantErr && err == nil:
				t.Fatalf("credentials %+v, want an error", got)
			case !tt.wantErr && err != nil:
				t.Fatal(err)
			case !tt.wantErr && !same(got, want):
				t.Fatalf("credentials\n got %+v\nwant %+v", got, want)
			}

			// The SDK makes the same of it.
			setenv(t, tt.env)
			sdk, err := sdkConfig(t)
			if err != nil {
				t.Fatal(err)
			}
			sdkGot, sdkErr := sdk.Credentials.Retrieve(t.Context())
			if (sdkErr != nil) != tt.wantErr || (sdkErr == nil && !same(got, sdkGot)) {
				t.Fatalf("LoadDefaultConfig's credentials %+v, %v; awsenv's %+v, %v", sdkGot, sdkErr, got, err)
			}
		})
	}

	t.Run("token file read when the credentials are fetched", func(t *testing.T) {
		file := writeFile(t, "not yet")
		cfg, err := awsenv.Load(getenv(env(map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": file})), os.ReadFile, opts)
		if err != nil {
			t.Fatal(err)
		}
		// The agent rotates the token in the file.
		if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := cfg.Credentials.Retrieve(t.Context()); err != nil || !same(got, want) {
			t.Fatalf("credentials %+v, %v", got, err)
		}
	})

	t.Run("keys in the environment first", func(t *testing.T) {
		before := requests()
		cfg, err := awsenv.Load(getenv(env(map[string]string{
			"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
		})), os.ReadFile, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfg.Credentials.Retrieve(t.Context())
		if err != nil || got.AccessKeyID != "AKIDENV" || got.SecretAccessKey != "env-secret" {
			t.Fatalf("credentials %+v, %v, want the environment's keys", got, err)
		}
		if requests() != before {
			t.Fatal("the container endpoint was asked though the environment has keys")
		}
	})
	// AWS_CA_BUNDLE is for the services: LoadDefaultConfig fetches container
	// credentials with a client of its own, which trusts the system's roots.
	t.Run("AWS_CA_BUNDLE not for the endpoint", func(t *testing.T) {
		tlsSrv, _ := credentialServer(t, token, expires, true)
		env := env(map[string]string{
			"AWS_CONTAINER_CREDENTIALS_FULL_URI": tlsSrv.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
			"AWS_CA_BUNDLE": pemFile(t, tlsSrv.Certificate()),
		})
		var unknown x509.UnknownAuthorityError
		cfg, err := awsenv.Load(getenv(env), os.ReadFile, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := cfg.Credentials.Retrieve(t.Context()); !errors.As(err, &unknown) {
			t.Errorf("credentials %+v, error %v, want an unknown authority", got, err)
		}
		setenv(t, env)
		sdk, err := sdkConfig(t)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := sdk.Credentials.Retrieve(t.Context()); !errors.As(err, &unknown) {
			t.Errorf("LoadDefaultConfig's credentials %+v, error %v, want an unknown authority", got, err)
		}
	})
}
