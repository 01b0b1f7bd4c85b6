// Package challenge makes magic-link challenges and keeps the record of the
// outstanding ones that lives in the user's custom:authChallenge attribute.
//
// It is pure: no I/O beyond the random source it is given, and the time is
// always passed in. The attribute holds only SHA-256 hashes of challenges,
// never a challenge itself, so reading a user's attributes does not let
// anyone sign in as that user.
package challenge

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// Bytes of randomness in a challenge: 256 bits, far beyond guessing even
	// without Cognito's throttling.
	randomBytes = 32
	// Length of an encoded challenge (base64url without padding).
	Length = 43
	// MaxEntries bounds how many links can be outstanding at once; the
	// oldest is dropped first. It keeps the attribute far below MaxValueLen.
	MaxEntries = 10
	// MaxValueLen is Cognito's limit for a custom attribute value.
	MaxValueLen = 2048
	// MaxTTL is the longest lifetime a link may have. An entry claiming a
	// longer one was not written by a correctly configured function (or was
	// tampered with) and never verifies.
	MaxTTL = 24 * time.Hour

	version       = "v1"
	hashDomain    = "magiclinks/challenge/v1\x00"
	receiptDomain = "magiclinks/receipt/v1\x00"
	hashLen       = 43 // base64url of 32 bytes
)

var (
	// ErrMalformed means an attribute value this package did not write.
	ErrMalformed = errors.New("challenge: malformed attribute value")
	enc          = base64.RawURLEncoding
)

// New returns a fresh random challenge read from r (crypto/rand.Reader in
// production).
func New(r io.Reader) (string, error) {
	b := make([]byte, randomBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("challenge: reading randomness: %w", err)
	}
	return enc.EncodeToString(b), nil
}

// entry is one outstanding link: the hash of its challenge, the MAC of the
// code mailed with it (if any), and its lifetime, in whole Unix seconds as
// stored.
type entry struct {
	hash    [32]byte
	code    [32]byte
	hasCode bool
	issued  int64
	expires int64
}

// Set is the outstanding challenges of one user. The zero value is empty.
type Set struct {
	entries []entry
}

func hash(challenge string) [32]byte {
	return sha256.Sum256([]byte(hashDomain + challenge))
}

// Parse reads an attribute value. An empty value is an empty set.
func Parse(value string) (Set, error) {
	if value == "" {
		return Set{}, nil
	}
	if len(value) > MaxValueLen {
		return Set{}, fmt.Errorf("%w: longer than %d", ErrMalformed, MaxValueLen)
	}
	fields := strings.Split(value, " ")
	if fields[0] != version {
		return Set{}, fmt.Errorf("%w: unknown version", ErrMalformed)
	}
	var s Set
	for _, f := range fields[1:] {
		// hash.issued.expires, or hash.issued.expires.code
		parts := strings.Split(f, ".")
		if (len(parts) != 3 && len(parts) != 4) || len(parts[0]) != hashLen {
			return Set{}, fmt.Errorf("%w: bad entry", ErrMalformed)
		}
		h, iss, exp := parts[0], parts[1], parts[2]
		var e entry
		if n, err := enc.Decode(e.hash[:], []byte(h)); err != nil || n != len(e.hash) {
			return Set{}, fmt.Errorf("%w: bad hash", ErrMalformed)
		}
		if len(parts) == 4 {
			if n, err := enc.Decode(e.code[:], []byte(parts[3])); err != nil || n != len(e.code) || len(parts[3]) != hashLen {
				return Set{}, fmt.Errorf("%w: bad code", ErrMalformed)
			}
			e.hasCode = true
		}
		var err1, err2 error
		e.issued, err1 = strconv.ParseInt(iss, 10, 64)
		e.expires, err2 = strconv.ParseInt(exp, 10, 64)
		if err1 != nil || err2 != nil || e.issued < 0 || e.expires < e.issued {
			return Set{}, fmt.Errorf("%w: bad time", ErrMalformed)
		}
		s.entries = append(s.entries, e)
	}
	if len(s.entries) > MaxEntries {
		return Set{}, fmt.Errorf("%w: too many entries", ErrMalformed)
	}
	return s, nil
}

// String encodes the set as an attribute value; an empty set encodes as the
// bare version marker so that "consumed" is a value Cognito will store.
func (s Set) String() string {
	var b strings.Builder
	b.WriteString(version)
	for _, e := range s.entries {
		b.WriteByte(' ')
		b.WriteString(enc.EncodeToString(e.hash[:]))
		b.WriteByte('.')
		b.WriteString(strconv.FormatInt(e.issued, 10))
		b.WriteByte('.')
		b.WriteString(strconv.FormatInt(e.expires, 10))
		if e.hasCode {
			b.WriteByte('.')
			b.WriteString(enc.EncodeToString(e.code[:]))
		}
	}
	return b.String()
}

// Len is the number of entries, expired ones included.
func (s Set) Len() int { return len(s.entries) }

// Live returns the set without the entries expired at now.
func (s Set) Live(now time.Time) Set {
	t := now.Unix()
	out := Set{entries: make([]entry, 0, len(s.entries))}
	for _, e := range s.entries {
		if t < e.expires {
			out.entries = append(out.entries, e)
		}
	}
	return out
}

// Add returns a new set holding challenge, valid from now for ttl, with the
// expired entries dropped and, past MaxEntries, the oldest ones too. The
// receiver is not changed.
func (s Set) Add(challenge string, now time.Time, ttl time.Duration) Set {
	return s.add(entry{hash: hash(challenge), issued: now.Unix(), expires: now.Add(ttl).Unix()}, now)
}

// AddWithCode is Add for a link mailed with a code; codeMAC is CodeMAC of
// that code, so the set never holds the code itself.
func (s Set) AddWithCode(challenge, codeMAC string, now time.Time, ttl time.Duration) (Set, error) {
	e := entry{hash: hash(challenge), issued: now.Unix(), expires: now.Add(ttl).Unix(), hasCode: true}
	if n, err := enc.Decode(e.code[:], []byte(codeMAC)); err != nil || n != len(e.code) || len(codeMAC) != hashLen {
		return Set{}, fmt.Errorf("%w: bad code MAC", ErrMalformed)
	}
	return s.add(e, now), nil
}

// AddHash adds an entry by the hash of its answer (Hash), valid from now
// until expires: the answer of a cross-device approval, which only the
// waiting browser can derive.
func (s Set) AddHash(answerHash string, now, expires time.Time) (Set, error) {
	e := entry{issued: now.Unix(), expires: expires.Unix()}
	if n, err := enc.Decode(e.hash[:], []byte(answerHash)); err != nil || n != len(e.hash) || len(answerHash) != hashLen {
		return Set{}, fmt.Errorf("%w: bad answer hash", ErrMalformed)
	}
	return s.add(e, now), nil
}

func (s Set) add(e entry, now time.Time) Set {
	out := s.Live(now)
	out.entries = append(out.entries, e)
	slices.SortStableFunc(out.entries, func(a, b entry) int { return int(a.issued - b.issued) })
	if n := len(out.entries); n > MaxEntries {
		out.entries = out.entries[n-MaxEntries:]
	}
	return out
}

// LastIssued is when the newest live entry was issued.
func (s Set) LastIssued(now time.Time) (time.Time, bool) {
	var last int64 = -1
	for _, e := range s.Live(now).entries {
		last = max(last, e.issued)
	}
	if last < 0 {
		return time.Time{}, false
	}
	return time.Unix(last, 0), true
}

// Hash is the stored form of an answer, base64url.
func Hash(answer string) string {
	h := hash(answer)
	return enc.EncodeToString(h[:])
}

// VerifyCode reports whether codeMAC (CodeMAC of the answer) is the code of
// an entry live at now, comparing every entry in constant time.
func (s Set) VerifyCode(codeMAC string, now time.Time) bool {
	var m [32]byte
	if n, err := enc.Decode(m[:], []byte(codeMAC)); err != nil || n != len(m) || len(codeMAC) != hashLen {
		return false
	}
	match := 0
	for _, e := range s.entries {
		if e.hasCode && e.live(now) {
			match |= subtle.ConstantTimeCompare(m[:], e.code[:])
		}
	}
	return match == 1
}

// HasCodes reports whether any entry still has a code.
func (s Set) HasCodes() bool {
	return slices.ContainsFunc(s.entries, func(e entry) bool { return e.hasCode })
}

// VoidCodes returns the set with every code removed and the links kept.
func (s Set) VoidCodes() Set {
	out := Set{entries: slices.Clone(s.entries)}
	for i := range out.entries {
		out.entries[i].code, out.entries[i].hasCode = [32]byte{}, false
	}
	return out
}

// live is the defence-in-depth rule every check uses: issued no later than
// now, not yet expired, and living no longer than MaxTTL.
func (e entry) live(now time.Time) bool {
	t := now.Unix()
	return e.issued <= t && t < e.expires && e.expires-e.issued <= int64(MaxTTL/time.Second)
}

// Remove returns the set without the entry of challenge (a link that was
// never mailed); the receiver is not changed.
func (s Set) Remove(challenge string) Set {
	h := hash(challenge)
	out := Set{entries: make([]entry, 0, len(s.entries))}
	for _, e := range s.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 0 {
			out.entries = append(out.entries, e)
		}
	}
	return out
}

// Verify reports whether answer is the challenge of an entry that is live at
// now. Every entry is compared, in constant time, whatever matches, so the
// time taken says nothing about which entry or how much of it matched.
//
// Defence in depth: an entry issued after now, or whose lifetime exceeds
// MaxTTL, never verifies, whoever wrote it into the store.
func (s Set) Verify(answer string, now time.Time) bool {
	if len(answer) != Length {
		return false
	}
	h := hash(answer)
	match := 0
	for _, e := range s.entries {
		live := 0
		if e.live(now) {
			live = 1
		}
		match |= subtle.ConstantTimeCompare(h[:], e.hash[:]) & live
	}
	return match == 1
}

// Expires is when the last entry expires; the zero time for an empty set.
// Stores use it to let the whole record expire.
func (s Set) Expires() time.Time {
	var last int64
	for _, e := range s.entries {
		last = max(last, e.expires)
	}
	if last == 0 {
		return time.Time{}
	}
	return time.Unix(last, 0)
}

// Receipt binds an answer to the Cognito challenge it was given for (a
// random nonce in the challenge's private parameters): a store keeps it when
// the answer spends the links, so that Cognito's retry of that same
// invocation is recognised while any other session's use is refused. It is
// a hash: a copy of the store does not reveal the answer.
func Receipt(nonce, answer string) string {
	h := sha256.Sum256([]byte(receiptDomain + nonce + "\x00" + answer))
	return enc.EncodeToString(h[:])
}

// SameReceipt compares two receipts in constant time.
func SameReceipt(a, b string) bool {
	return len(a) == hashLen && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
