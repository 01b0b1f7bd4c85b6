// Package logging carries the one log line each invocation writes: handlers
// deep in the call add fields to it through the context, and the dispatcher
// writes it once at the end. It also masks addresses, which must never be
// logged whole.
package logging

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

type key struct{}

// Line collects the fields of one invocation's log line.
type Line struct {
	mu     sync.Mutex
	attrs  []slog.Attr
	failed bool
}

// With returns a context that carries a new Line.
func With(ctx context.Context) (context.Context, *Line) {
	l := &Line{}
	return context.WithValue(ctx, key{}, l), l
}

// Add appends fields to the context's line; without one it does nothing, so
// code under test needs no setup.
func Add(ctx context.Context, attrs ...slog.Attr) {
	if l, ok := ctx.Value(key{}).(*Line); ok {
		l.mu.Lock()
		l.attrs = append(l.attrs, attrs...)
		l.mu.Unlock()
	}
}

// Fail records err (addresses masked) on the context's line and makes it an
// ERROR line, for failures the client is deliberately not told about.
func Fail(ctx context.Context, err error) {
	if l, ok := ctx.Value(key{}).(*Line); ok {
		l.mu.Lock()
		l.attrs = append(l.attrs, slog.String("error", Redact(err.Error())))
		l.failed = true
		l.mu.Unlock()
	}
}

// Failed reports whether Fail was called.
func (l *Line) Failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// Attrs returns the collected fields.
func (l *Line) Attrs() []slog.Attr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]slog.Attr(nil), l.attrs...)
}

// MaskEmail keeps enough of an address to tell users apart in a log while
// hiding it: the first letter of the local part and the domain.
// "alice@example.com" → "a***@example.com".
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "***"
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}

// addressLike matches what could be an email address inside free text, such
// as an AWS error message naming a recipient, with its @ plain or
// percent-encoded (%40, or %2540 encoded twice) as in a URL or path.
//
// It is compiled on the first error, not at every cold start.
var addressLike = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)[^\s@<>"'(),;:/\[\]]+?(@|%40|%2540)[^\s@<>"'(),;:/\[\]]+`)
})

// Redact masks every address-like run in s. Error messages from AWS can name
// the recipient (SES MessageRejected, an IAM denial on identity/<address>),
// and adapter errors quote URLs with the address percent-encoded, so every
// error string goes through it before it is logged.
func Redact(s string) string {
	re := addressLike()
	return re.ReplaceAllStringFunc(s, func(m string) string {
		loc := re.FindStringSubmatchIndex(m)
		local, domain := m[:loc[2]], m[loc[3]:]
		if local == "" {
			return "***"
		}
		r := []rune(local)
		if r[0] == '%' { // the first letter is itself encoded: show none
			return "***" + m[loc[2]:loc[3]] + domain
		}
		return string(r[0]) + "***" + m[loc[2]:loc[3]] + domain
	})
}
