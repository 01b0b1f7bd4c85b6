package challenge

import (
	"encoding/json"
	"errors"
	"magiclinks/internal/testevents"
	"reflect"
	"testing"
	"time"
)

// seedAttributes returns every custom:authChallenge value in the recorded
// events, so the fuzzer starts from real values.
func seedAttributes(f *testing.F) []string {
	f.Helper()
	var out []string
	for _, b := range testevents.Load(f, "*.json") {
		var e struct {
			Request struct {
				UserAttributes map[string]any `json:"userAttributes"`
			} `json:"request"`
		}
		if json.Unmarshal(b, &e) != nil {
			continue
		}
		if v, ok := e.Request.UserAttributes["custom:authChallenge"].(string); ok {
			out = append(out, v)
		}
	}
	return out
}

// FuzzParse: Parse never panics, rejects only with ErrMalformed, and what it
// accepts round-trips and fits in an attribute, also after another Add.
func FuzzParse(f *testing.F) {
	for _, v := range seedAttributes(f) {
		f.Add(v)
	}
	f.Add("")
	f.Add("v1")
	f.Add(Set{}.Add("x", t0, time.Hour).String())
	f.Fuzz(func(t *testing.T, value string) {
		s, err := Parse(value)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrMalformed", value, err)
			}
			return
		}
		enc := s.String()
		if len(enc) > MaxValueLen {
			t.Fatalf("String() of a parsed value is %d chars", len(enc))
		}
		again, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(String()) = %v for %q", err, enc)
		}
		if len(s.entries)+len(again.entries) > 0 && !reflect.DeepEqual(s.entries, again.entries) {
			t.Fatalf("round trip changed the set: %q → %q", enc, again.String())
		}
		const answer = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		next := s.Add(answer, t0, 24*time.Hour)
		if n := len(next.String()); n > MaxValueLen {
			t.Fatalf("after Add the value is %d chars", n)
		}
		// The new link works unless stored entries claim to be newer than
		// now (only a clock gone backwards could write those).
		newest := true
		for _, e := range s.entries {
			newest = newest && e.issued <= t0.Unix()
		}
		if newest && !next.Verify(answer, t0) {
			t.Fatalf("the link just added does not verify in %q", next.String())
		}
		_, _ = s.LastIssued(t0)
	})
}
