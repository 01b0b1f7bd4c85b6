package main

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The configuration is read once, on the first call, however many calls
// race for it, and a failure reaches every caller.
func TestLazyClients(t *testing.T) {
	var reads, makes atomic.Int32
	cfg := func() (aws.Config, error) { reads.Add(1); return aws.Config{Region: "eu-west-1"}, nil }
	get := lazy(cfg, func(c aws.Config) string { makes.Add(1); return c.Region })
	if reads.Load() != 0 {
		t.Fatal("the configuration was read before the first call")
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if r, err := get(); err != nil || r != "eu-west-1" {
				t.Errorf("get() = %q, %v", r, err)
			}
		})
	}
	wg.Wait()
	if reads.Load() != 1 || makes.Load() != 1 {
		t.Fatalf("%d reads and %d clients for 32 racing calls, want 1 and 1", reads.Load(), makes.Load())
	}

	broken := errors.New("no configuration")
	failing := lazy(func() (aws.Config, error) { return aws.Config{}, broken }, func(aws.Config) string { return "x" })
	for range 2 {
		if _, err := failing(); !errors.Is(err, broken) {
			t.Fatalf("error %v, want the configuration's", err)
		}
	}
	// Making the Lambda's clients reads nothing yet.
	c := lambdaClients(func(k string) string { return map[string]string{"AWS_REGION": "eu-west-1"}[k] }, true)
	if c.region != "eu-west-1" || c.cognito == nil || c.ses == nil || c.dynamo == nil {
		t.Fatalf("clients %+v", c)
	}
}
