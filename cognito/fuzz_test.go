package cognito_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"magiclinks/cognito"
	"magiclinks/internal/testevents"
)

// FuzzHandle feeds the trigger decoder arbitrary events, starting from the
// recorded ones: it never panics, fails only with a *PublicError, and
// otherwise returns a JSON object holding every field it was given, each
// unchanged, plus a response.
func FuzzHandle(f *testing.F) {
	for _, b := range testevents.Load(f, "*.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"x\ud800":1,"triggerSource":"PreSignUp_SignUp"}`))
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
				// What encoding/json reads as an object is an event.
				var obj map[string]json.RawMessage
				if json.Unmarshal(payload, &obj) == nil && obj != nil && pe.Message == "invalid trigger event" {
					t.Fatalf("an object refused as not an event: %v", pe.Cause)
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
			for k, v := range in {
				if _, ok := got[k]; !ok {
					t.Fatalf("field %q dropped", k)
				}
				var a, b bytes.Buffer
				if k != "response" && (json.Compact(&a, v) != nil || json.Compact(&b, got[k]) != nil || a.String() != b.String()) {
					t.Fatalf("field %q changed: %s -> %s", k, v, got[k])
				}
			}
			if len(got) != len(in) && !(len(got) == len(in)+1 && in["response"] == nil) {
				t.Fatalf("%d fields in, %d out", len(in), len(got))
			}
			var resp map[string]any
			if err := json.Unmarshal(got["response"], &resp); err != nil || resp == nil {
				t.Fatalf("response is not an object: %s", got["response"])
			}
		}
	})
}
