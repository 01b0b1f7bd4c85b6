package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"magiclinks/config"
)

var required = map[string]string{
	"USER_POOL_ID": "ap-south-1_Ex4mpl3Ab",
	"EMAIL_FROM":   "Example <no-reply@example.com>",
	"SIGN_IN_URL":  "https://app.example.com/sign-in",
}

func load(vars map[string]string) (config.Config, error) {
	all := map[string]string{}
	for k, v := range required {
		all[k] = v
	}
	for k, v := range vars {
		all[k] = v
	}
	return config.Load(func(k string) string { return all[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	got, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		UserPoolID:       "ap-south-1_Ex4mpl3Ab",
		EmailFrom:        "Example <no-reply@example.com>",
		SignInURL:        "https://app.example.com/sign-in",
		LinkTTL:          10 * time.Minute, // OWASP ASVS 5.0 V6.5.5
		ResendInterval:   time.Minute,
		LoginMinDuration: 800 * time.Millisecond,
		SignUp:           config.SignUpOff,
		MaxAttempts:      3,
		AllowedOrigins:   []string{"https://app.example.com"},
		LoginLimit:       config.Limit{N: 100, Per: 15 * time.Minute},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load() = %+v\nwant %+v", got, want)
	}
}

func TestValues(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		vars  map[string]string
		check func(c config.Config) bool
	}{
		"LINK_TTL":                {vars: map[string]string{"LINK_TTL": "1h30m"}, check: func(c config.Config) bool { return c.LinkTTL == 90*time.Minute }},
		"RESEND_INTERVAL off":     {vars: map[string]string{"RESEND_INTERVAL": "0s"}, check: func(c config.Config) bool { return c.ResendInterval == 0 }},
		"LOGIN_MIN_DURATION off":  {vars: map[string]string{"LOGIN_MIN_DURATION": "0s"}, check: func(c config.Config) bool { return c.LoginMinDuration == 0 }},
		"LOGIN_MIN_DURATION 1.5s": {vars: map[string]string{"LOGIN_MIN_DURATION": "1500ms"}, check: func(c config.Config) bool { return c.LoginMinDuration == 1500*time.Millisecond }},
		"SIGN_UP auto":            {vars: map[string]string{"SIGN_UP": "auto"}, check: func(c config.Config) bool { return c.SignUp == config.SignUpAuto }},
		"SIGN_UP is case-blind":   {vars: map[string]string{"SIGN_UP": " AUTO "}, check: func(c config.Config) bool { return c.SignUp == config.SignUpAuto }},
		"MAX_ATTEMPTS":            {vars: map[string]string{"MAX_ATTEMPTS": "5"}, check: func(c config.Config) bool { return c.MaxAttempts == 5 }},
		"LINKS_TABLE":             {vars: map[string]string{"LINKS_TABLE": "magic-links.prod_1"}, check: func(c config.Config) bool { return c.LinksTable == "magic-links.prod_1" }},
		"TEMPLATES_DIR":           {vars: map[string]string{"TEMPLATES_DIR": " ./my-templates "}, check: func(c config.Config) bool { return c.TemplatesDir == "./my-templates" }},
		"LOGIN_LIMIT_PER_IP": {vars: map[string]string{"LOGIN_LIMIT_PER_IP": " 30/15m "}, check: func(c config.Config) bool {
			return c.LoginLimit == config.Limit{N: 30, Per: 15 * time.Minute} && c.LoginLimitSet
		}},
		"LOGIN_LIMIT_PER_IP off":           {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "OFF"}, check: func(c config.Config) bool { return c.LoginLimit.Off() && c.LoginLimitSet }},
		"LOGIN_LIMIT_PER_IP hour":          {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "1/1h"}, check: func(c config.Config) bool { return c.LoginLimit.String() == "1/1h" }},
		"LOGIN_LIMIT_PER_IP shown":         {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "30/90s"}, check: func(c config.Config) bool { return c.LoginLimit.String() == "30/1m30s" }},
		"LOGIN_LIMIT_PER_IP default shown": {vars: nil, check: func(c config.Config) bool { return c.LoginLimit.String() == "100/15m" }},
		"ALLOWED_ORIGINS list": {vars: map[string]string{"ALLOWED_ORIGINS": " https://a.example.com/ , http://localhost:8080,"}, check: func(c config.Config) bool {
			return reflect.DeepEqual(c.AllowedOrigins, []string{"https://a.example.com", "http://localhost:8080"})
		}},
		"origin keeps the port": {vars: map[string]string{"SIGN_IN_URL": "http://127.0.0.1:8080/sign-in?x=1"}, check: func(c config.Config) bool {
			return reflect.DeepEqual(c.AllowedOrigins, []string{"http://127.0.0.1:8080"})
		}},
		"client ID":               {vars: map[string]string{"USER_POOL_CLIENT_ID": "abc"}, check: func(c config.Config) bool { return c.UserPoolClientID == "abc" }},
		"configuration set":       {vars: map[string]string{"SES_CONFIGURATION_SET": "cs"}, check: func(c config.Config) bool { return c.SESConfigSet == "cs" }},
		"values are trimmed":      {vars: map[string]string{"USER_POOL_ID": "  p  "}, check: func(c config.Config) bool { return c.UserPoolID == "p" }},
		"Cognito endpoint":        {vars: map[string]string{"COGNITO_ENDPOINT": "http://127.0.0.1:9229"}, check: func(c config.Config) bool { return c.CognitoEndpoint == "http://127.0.0.1:9229" }},
		"shortest LINK_TTL":       {vars: map[string]string{"LINK_TTL": "1m"}, check: func(c config.Config) bool { return c.LinkTTL == time.Minute }},
		"longest RESEND_INTERVAL": {vars: map[string]string{"RESEND_INTERVAL": "1h"}, check: func(c config.Config) bool { return c.ResendInterval == time.Hour }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := load(tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		vars map[string]string
		want []string // every variable the error must name
	}{
		"missing USER_POOL_ID":          {vars: map[string]string{"USER_POOL_ID": ""}, want: []string{"USER_POOL_ID"}},
		"blank EMAIL_FROM":              {vars: map[string]string{"EMAIL_FROM": "   "}, want: []string{"EMAIL_FROM"}},
		"bad EMAIL_FROM":                {vars: map[string]string{"EMAIL_FROM": "Example no-reply"}, want: []string{"EMAIL_FROM"}},
		"missing SIGN_IN_URL":           {vars: map[string]string{"SIGN_IN_URL": ""}, want: []string{"SIGN_IN_URL"}},
		"relative SIGN_IN_URL":          {vars: map[string]string{"SIGN_IN_URL": "/sign-in"}, want: []string{"SIGN_IN_URL"}},
		"ftp SIGN_IN_URL":               {vars: map[string]string{"SIGN_IN_URL": "ftp://app.example.com/"}, want: []string{"SIGN_IN_URL"}},
		"fragment in SIGN_IN_URL":       {vars: map[string]string{"SIGN_IN_URL": "https://app.example.com/#/sign-in"}, want: []string{"SIGN_IN_URL"}},
		"empty fragment in SIGN_IN_URL": {vars: map[string]string{"SIGN_IN_URL": "https://app.example.com/sign-in#"}, want: []string{"SIGN_IN_URL"}},
		"LINK_TTL not a duration":       {vars: map[string]string{"LINK_TTL": "15"}, want: []string{"LINK_TTL"}},
		"LINK_TTL too short":            {vars: map[string]string{"LINK_TTL": "30s"}, want: []string{"LINK_TTL"}},
		"LINK_TTL too long":             {vars: map[string]string{"LINK_TTL": "25h"}, want: []string{"LINK_TTL"}},
		"negative RESEND_INTERVAL":      {vars: map[string]string{"RESEND_INTERVAL": "-1s"}, want: []string{"RESEND_INTERVAL"}},
		"RESEND_INTERVAL too long":      {vars: map[string]string{"RESEND_INTERVAL": "2h"}, want: []string{"RESEND_INTERVAL"}},
		"LOGIN_MIN_DURATION too long":   {vars: map[string]string{"LOGIN_MIN_DURATION": "5s"}, want: []string{"LOGIN_MIN_DURATION"}},
		"LOGIN_MIN_DURATION negative":   {vars: map[string]string{"LOGIN_MIN_DURATION": "-1ms"}, want: []string{"LOGIN_MIN_DURATION"}},
		"SIGN_UP unknown":               {vars: map[string]string{"SIGN_UP": "yes"}, want: []string{"SIGN_UP"}},
		"MAX_ATTEMPTS zero":             {vars: map[string]string{"MAX_ATTEMPTS": "0"}, want: []string{"MAX_ATTEMPTS"}},
		"LOGIN_LIMIT_PER_IP no window":  {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "30"}, want: []string{"LOGIN_LIMIT_PER_IP"}},
		"LOGIN_LIMIT_PER_IP zero":       {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "0/15m"}, want: []string{"LOGIN_LIMIT_PER_IP"}},
		"LOGIN_LIMIT_PER_IP negative":   {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "-5/15m"}, want: []string{"LOGIN_LIMIT_PER_IP"}},
		"LOGIN_LIMIT_PER_IP subsecond":  {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "5/500ms"}, want: []string{"LOGIN_LIMIT_PER_IP"}},
		"LOGIN_LIMIT_PER_IP two days":   {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "5/48h"}, want: []string{"LOGIN_LIMIT_PER_IP"}},
		"LOGIN_LIMIT_PER_IP words":      {vars: map[string]string{"LOGIN_LIMIT_PER_IP": "thirty per hour"}, want: []string{"LOGIN_LIMIT_PER_IP"}},
		"LINKS_TABLE bad name":          {vars: map[string]string{"LINKS_TABLE": "links table!"}, want: []string{"LINKS_TABLE"}},
		"LINKS_TABLE too short":         {vars: map[string]string{"LINKS_TABLE": "ab"}, want: []string{"LINKS_TABLE"}},
		"MAX_ATTEMPTS too high":         {vars: map[string]string{"MAX_ATTEMPTS": "11"}, want: []string{"MAX_ATTEMPTS"}},
		"MAX_ATTEMPTS not a number":     {vars: map[string]string{"MAX_ATTEMPTS": "three"}, want: []string{"MAX_ATTEMPTS"}},
		"ALLOWED_ORIGINS with a path":   {vars: map[string]string{"ALLOWED_ORIGINS": "https://app.example.com/x"}, want: []string{"ALLOWED_ORIGINS"}},
		"ALLOWED_ORIGINS wildcard":      {vars: map[string]string{"ALLOWED_ORIGINS": "*"}, want: []string{"ALLOWED_ORIGINS"}},
		"ALLOWED_ORIGINS only commas":   {vars: map[string]string{"ALLOWED_ORIGINS": " , "}, want: []string{"ALLOWED_ORIGINS"}},
		"bad COGNITO_ENDPOINT":          {vars: map[string]string{"COGNITO_ENDPOINT": "localhost:9229"}, want: []string{"COGNITO_ENDPOINT"}},
		"all problems together": {
			vars: map[string]string{"USER_POOL_ID": "", "EMAIL_FROM": "", "SIGN_IN_URL": "https://x/#a", "LINK_TTL": "forever", "RESEND_INTERVAL": "-1m", "SIGN_UP": "maybe", "MAX_ATTEMPTS": "0", "ALLOWED_ORIGINS": "nope"},
			want: []string{"USER_POOL_ID", "EMAIL_FROM", "SIGN_IN_URL", "LINK_TTL", "RESEND_INTERVAL", "SIGN_UP", "MAX_ATTEMPTS", "ALLOWED_ORIGINS"},
		},
	}
	all := []string{"USER_POOL_ID", "EMAIL_FROM", "SIGN_IN_URL", "LINK_TTL", "RESEND_INTERVAL", "SIGN_UP", "MAX_ATTEMPTS", "ALLOWED_ORIGINS", "COGNITO_ENDPOINT"}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := load(tc.vars)
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Load() error = %v, want ErrInvalid", err)
			}
			if !reflect.DeepEqual(c, config.Config{}) {
				t.Errorf("a half-filled config came back with the error: %+v", c)
			}
			for _, v := range tc.want {
				if !strings.Contains(err.Error(), v+":") {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
			for _, v := range all {
				if !contains(tc.want, v) && strings.Contains(err.Error(), v+":") {
					t.Errorf("error %q also names %s, which is valid here", err, v)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// EMAIL_FROM is checked twice: here at every start, and by Terraform's
// validation of email_from before a deployment (terraform/terraform_test.go
// runs the same table through it). The two must agree, or an address
// Terraform accepts stops every invocation at init.
func TestEmailFromTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../testdata/email_from.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Addresses []struct {
			Value string `json:"value"`
			Valid bool   `json:"valid"`
		} `json:"addresses"`
	}
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Addresses) == 0 {
		t.Fatal("empty table")
	}
	for _, a := range table.Addresses {
		_, err := load(map[string]string{"EMAIL_FROM": a.Value})
		var invalid bool
		if err != nil {
			if !strings.Contains(err.Error(), "EMAIL_FROM") {
				t.Fatalf("EMAIL_FROM=%q: unrelated error %v", a.Value, err)
			}
			invalid = true
		}
		if invalid == a.Valid {
			t.Errorf("EMAIL_FROM=%q: Load() error %v, want valid=%t", a.Value, err, a.Valid)
		}
	}
}
