// Package awsenv makes the Lambda function's aws.Config from the AWS SDK's
// standard environment settings, with the SDK's own building blocks
// (credential providers, HTTP client, retryer, endpoint and FIPS resolution)
// and the meaning the SDK gives each variable.
//
// It exists because github.com/aws/aws-sdk-go-v2/config, whose
// LoadDefaultConfig does this for every source there is, links the SDK's
// STS, SSO, SSO-OIDC and Sign-In clients for its shared-profile and
// role-assuming credential chain. None of that runs in Lambda, whose
// credentials are in the environment, yet their package initialisation ran
// at every cold start (about 1 ms of the 4 ms a trivial Go function takes)
// and their code was 2.5 MiB of the artifact. What a Lambda function can be
// given is read here; what needs the chain (profiles, web identity, shared
// files) stops the start with an error naming the variable, so nothing an
// operator sets is silently ignored.
package awsenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// ErrSetting is wrapped by every error Load returns; the message names the
// variable.
var ErrSetting = errors.New("AWS setting")

// Options are the function's own choices, which no environment variable
// overrides.
type Options struct {
	// MaxAttempts bounds each AWS call's attempts (Cognito gives a trigger
	// 5 s).
	MaxAttempts int
	// Timeout bounds each attempt.
	Timeout time.Duration
}

// Refused are settings only the SDK's shared-config and role-assuming chain
// reads. The function stops rather than run with credentials or a region
// other than the ones its operator meant.
var Refused = map[string]string{
	"AWS_PROFILE":                 "profiles live in shared config files, which the function does not read; give the role's permissions to the function's execution role",
	"AWS_DEFAULT_PROFILE":         "profiles live in shared config files, which the function does not read; give the role's permissions to the function's execution role",
	"AWS_ROLE_ARN":                "the function does not assume roles; give the role's permissions to the function's execution role",
	"AWS_WEB_IDENTITY_TOKEN_FILE": "the function does not assume roles with web identity; Lambda gives it its execution role's credentials",
	"AWS_MAX_ATTEMPTS":            "every AWS call makes at most 2 attempts of 1.5 s, so a trigger answers inside the 5 s Cognito waits",
}

// sharedFiles may be set only to a file that holds no settings (the
// emulators and tests point them at /dev/null).
var sharedFiles = []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}

// Load reads the settings. getenv is os.Getenv outside tests; readFile
// reads, at start, AWS_CA_BUNDLE and the files AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE name. AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE's
// token is read from the file system on each credential refresh, as the SDK
// does.
func Load(getenv func(string) string, readFile func(string) ([]byte, error), opts Options) (aws.Config, error) {
	// Sorted: the same error from start to start.
	for _, name := range slices.Sorted(maps.Keys(Refused)) {
		if getenv(name) != "" {
			return aws.Config{}, fmt.Errorf("%w: %s is set: not read by this function: %s", ErrSetting, name, Refused[name])
		}
	}
	for _, name := range sharedFiles {
		if path := getenv(name); path != "" {
			b, err := readFile(path)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return aws.Config{}, fmt.Errorf("%w: %s: %w", ErrSetting, name, err)
			}
			if len(bytes.TrimSpace(b)) > 0 {
				return aws.Config{}, fmt.Errorf("%w: %s names a file with settings in it; the function reads its AWS settings from the environment only", ErrSetting, name)
			}
		}
	}

	src := &sources{}
	cfg := aws.Config{
		Region:           firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION"),
		RetryMaxAttempts: opts.MaxAttempts,
		AppID:            getenv("AWS_SDK_UA_APP_ID"),
		ConfigSources:    []any{src},
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("%w: AWS_REGION is not set (Lambda always sets it)", ErrSetting)
	}
	cfg.RuntimeEnvironment = aws.RuntimeEnvironment{
		EnvironmentIdentifier: aws.ExecutionEnvironmentID(getenv("AWS_EXECUTION_ENV")),
		Region:                cfg.Region,
	}

	var err error
	if src.fips, err = boolSetting(getenv, "AWS_USE_FIPS_ENDPOINT"); err != nil {
		return aws.Config{}, err
	}
	if src.dualStack, err = boolSetting(getenv, "AWS_USE_DUALSTACK_ENDPOINT"); err != nil {
		return aws.Config{}, err
	}
	// The SDK also takes auto here, DynamoDB's default.
	if v := getenv("AWS_ENABLE_ENDPOINT_DISCOVERY"); strings.EqualFold(v, "auto") {
		src.discovery = auto
	} else if src.discovery, err = boolSetting(getenv, "AWS_ENABLE_ENDPOINT_DISCOVERY"); err != nil {
		return aws.Config{}, fmt.Errorf("%w: AWS_ENABLE_ENDPOINT_DISCOVERY=%q is not true, false or auto", ErrSetting, v)
	}
	skew, err := boolSetting(getenv, "AWS_DISABLE_CLOCK_SKEW_CORRECTION")
	if err != nil {
		return aws.Config{}, err
	}
	cfg.DisableClockSkewCorrection = skew == yes
	if err := endpoints(getenv, &cfg, src); err != nil {
		return aws.Config{}, err
	}
	if err := enums(getenv, &cfg); err != nil {
		return aws.Config{}, err
	}

	client := awshttp.NewBuildableClient().WithTimeout(opts.Timeout)
	// As in the SDK, AWS_CA_BUNDLE is for the services, not the container
	// credentials endpoint.
	credentialsClient := client
	if path := getenv("AWS_CA_BUNDLE"); path != "" {
		pem, err := readFile(path)
		if err != nil {
			return aws.Config{}, fmt.Errorf("%w: AWS_CA_BUNDLE: %w", ErrSetting, err)
		}
		// As the SDK does: the bundle's certificates are the only roots.
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return aws.Config{}, fmt.Errorf("%w: AWS_CA_BUNDLE: %s holds no PEM certificate", ErrSetting, path)
		}
		client = client.WithTransportOptions(func(t *http.Transport) {
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.RootCAs = roots
		})
	}
	cfg.HTTPClient = client

	if cfg.Credentials, err = credentialsFrom(getenv, credentialsClient); err != nil {
		return aws.Config{}, err
	}
	return cfg, nil
}

// credentialsFrom picks the credentials as the SDK's chain does for the
// sources a function can have: keys in the environment (what Lambda gives),
// else a container credentials endpoint.
func credentialsFrom(getenv func(string) string, client aws.HTTPClient) (aws.CredentialsProvider, error) {
	idName, id := firstSetNamed(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
	secretName, secret := firstSetNamed(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	switch {
	case id != "" && secret != "":
		return aws.NewCredentialsCache(credentials.StaticCredentialsProvider{
			Value: aws.Credentials{
				AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"),
				AccountID: getenv("AWS_ACCOUNT_ID"), Source: "EnvConfigCredentials",
			},
			Source: []aws.CredentialSource{aws.CredentialSourceEnvVars},
		}), nil
	case id != "":
		return nil, fmt.Errorf("%w: %s is set without AWS_SECRET_ACCESS_KEY", ErrSetting, idName)
	case secret != "":
		return nil, fmt.Errorf("%w: %s is set without AWS_ACCESS_KEY_ID", ErrSetting, secretName)
	}

	endpoint := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	name := "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	if rel := getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		endpoint, name = "http://169.254.170.2"+rel, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
	} else if endpoint == "" {
		return nil, fmt.Errorf("%w: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the execution role)", ErrSetting)
	} else if err := allowedCredentialsEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSetting, name, err)
	}
	token, tokenFile := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"), getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
	provider := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.HTTPClient = client
		o.AuthorizationToken = token
		if tokenFile != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return "", fmt.Errorf("reading AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
				}
				return string(b), nil
			})
		}
		o.CredentialSources = []aws.CredentialSource{aws.CredentialSourceHTTP}
	})
	return aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

// allowedCredentialsEndpoint is the SDK's rule for a full URI: over plain
// HTTP only to loopback or the ECS and EKS credential addresses.
func allowedCredentialsEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http or https URL", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	ip := net.ParseIP(u.Hostname())
	// The SDK resolves a name and allows it if it resolves to those
	// addresses; at start, without DNS, only localhost is taken as one.
	if ip == nil && strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), "localhost") {
		return nil
	}
	if ip == nil || !(ip.IsLoopback() || ip.Equal(net.ParseIP("169.254.170.2")) ||
		ip.Equal(net.ParseIP("169.254.170.23")) || ip.Equal(net.ParseIP("fd00:ec2::23"))) {
		return fmt.Errorf("host %q: over http only loopback and the ECS/EKS credential addresses are allowed", u.Hostname())
	}
	return nil
}

// endpoints reads AWS_ENDPOINT_URL and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
// each client reads its own AWS_ENDPOINT_URL_<SERVICE> through sources.
func endpoints(getenv func(string) string, cfg *aws.Config, src *sources) error {
	ignore, err := boolSetting(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	if err != nil {
		return err
	}
	src.ignoreEndpoints = ignore == yes
	src.getenv = getenv
	if base := getenv("AWS_ENDPOINT_URL"); base != "" && !src.ignoreEndpoints {
		if err := checkURL("AWS_ENDPOINT_URL", base); err != nil {
			return err
		}
		cfg.BaseEndpoint = aws.String(base)
	}
	return nil
}

// CheckServiceEndpoints checks AWS_ENDPOINT_URL_<SERVICE> for the given SDK
// service IDs (the clients read them only when made, on first use).
func CheckServiceEndpoints(getenv func(string) string, sdkIDs ...string) error {
	if ignore, _ := boolSetting(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); ignore == yes {
		return nil // the clients will not read them
	}
	for _, id := range sdkIDs {
		name := serviceEndpointVar(id)
		if v := getenv(name); v != "" {
			if err := checkURL(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkURL(name, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %s=%q is not an http or https URL", ErrSetting, name, v)
	}
	return nil
}

// serviceEndpointVar is the SDK's name for a service's endpoint variable:
// the service ID upper-cased with spaces as underscores.
func serviceEndpointVar(sdkID string) string {
	return "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
}

// enums reads the settings whose values the aws package names.
func enums(getenv func(string) string, cfg *aws.Config) error {
	if v := getenv("AWS_RETRY_MODE"); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			return fmt.Errorf("%w: AWS_RETRY_MODE: %w", ErrSetting, err)
		}
		cfg.RetryMode = mode
	}
	if v := getenv("AWS_DEFAULTS_MODE"); v != "" {
		if !cfg.DefaultsMode.SetFromString(v) {
			return fmt.Errorf("%w: AWS_DEFAULTS_MODE=%q is not one of standard, in-region, cross-region, mobile, auto, legacy", ErrSetting, v)
		}
	}
	// Unset is preferred and the values are lower case only, as in
	// LoadDefaultConfig (the clients report the mode in the User-Agent).
	switch v := getenv("AWS_ACCOUNT_ID_ENDPOINT_MODE"); v {
	case "":
		cfg.AccountIDEndpointMode = aws.AccountIDEndpointModePreferred
	case "preferred", "required", "disabled":
		cfg.AccountIDEndpointMode = aws.AccountIDEndpointMode(v)
	default:
		return fmt.Errorf("%w: AWS_ACCOUNT_ID_ENDPOINT_MODE=%q is not one of preferred, required, disabled", ErrSetting, v)
	}
	var err error
	if cfg.RequestChecksumCalculation, err = checksumSetting(getenv, "AWS_REQUEST_CHECKSUM_CALCULATION",
		aws.RequestChecksumCalculationWhenSupported, aws.RequestChecksumCalculationWhenRequired); err != nil {
		return err
	}
	if cfg.ResponseChecksumValidation, err = checksumSetting(getenv, "AWS_RESPONSE_CHECKSUM_VALIDATION",
		aws.ResponseChecksumValidationWhenSupported, aws.ResponseChecksumValidationWhenRequired); err != nil {
		return err
	}
	return nil
}

// checksumSetting reads when_supported or when_required, in any case, as
// the SDK does; unset is the zero value, which the SDK reads as its default.
func checksumSetting[T any](getenv func(string) string, name string, supported, required T) (T, error) {
	var zero T
	switch v := strings.ToLower(getenv(name)); v {
	case "":
		return zero, nil
	case "when_supported":
		return supported, nil
	case "when_required":
		return required, nil
	default:
		return zero, fmt.Errorf("%w: %s=%q is not when_supported or when_required", ErrSetting, name, v)
	}
}

type tristate int

const (
	unset tristate = iota
	yes
	no
	auto // AWS_ENABLE_ENDPOINT_DISCOVERY only
)

// boolSetting reads true or false, in any case, as the SDK does.
func boolSetting(getenv func(string) string, name string) (tristate, error) {
	switch v := getenv(name); {
	case v == "":
		return unset, nil
	case strings.EqualFold(v, "true"):
		return yes, nil
	case strings.EqualFold(v, "false"):
		return no, nil
	default:
		return unset, fmt.Errorf("%w: %s=%q is not true or false", ErrSetting, name, v)
	}
}

// sources answers the service clients' questions about configured endpoints,
// FIPS, dual-stack and endpoint discovery: the SDK's extension points
// (aws.Config.ConfigSources), which config.EnvConfig implements the same way.
type sources struct {
	getenv                     func(string) string
	fips, dualStack, discovery tristate
	ignoreEndpoints            bool
}

// state maps a setting to the SDK's value for it: found unless unset.
func state[T any](t tristate, states map[tristate]T) (T, bool, error) {
	v, found := states[t]
	return v, found, nil
}

var (
	fipsStates      = map[tristate]aws.FIPSEndpointState{yes: aws.FIPSEndpointStateEnabled, no: aws.FIPSEndpointStateDisabled}
	dualStackStates = map[tristate]aws.DualStackEndpointState{yes: aws.DualStackEndpointStateEnabled, no: aws.DualStackEndpointStateDisabled}
	discoveryStates = map[tristate]aws.EndpointDiscoveryEnableState{
		yes: aws.EndpointDiscoveryEnabled, no: aws.EndpointDiscoveryDisabled, auto: aws.EndpointDiscoveryAuto,
	}
)

func (s *sources) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	return state(s.fips, fipsStates)
}

func (s *sources) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	return state(s.dualStack, dualStackStates)
}

func (s *sources) GetEnableEndpointDiscovery(context.Context) (aws.EndpointDiscoveryEnableState, bool, error) {
	return state(s.discovery, discoveryStates)
}

func (s *sources) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return s.ignoreEndpoints, s.ignoreEndpoints, nil
}

func (s *sources) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if v := s.getenv(serviceEndpointVar(sdkID)); v != "" {
		return v, true, nil
	}
	return "", false, nil
}

func firstSet(getenv func(string) string, names ...string) string {
	_, v := firstSetNamed(getenv, names...)
	return v
}

// firstSetNamed is the first of the variables set, and its value.
func firstSetNamed(getenv func(string) string, names ...string) (name, value string) {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return n, v
		}
	}
	return "", ""
}
