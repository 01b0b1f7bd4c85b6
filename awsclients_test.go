package main

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"magiclinks/awsenv"
)

// A client is made once, on the first call, however many calls race for it.
func TestLazyClients(t *testing.T) {
	var makes atomic.Int32
	get := lazy(aws.Config{Region: "eu-west-1"}, func(c aws.Config) string { makes.Add(1); return c.Region })
	if makes.Load() != 0 {
		t.Fatal("the client was made before the first call")
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if r := get(); r != "eu-west-1" {
				t.Errorf("get() = %q", r)
			}
		})
	}
	wg.Wait()
	if makes.Load() != 1 {
		t.Fatalf("%d clients for 32 racing calls, want 1", makes.Load())
	}
	c := lambdaClients(aws.Config{Region: "eu-west-1"}, true)
	if c.region != "eu-west-1" || c.cognito == nil || c.ses == nil || c.dynamo == nil {
		t.Fatalf("clients %+v", c)
	}
	if c := lambdaClients(aws.Config{Region: "eu-west-1"}, false); c.dynamo != nil {
		t.Fatal("a DynamoDB client without LINKS_TABLE")
	}
}

// The function's AWS settings: Lambda's environment works, and a bad
// endpoint for any of the three services stops the start naming its
// variable, though the clients are made only later.
func TestLambdaAWS(t *testing.T) {
	lambdaEnv := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
	}
	getenv := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return lambdaEnv[k]
		}
	}
	cfg, err := lambdaAWS(getenv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.RetryMaxAttempts != 2 {
		t.Fatalf("region %q, max attempts %d", cfg.Region, cfg.RetryMaxAttempts)
	}
	for _, name := range []string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_DYNAMODB"} {
		_, err := lambdaAWS(getenv(map[string]string{name: "127.0.0.1:9000"}))
		if !errors.Is(err, awsenv.ErrSetting) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s without a scheme: error %v, want one naming it", name, err)
		}
	}
}
