package challenge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// The code in the mail (DESIGN.md "Contract: the code in the mail"): six
// characters of Crockford's base32, 30 bits, shown as XXX-XXX, typed on the
// device that asked. It is stored only as CodeMAC, keyed by a deployment
// secret, so a copy of the store alone does not reveal it (30 bits would
// fall to any offline search of a plain hash).
const (
	CodeLength = 6
	// MaxCodeFails wrong code answers for a user, across Cognito sessions,
	// void every outstanding code of that user; the links keep working.
	MaxCodeFails = 5

	crockford  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeDomain = "magiclinks/code/v1\x00"
)

// NewCode returns a random code read from r.
func NewCode(r io.Reader) (string, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("challenge: reading randomness: %w", err)
	}
	v := binary.BigEndian.Uint32(b[:]) >> 2 // 30 bits, 5 per character
	out := make([]byte, CodeLength)
	for i := CodeLength - 1; i >= 0; i-- {
		out[i] = crockford[v&31]
		v >>= 5
	}
	return string(out), nil
}

// FormatCode shows a code as people read it: XXX-XXX.
func FormatCode(code string) string {
	if len(code) != CodeLength {
		return code
	}
	return code[:3] + "-" + code[3:]
}

// NormalizeCode reads what a person typed: case does not matter, the dash
// is optional, surrounding spaces are ignored, and the letters Crockford's
// alphabet leaves out for looking like digits (I, L, O) read as those
// digits. ok is false for anything else, which is then not a code at all.
func NormalizeCode(s string) (code string, ok bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == CodeLength+1 && s[3] == '-' {
		s = s[:3] + s[4:]
	}
	if len(s) != CodeLength {
		return "", false
	}
	out := make([]byte, CodeLength)
	for i := range CodeLength {
		c := s[i]
		switch c {
		case 'I', 'L':
			c = '1'
		case 'O':
			c = '0'
		}
		if strings.IndexByte(crockford, c) < 0 {
			return "", false
		}
		out[i] = c
	}
	return string(out), true
}

// CodeMAC is the stored form of user's code: an HMAC under key, bound to the
// user so that one user's code never answers for another.
func CodeMAC(key []byte, user, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(codeDomain + user + "\x00" + code))
	return enc.EncodeToString(m.Sum(nil))
}

// DeriveKey makes a key for one purpose from the deployment secret, so that
// the code MACs and the request handles never share a key.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("magiclinks/key/v1\x00" + purpose))
	return m.Sum(nil)
}
