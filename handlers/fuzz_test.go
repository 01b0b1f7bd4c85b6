package handlers_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"magiclinks/handlers"
	"magiclinks/internal/testevents"
)

// FuzzParseLogin: whatever the body, ParseLogin returns either a normalised
// address or a 400 *handlers.Error. Seeded with the bodies of the recorded
// API Gateway events.
func FuzzParseLogin(f *testing.F) {
	for _, b := range testevents.Load(f, "apigw-*.json") {
		var e struct {
			Body            string `json:"body"`
			IsBase64Encoded bool   `json:"isBase64Encoded"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			f.Fatal(err)
		}
		body := []byte(e.Body)
		if e.IsBase64Encoded {
			var err error
			if body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(body)
	}
	f.Add([]byte(`{"email":"User@Example.com"}]`))
	f.Add([]byte(`{"email":"İ@example.com"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		email, err := handlers.ParseLogin(body)
		if err != nil {
			var he *handlers.Error
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest || he.Code == "" {
				t.Fatalf("error %T %v is not a 400 *handlers.Error", err, err)
			}
			if email != "" {
				t.Fatalf("address %q returned with an error", email)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		if email == "" || len(email) > 254 || !utf8.ValidString(email) {
			t.Fatalf("address %q: empty, too long or not UTF-8", email)
		}
		if email != strings.ToLower(email) || email != strings.TrimSpace(email) {
			t.Fatalf("address %q is not lower-cased and trimmed", email)
		}
		if strings.IndexFunc(email, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
			t.Fatalf("address %q holds a control character or space", email)
		}
		if strings.Count(email, "@") != 1 {
			t.Fatalf("address %q does not have exactly one @", email)
		}
		// Normalising is idempotent: the address sent back in would be the same.
		again, err := handlers.NormalizeEmail(email)
		if err != nil || again != email {
			t.Fatalf("NormalizeEmail(%q) = %q, %v", email, again, err)
		}
	})
}
