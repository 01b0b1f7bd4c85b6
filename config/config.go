// Package config reads the function's configuration from the environment
// (DESIGN.md "Contract: configuration") and validates all of it at once, so a
// misconfigured deployment fails at init naming every bad variable instead of
// half-working.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"magiclinks/challenge"
)

// SignUp says what POST /login does for an address with no account.
type SignUp string

const (
	SignUpOff  SignUp = "off"  // unknown addresses get nothing
	SignUpAuto SignUp = "auto" // unknown addresses get an account and a link
)

// Config is the validated configuration.
type Config struct {
	UserPoolID       string
	UserPoolClientID string // optional for the triggers; the sign-in page needs it
	EmailFrom        string
	SESConfigSet     string // optional SES configuration set
	SignInURL        string
	LinkTTL          time.Duration
	ResendInterval   time.Duration
	// LoginMinDuration is the least time POST /login takes to answer 202,
	// so that a known address (two more AWS calls) does not answer later
	// than an unknown one.
	LoginMinDuration time.Duration
	SignUp           SignUp
	MaxAttempts      int
	AllowedOrigins   []string
	// CognitoEndpoint is the Cognito user-pool endpoint the browser calls; empty
	// means the regional AWS one, which the caller derives from the region.
	CognitoEndpoint string
	// LinksTable is the DynamoDB table of the link store; empty means the
	// seed's Cognito attribute.
	LinksTable string
	// LoginLimit is LOGIN_LIMIT_PER_IP; LoginLimitSet says it was given
	// rather than defaulted (the attribute mode refuses a given limit).
	LoginLimit    Limit
	LoginLimitSet bool
	// LinkSecret keys the codes' MACs and seals the cross-device request
	// handles; every instance must share it. Never logged.
	LinkSecret string
	// TemplatesDir holds mail templates that replace the built-in ones
	// file by file (package mailer); empty: built-in only. Read and checked
	// by mailer.LoadTemplates at start.
	TemplatesDir string
}

// Limit is a number of requests per fixed window; the zero Limit is off.
type Limit struct {
	N   int
	Per time.Duration
}

// Off reports whether the limit is turned off.
func (l Limit) Off() bool { return l.N <= 0 }

func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	per := l.Per.String() // "15m0s": shown as written, "15m"
	if strings.HasSuffix(per, "m0s") {
		per = strings.TrimSuffix(per, "0s")
	}
	if strings.HasSuffix(per, "h0m") {
		per = strings.TrimSuffix(per, "0m")
	}
	return strconv.Itoa(l.N) + "/" + per
}

// ParseLimit reads "N/duration" (e.g. "100/15m") or "off".
func ParseLimit(v string) (Limit, error) {
	if strings.EqualFold(v, "off") {
		return Limit{}, nil
	}
	ns, ds, ok := strings.Cut(v, "/")
	n, err1 := strconv.Atoi(strings.TrimSpace(ns))
	d, err2 := time.ParseDuration(strings.TrimSpace(ds))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Limit{}, fmt.Errorf("must be N/duration (e.g. %s) or off, got %q", DefaultLoginLimit, v)
	case n < 1 || n > MaxLoginLimitN:
		return Limit{}, fmt.Errorf("N must be from 1 to %d, got %d", MaxLoginLimitN, n)
	case d < time.Second || d > 24*time.Hour || d%time.Second != 0:
		return Limit{}, fmt.Errorf("the window must be whole seconds from 1s to 24h, got %s", d)
	}
	return Limit{N: n, Per: d}, nil
}

// Limits keep values inside what Cognito and the link format can carry.
const (
	MinLinkTTL = time.Minute
	MaxLinkTTL = challenge.MaxTTL
	// DefaultLinkTTL follows OWASP ASVS 5.0 V6.5.5: at most 10 minutes.
	DefaultLinkTTL = 10 * time.Minute
	MaxMaxAttempts = 10
	// The floor must leave the rest of Lambda's few seconds to the work.
	DefaultLoginMinDuration = 800 * time.Millisecond
	MaxLoginMinDuration     = 3 * time.Second
	// DefaultLoginLimit lets a shared office or campus NAT sign in a
	// hundred people in a quarter of an hour, while one client can mail at
	// most 400 addresses an hour.
	DefaultLoginLimit = "100/15m"
	// MinLinkSecret: 32 characters of a random secret are far beyond search.
	MinLinkSecret  = 32
	MaxLoginLimitN = 1_000_000
)

// ErrInvalid wraps every configuration problem.
var ErrInvalid = errors.New("invalid configuration")

// Load reads and validates the configuration through getenv (os.Getenv in
// production, a map in tests). All problems are reported together.
func Load(getenv func(string) string) (Config, error) {
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	required := func(name string) string {
		v := get(name)
		if v == "" {
			bad(name, "required")
		}
		return v
	}
	duration := func(name string, def time.Duration, min, max time.Duration) time.Duration {
		v := get(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			bad(name, "not a Go duration (e.g. 15m): %q", v)
			return def
		}
		if d < min || d > max {
			bad(name, "must be between %s and %s, got %s", min, max, d)
		}
		return d
	}

	c := Config{
		UserPoolID:       required("USER_POOL_ID"),
		UserPoolClientID: get("USER_POOL_CLIENT_ID"),
		EmailFrom:        required("EMAIL_FROM"),
		SESConfigSet:     get("SES_CONFIGURATION_SET"),
		SignInURL:        required("SIGN_IN_URL"),
		LinkTTL:          duration("LINK_TTL", DefaultLinkTTL, MinLinkTTL, MaxLinkTTL),
		ResendInterval:   duration("RESEND_INTERVAL", time.Minute, 0, time.Hour),
		LoginMinDuration: duration("LOGIN_MIN_DURATION", DefaultLoginMinDuration, 0, MaxLoginMinDuration),
		CognitoEndpoint:  get("COGNITO_ENDPOINT"),
		LinksTable:       get("LINKS_TABLE"),
		TemplatesDir:     get("TEMPLATES_DIR"),
	}

	limit := get("LOGIN_LIMIT_PER_IP")
	c.LoginLimitSet = limit != ""
	if limit == "" {
		limit = DefaultLoginLimit
	}
	if l, err := ParseLimit(limit); err != nil {
		bad("LOGIN_LIMIT_PER_IP", "%v", err)
	} else {
		c.LoginLimit = l
	}
	c.LinkSecret = getenv("LINK_SECRET") // not trimmed: a secret is what it is
	if c.LinkSecret != "" && len(c.LinkSecret) < MinLinkSecret {
		bad("LINK_SECRET", "must be at least %d characters (it has %d)", MinLinkSecret, len(c.LinkSecret))
	}
	if c.LinksTable != "" && !validTableName(c.LinksTable) {
		bad("LINKS_TABLE", "not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)")
	}

	if c.EmailFrom != "" {
		if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
			bad("EMAIL_FROM", "not an address like \"Example <no-reply@example.com>\"")
		}
	}
	var signInOrigin string
	if c.SignInURL != "" {
		u, err := url.Parse(c.SignInURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			bad("SIGN_IN_URL", "must be an absolute http(s) URL")
		case u.Fragment != "" || strings.Contains(c.SignInURL, "#"):
			bad("SIGN_IN_URL", "must not have a fragment: the link adds its own")
		default:
			signInOrigin = u.Scheme + "://" + u.Host
		}
	}
	if c.CognitoEndpoint != "" {
		if u, err := url.Parse(c.CognitoEndpoint); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			bad("COGNITO_ENDPOINT", "must be an absolute http(s) URL")
		}
	}

	switch v := SignUp(strings.ToLower(get("SIGN_UP"))); v {
	case "":
		c.SignUp = SignUpOff
	case SignUpOff, SignUpAuto:
		c.SignUp = v
	default:
		bad("SIGN_UP", "must be %q or %q, got %q", SignUpOff, SignUpAuto, string(v))
	}

	c.MaxAttempts = 3
	if v := get("MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMaxAttempts {
			bad("MAX_ATTEMPTS", "must be a whole number from 1 to %d, got %q", MaxMaxAttempts, v)
		} else {
			c.MaxAttempts = n
		}
	}

	if v := get("ALLOWED_ORIGINS"); v != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimRight(strings.TrimSpace(o), "/")
			if o == "" {
				continue
			}
			if u, err := url.Parse(o); err != nil || u.Host == "" || u.Path != "" || (u.Scheme != "https" && u.Scheme != "http") {
				bad("ALLOWED_ORIGINS", "%q is not an origin like https://app.example.com", o)
				continue
			}
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
		// An empty list would mean "any origin" to the CORS middleware.
		if len(c.AllowedOrigins) == 0 {
			bad("ALLOWED_ORIGINS", "set but names no origin")
		}
	} else if signInOrigin != "" {
		c.AllowedOrigins = []string{signInOrigin}
	}

	if len(problems) > 0 {
		return Config{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return c, nil
}

func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
