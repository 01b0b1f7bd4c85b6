package challenge

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// A cross-device request (DESIGN.md "Contract: HTTP"): POST /login hands the
// browser that asked an opaque handle and a two-digit number. The handle is
// sealed (AES-256-GCM under a key derived from the deployment secret) and
// carries the user it is for and when it expires, so GET /login/{request}
// needs no lookup table, answers "pending" alike for an account that does
// not exist, and tells a forged or expired handle from a live one. The store
// keeps only RequestID (a hash) and the hash of the one-time answer, which
// only the holder of the handle can derive (ApprovalAnswer).

// maxRequestUser bounds the sealed user name; Cognito usernames of a pool
// that signs in by email are 36-character UUIDs.
const (
	maxRequestUser = 64
	requestDomain  = "magiclinks/request/v1\x00"
	answerDomain   = "magiclinks/approval/v1\x00"
)

// ErrBadRequest means a handle that was not sealed with this key, or was
// changed, or is malformed.
var ErrBadRequest = errors.New("challenge: unknown request handle")

// SealRequest makes a handle for user ("" for an address with no account:
// the handle looks the same) that expires at expires.
func SealRequest(key []byte, r io.Reader, user string, expires time.Time) (string, error) {
	if len(user) > maxRequestUser {
		return "", fmt.Errorf("challenge: user name longer than %d bytes", maxRequestUser)
	}
	aead, err := requestAEAD(key)
	if err != nil {
		return "", err
	}
	plain := make([]byte, 8+maxRequestUser)
	binary.BigEndian.PutUint64(plain, uint64(expires.Unix()))
	copy(plain[8:], user)
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(r, nonce); err != nil {
		return "", fmt.Errorf("challenge: reading randomness: %w", err)
	}
	return enc.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(requestDomain))), nil
}

// OpenRequest reads a handle made by SealRequest with key.
func OpenRequest(key []byte, handle string) (user string, expires time.Time, err error) {
	aead, err := requestAEAD(key)
	if err != nil {
		return "", time.Time{}, err
	}
	if len(handle) > 512 {
		return "", time.Time{}, ErrBadRequest
	}
	raw, err := enc.DecodeString(handle)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", time.Time{}, ErrBadRequest
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(requestDomain))
	if err != nil || len(plain) != 8+maxRequestUser {
		return "", time.Time{}, ErrBadRequest
	}
	n := 8
	for n < len(plain) && plain[n] != 0 {
		n++
	}
	return string(plain[8:n]), time.Unix(int64(binary.BigEndian.Uint64(plain)), 0), nil
}

func requestAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("challenge: request key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// RequestID is the stored name of a handle: a copy of the store cannot poll.
func RequestID(handle string) string {
	h := sha256.Sum256([]byte(requestDomain + handle))
	return enc.EncodeToString(h[:])
}

// ApprovalAnswer is the one-time ANSWER the waiting browser signs in with
// once its request is approved. The store holds only Hash of it.
func ApprovalAnswer(handle string) string {
	h := sha256.Sum256([]byte(answerDomain + handle))
	return enc.EncodeToString(h[:])
}

// NewNumber returns a uniform two-digit number ("00"–"99") read from r.
func NewNumber(r io.Reader) (string, error) {
	var b [1]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("challenge: reading randomness: %w", err)
		}
		if b[0] < 200 { // 256 is not a multiple of 100
			return fmt.Sprintf("%02d", b[0]%100), nil
		}
	}
}
