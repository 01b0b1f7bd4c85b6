package cognito

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"magiclinks/internal/testevents"
)

// FuzzDecodeRequest: decodeRequest reads every request as encoding/json's
// Unmarshal does, type errors and all.
func FuzzDecodeRequest(f *testing.F) {
	for _, b := range testevents.Load(f, "cognito-*.json") {
		var e struct{ Request json.RawMessage }
		if json.Unmarshal(b, &e) == nil {
			f.Add([]byte(e.Request))
		}
	}
	f.Add([]byte(`{"userAttributes":{"email":"a@b","n":5},"challengeAnswer":7,"userNotFound":"true","session":[{"challengeName":"CUSTOM_CHALLENGE","challengeResult":"true"},1]}`))
	f.Add([]byte(`{"UserAttributes":{"email":"x"},"privateChallengeParameters":{"a":null},"challengeAnswer":"a","challengeAnswer":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want requestJSON
		var typeErr *json.UnmarshalTypeError
		if err := json.Unmarshal(raw, &want); err != nil && !errors.As(err, &typeErr) {
			want = requestJSON{}
		}
		if got := decodeRequest(raw); !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeRequest(%q)\n= %+v\nencoding/json: %+v", raw, got, want)
		}
	})
}
