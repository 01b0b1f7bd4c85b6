package challenge

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// fixed returns a challenge made of one repeated byte, so tests can make
// many distinct, reproducible challenges.
func fixed(t testing.TB, b byte) string {
	t.Helper()
	c, err := New(bytes.NewReader(bytes.Repeat([]byte{b}, randomBytes)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		r       io.Reader
		want    string
		wantErr error
	}{
		"32 bytes encode as 43 base64url chars": {r: bytes.NewReader(bytes.Repeat([]byte{0xff}, 32)), want: strings.Repeat("_", 42) + "8"},
		"only the first 32 bytes are read":      {r: bytes.NewReader(bytes.Repeat([]byte{0}, 64)), want: strings.Repeat("A", 43)},
		"short source is an error":              {r: bytes.NewReader(make([]byte, 31)), wantErr: io.ErrUnexpectedEOF},
		"empty source is an error":              {r: bytes.NewReader(nil), wantErr: io.EOF},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := New(tc.r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("New() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("New() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNewIsRandom(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		c, err := New(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != Length {
			t.Fatalf("len = %d, want %d", len(c), Length)
		}
		if strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("%q is not base64url", c)
		}
		if seen[c] {
			t.Fatalf("challenge repeated: %q", c)
		}
		seen[c] = true
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	ttl := 15 * time.Minute
	tests := map[string]struct {
		build     func() (Set, time.Time) // the set and when the new link is added
		wantLen   int
		wantLive  []byte // challenges (by fixed byte) that must verify after Add
		wantStale []byte // challenges that must not
	}{
		"adds to an empty set": {
			build:    func() (Set, time.Time) { return Set{}, t0 },
			wantLen:  1,
			wantLive: []byte{99},
		},
		"keeps live entries": {
			build: func() (Set, time.Time) {
				return Set{}.Add(fixed(t, 1), t0, ttl).Add(fixed(t, 2), t0.Add(time.Minute), ttl), t0.Add(2 * time.Minute)
			},
			wantLen:  3,
			wantLive: []byte{1, 2, 99},
		},
		"prunes expired entries": {
			build: func() (Set, time.Time) {
				return Set{}.Add(fixed(t, 1), t0, ttl).Add(fixed(t, 2), t0.Add(10*time.Minute), ttl), t0.Add(ttl)
			},
			wantLen:   2,
			wantLive:  []byte{2, 99},
			wantStale: []byte{1},
		},
		"caps at MaxEntries dropping the oldest": {
			build: func() (Set, time.Time) {
				s := Set{}
				for i := range MaxEntries {
					s = s.Add(fixed(t, byte(i+1)), t0.Add(time.Duration(i)*time.Second), ttl)
				}
				return s, t0.Add(time.Minute)
			},
			wantLen:   MaxEntries,
			wantLive:  []byte{2, 3, 4, 5, 6, 7, 8, 9, 10, 99},
			wantStale: []byte{1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, now := tc.build()
			before := s.String()
			got := s.Add(fixed(t, 99), now, ttl)
			if s.String() != before {
				t.Errorf("Add changed its receiver: %q → %q", before, s.String())
			}
			if got.Len() != tc.wantLen {
				t.Errorf("Len() = %d, want %d", got.Len(), tc.wantLen)
			}
			for _, b := range tc.wantLive {
				if !got.Verify(fixed(t, b), now) {
					t.Errorf("challenge %d does not verify", b)
				}
			}
			for _, b := range tc.wantStale {
				if got.Verify(fixed(t, b), now) {
					t.Errorf("challenge %d still verifies", b)
				}
			}
		})
	}
}

// Requesting link after link never makes the attribute too long for
// Cognito, and the newest MaxEntries links keep working.
func TestManyLinksStayWithinLimit(t *testing.T) {
	t.Parallel()
	s := Set{}
	var all []string
	now := t0
	for i := range 1000 {
		c, err := New(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
		s = s.Add(c, now, 24*time.Hour)
		if n := len(s.String()); n > MaxValueLen {
			t.Fatalf("after %d links the value is %d chars, over %d", i+1, n, MaxValueLen)
		}
		now = now.Add(time.Second)
	}
	for i, c := range all {
		newest := i >= len(all)-MaxEntries
		if got := s.Verify(c, now); got != newest {
			t.Errorf("link %d verifies = %v, want %v", i, got, newest)
		}
	}
	// The longest value possible: MaxEntries entries with the widest times.
	wide := Set{}
	for i := range MaxEntries + 5 {
		wide = wide.Add(fixed(t, byte(i)), time.Unix(1<<62, 0), 24*time.Hour)
	}
	if n := len(wide.String()); n > MaxValueLen {
		t.Errorf("widest value is %d chars, over %d", n, MaxValueLen)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	ttl := 15 * time.Minute
	live := fixed(t, 7)
	s := Set{}.Add(fixed(t, 1), t0, ttl).Add(live, t0.Add(time.Minute), ttl)
	other := Set{}.Add(fixed(t, 8), t0, ttl)
	expires := t0.Add(time.Minute + ttl)
	tests := map[string]struct {
		set    Set
		answer string
		now    time.Time
		want   bool
	}{
		"live answer":                      {set: s, answer: live, now: t0.Add(2 * time.Minute), want: true},
		"older live answer":                {set: s, answer: fixed(t, 1), now: t0.Add(2 * time.Minute), want: true},
		"one second before expiry":         {set: s, answer: live, now: expires.Add(-time.Second), want: true},
		"at exactly expires":               {set: s, answer: live, now: expires},
		"after expiry":                     {set: s, answer: live, now: expires.Add(time.Hour)},
		"wrong answer":                     {set: s, answer: fixed(t, 9), now: t0},
		"another user's answer":            {set: s, answer: fixed(t, 8), now: t0},
		"answer checked against other set": {set: other, answer: live, now: t0.Add(2 * time.Minute)},
		"too short":                        {set: s, answer: live[:Length-1], now: t0.Add(2 * time.Minute)},
		"too long":                         {set: s, answer: live + "A", now: t0.Add(2 * time.Minute)},
		"empty":                            {set: s, answer: "", now: t0},
		"empty set":                        {set: Set{}, answer: live, now: t0},
		"the stored hash is not an answer": {set: s, answer: strings.Fields(s.String())[2][:hashLen], now: t0.Add(2 * time.Minute)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.set.Verify(tc.answer, tc.now); got != tc.want {
				t.Errorf("Verify() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLastIssued(t *testing.T) {
	t.Parallel()
	ttl := 15 * time.Minute
	tests := map[string]struct {
		set    Set
		now    time.Time
		want   time.Time
		wantOK bool
	}{
		"empty":         {set: Set{}, now: t0},
		"one":           {set: Set{}.Add(fixed(t, 1), t0, ttl), now: t0.Add(time.Minute), want: t0, wantOK: true},
		"newest of two": {set: Set{}.Add(fixed(t, 1), t0, ttl).Add(fixed(t, 2), t0.Add(5*time.Minute), ttl), now: t0.Add(6 * time.Minute), want: t0.Add(5 * time.Minute), wantOK: true},
		"expired only":  {set: Set{}.Add(fixed(t, 1), t0, ttl), now: t0.Add(ttl)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := tc.set.LastIssued(tc.now)
			if ok != tc.wantOK || !got.Equal(tc.want) {
				t.Errorf("LastIssued() = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("A", hashLen)
	entry := h + ".100.200"
	many := "v1" + strings.Repeat(" "+entry, MaxEntries+1)
	tests := map[string]string{
		"seed uuid,timestamp":      "3f0f8b62-4c2e-4d8e-9d1a-2b3c4d5e6f70,1773100500000",
		"unknown version":          "v2 " + entry,
		"no version":               entry,
		"version only with space":  "v1 ",
		"double space":             "v1  " + entry,
		"bad base64":               "v1 " + strings.Repeat("*", hashLen) + ".100.200",
		"hash too short":           "v1 " + h[1:] + ".100.200",
		"hash too long":            "v1 " + h + "A.100.200",
		"missing expiry":           "v1 " + h + ".100",
		"missing times":            "v1 " + h,
		"negative issued":          "v1 " + h + ".-1.200",
		"negative expiry":          "v1 " + h + ".-300.-200",
		"expiry before issue":      "v1 " + h + ".200.100",
		"not a number":             "v1 " + h + ".abc.200",
		"overflowing number":       "v1 " + h + ".1.99999999999999999999",
		"too many entries":         many,
		"longer than an attribute": "v1 " + entry + strings.Repeat(" ", MaxValueLen),
		"extra dot":                "v1 " + h + ".100.200.300",
		"plain challenge in value": "v1 " + strings.Repeat("B", Length),
	}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(value)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) error = %v, want ErrMalformed", value, err)
			}
			if s.Len() != 0 {
				t.Errorf("Parse returned %d entries with its error", s.Len())
			}
		})
	}
}

func TestParseRoundTrip(t *testing.T) {
	t.Parallel()
	ttl := 15 * time.Minute
	tests := map[string]Set{
		"empty": {},
		"one":   Set{}.Add(fixed(t, 1), t0, ttl),
		"max entries": func() Set {
			s := Set{}
			for i := range MaxEntries {
				s = s.Add(fixed(t, byte(i)), t0.Add(time.Duration(i)*time.Second), ttl)
			}
			return s
		}(),
		"zero lifetime": Set{}.Add(fixed(t, 1), t0, 0),
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(s.String())
			if err != nil {
				t.Fatalf("Parse(%q): %v", s.String(), err)
			}
			if !reflect.DeepEqual(got.entries, s.entries) && !(len(got.entries) == 0 && len(s.entries) == 0) {
				t.Errorf("round trip changed the set: %q → %q", s.String(), got.String())
			}
		})
	}
	if s, err := Parse(""); err != nil || s.Len() != 0 {
		t.Errorf(`Parse("") = %v, %v; want an empty set`, s, err)
	}
	if got := (Set{}).String(); got != version {
		t.Errorf("empty set encodes as %q, want %q", got, version)
	}
}

// The attribute never holds a challenge, nor anything that verifies as one.
func TestNoPlaintext(t *testing.T) {
	t.Parallel()
	s := Set{}
	var cs []string
	for range MaxEntries {
		c, err := New(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		s = s.Add(c, t0, time.Hour)
	}
	v := s.String()
	for _, c := range cs {
		if strings.Contains(v, c) {
			t.Fatalf("value %q contains challenge %q", v, c)
		}
	}
	for _, f := range strings.Fields(v)[1:] {
		h, _, _ := strings.Cut(f, ".")
		if s.Verify(h, t0) {
			t.Errorf("a stored hash verifies as an answer")
		}
	}
	// Entries are stored in whole seconds.
	for _, f := range strings.Fields(v)[1:] {
		parts := strings.Split(f, ".")
		if parts[1] != strconv.FormatInt(t0.Unix(), 10) {
			t.Errorf("issued = %s, want %d", parts[1], t0.Unix())
		}
	}
}
