package cognito_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"magiclinks/cognito"
	"magiclinks/internal/testevents"
)

// FuzzHandle feeds the trigger decoder arbitrary events, starting from the
// recorded ones: it never panics, fails only with a *PublicError, and
// otherwise returns a JSON object holding every field it was given plus a
// response.
func FuzzHandle(f *testing.F) {
	for _, b := range testevents.Load(f, "*.json") {
		f.Add(b)
	}
	tr := newTriggers(&fakeUsers{})
	failing := newTriggers(&fakeUsers{err: errors.New("outage")})
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, tr := range []*cognito.Triggers{tr, failing} {
			out, err := tr.Handle(context.Background(), payload)
			if err != nil {
				var pe *cognito.PublicError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T %v is not a *PublicError", err, err)
				}
				if out != nil {
					t.Fatalf("output with an error: %s", out)
				}
				continue
			}
			var in, got map[string]json.RawMessage
			if err := json.Unmarshal(payload, &in); err != nil {
				t.Fatalf("accepted a payload that is not an object: %v", err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not a JSON object: %v\n%s", err, out)
			}
			for k := range in {
				if _, ok := got[k]; !ok {
					t.Fatalf("field %q dropped", k)
				}
			}
			var resp map[string]any
			if err := json.Unmarshal(got["response"], &resp); err != nil || resp == nil {
				t.Fatalf("response is not an object: %s", got["response"])
			}
		}
	})
}
