package challenge

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestNewCode(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		c, err := NewCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != CodeLength || strings.Trim(c, crockford) != "" {
			t.Fatalf("code %q: want %d characters of %s", c, CodeLength, crockford)
		}
		if n, ok := NormalizeCode(c); !ok || n != c {
			t.Fatalf("a fresh code %q does not read back (%q, %v)", c, n, ok)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	if len(seen) < 1990 {
		t.Errorf("%d distinct codes in 2000", len(seen))
	}
	// Every symbol of the alphabet turns up: the 30 bits are all used.
	if len(counts) != 32 {
		t.Errorf("%d distinct characters, want all 32", len(counts))
	}
	if _, err := NewCode(bytes.NewReader(nil)); err == nil {
		t.Error("no randomness, no error")
	}
	if got := FormatCode("ABC123"); got != "ABC-123" {
		t.Errorf("FormatCode = %q", got)
	}
}

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"ABC123": "ABC123", "abc123": "ABC123", "ABC-123": "ABC123", " abc-123 \t": "ABC123",
		"0O1IL9": "001119", "oil-xyz": "011XYZ",
		// not codes
		"ABC12": "", "ABC1234": "", "AB-C123": "", "ABC--123": "", "ABCU23": "", "ABC 123": "",
		"": "", "ABC_123": "", "ÄBC123": "", "ABC-12": "",
	}
	for in, want := range tests {
		got, ok := NormalizeCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestCodesInSet(t *testing.T) {
	t.Parallel()
	key := DeriveKey([]byte("a deployment secret of enough length"), "code")
	now := time.Unix(1_773_100_800, 0)
	link := strings.Repeat("L", Length)
	mac := CodeMAC(key, "user-1", "ABC123")
	s, err := Set{}.AddWithCode(link, mac, now, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.String(), "ABC123") {
		t.Fatal("the stored set holds the code")
	}
	back, err := Parse(s.String())
	if err != nil || back.String() != s.String() {
		t.Fatalf("round trip: %v %q", err, back.String())
	}
	checks := map[string]struct {
		mac  string
		at   time.Time
		want bool
	}{
		"right code":               {mac, now.Add(time.Minute), true},
		"another user's same code": {CodeMAC(key, "user-2", "ABC123"), now, false},
		"another key":              {CodeMAC(DeriveKey([]byte("other"), "code"), "user-1", "ABC123"), now, false},
		"wrong code":               {CodeMAC(key, "user-1", "ABC124"), now, false},
		"expired":                  {mac, now.Add(10 * time.Minute), false},
		"before issue":             {mac, now.Add(-time.Second), false},
		"not a MAC":                {"ABC123", now, false},
	}
	for name, c := range checks {
		if got := back.VerifyCode(c.mac, c.at); got != c.want {
			t.Errorf("%s: VerifyCode = %v, want %v", name, got, c.want)
		}
	}
	if !back.Verify(link, now) {
		t.Error("the link of an entry with a code does not verify")
	}
	void := back.VoidCodes()
	if void.HasCodes() || void.VerifyCode(mac, now) || !void.Verify(link, now) || !back.HasCodes() {
		t.Error("VoidCodes must drop the codes, keep the links and leave the receiver alone")
	}
	if _, err := (Set{}).AddWithCode(link, "short", now, time.Minute); err == nil {
		t.Error("a malformed MAC was accepted")
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	key := DeriveKey([]byte("a deployment secret of enough length"), "request")
	exp := time.Unix(1_773_101_400, 0)
	h, err := SealRequest(key, rand.Reader, "7d3f5a2e-9b1c-4e8a-a6d2-3c4b5e6f7a81", exp)
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := SealRequest(key, rand.Reader, "", exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(unknown) || len(h) < 22 || strings.ContainsAny(h, "+/=") {
		t.Fatalf("handles %q / %q: want the same length for any account, URL-safe, >= 128 bits", h, unknown)
	}
	if strings.Contains(h, "7d3f") {
		t.Error("the handle shows the user")
	}
	user, got, err := OpenRequest(key, h)
	if err != nil || user != "7d3f5a2e-9b1c-4e8a-a6d2-3c4b5e6f7a81" || !got.Equal(exp) {
		t.Fatalf("OpenRequest = %q %v %v", user, got, err)
	}
	if user, _, err := OpenRequest(key, unknown); err != nil || user != "" {
		t.Fatalf("unknown account's handle: %q %v", user, err)
	}
	tampered := []byte(h)
	tampered[10] ^= 1
	for name, bad := range map[string]string{
		"tampered": string(tampered), "truncated": h[:len(h)-2], "empty": "", "not base64": "!!!!",
		"other key": func() string {
			o, _ := SealRequest(DeriveKey([]byte("x"), "request"), rand.Reader, "u", exp)
			return o
		}(),
		"too long": strings.Repeat("A", 600),
	} {
		if _, _, err := OpenRequest(key, bad); err == nil {
			t.Errorf("%s handle opened", name)
		}
	}
	if _, err := SealRequest(key, rand.Reader, strings.Repeat("u", 65), exp); err == nil {
		t.Error("an over-long user was sealed")
	}
	if RequestID(h) == RequestID(unknown) || strings.Contains(RequestID(h), h) {
		t.Error("RequestID must differ per handle and hide it")
	}
	a := ApprovalAnswer(h)
	if len(a) != Length || a == ApprovalAnswer(unknown) {
		t.Errorf("ApprovalAnswer %q: want a %d-char answer per handle", a, Length)
	}
	s, err := Set{}.AddHash(Hash(a), exp.Add(-time.Minute), exp)
	if err != nil || !s.Verify(a, exp.Add(-time.Second)) || s.Verify(a, exp) {
		t.Errorf("an approval entry must verify its answer until it expires (%v)", err)
	}
}

func TestNewNumber(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	for range 5000 {
		n, err := NewNumber(rand.Reader)
		if err != nil || len(n) != 2 || n[0] < '0' || n[0] > '9' || n[1] < '0' || n[1] > '9' {
			t.Fatalf("number %q %v", n, err)
		}
		seen[n]++
	}
	if len(seen) != 100 {
		t.Errorf("%d distinct numbers in 5000, want 100", len(seen))
	}
	// 200..255 are redrawn: a reader that gives 250 then 7 yields "07".
	if n, _ := NewNumber(bytes.NewReader([]byte{250, 7})); n != "07" {
		t.Errorf("NewNumber = %q, want 07", n)
	}
}

// FuzzNormalizeCode: whatever is typed, a code comes back as six characters
// of the alphabet that reads back as itself, or not at all.
func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"ABC123", "abc-123", " o1l-iuz ", "", "ABC-1234", "ÄBC123", "ABC\x00123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := NormalizeCode(s)
		if !ok {
			if c != "" {
				t.Fatalf("rejected %q but returned %q", s, c)
			}
			return
		}
		if len(c) != CodeLength || strings.Trim(c, crockford) != "" {
			t.Fatalf("NormalizeCode(%q) = %q: not %d characters of the alphabet", s, c, CodeLength)
		}
		if again, ok := NormalizeCode(c); !ok || again != c {
			t.Fatalf("%q does not read back as itself: %q %v", c, again, ok)
		}
		if again, ok := NormalizeCode(FormatCode(c)); !ok || again != c {
			t.Fatalf("the shown form %q does not read back: %q %v", FormatCode(c), again, ok)
		}
	})
}

// FuzzOpenRequest: no handle opens without the key it was sealed with, and
// OpenRequest never panics on any input.
func FuzzOpenRequest(f *testing.F) {
	key := DeriveKey([]byte("fuzz"), "request")
	// A fixed nonce: every fuzz worker process must seal the same handle.
	h, _ := SealRequest(key, bytes.NewReader(make([]byte, 12)), "user", time.Unix(1_773_101_400, 0))
	f.Add(h)
	f.Add("")
	f.Add(h[:len(h)-1] + "A")
	f.Fuzz(func(t *testing.T, handle string) {
		user, _, err := OpenRequest(key, handle)
		if err == nil && handle != h {
			// Only a real handle opens: GCM must refuse anything else.
			t.Fatalf("a handle this test never sealed opened as %q: %q", user, handle)
		}
	})
}
