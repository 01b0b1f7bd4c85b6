package logging_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"magiclinks/logging"
)

func TestMaskEmail(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"alice@example.com": "a***@example.com",
		"a@example.com":     "a***@example.com",
		"über@example.com":  "ü***@example.com",
		"@example.com":      "***",
		"no-at-sign":        "***",
		"":                  "***",
		"a@b@example.com":   "a***@b@example.com",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if got := logging.MaskEmail(in); got != want {
				t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	t.Parallel()
	// Without a line, Add is a no-op rather than a panic.
	logging.Add(context.Background(), slog.String("k", "v"))

	ctx, line := logging.With(context.Background())
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { logging.Add(ctx, slog.Int("i", i)) })
	}
	wg.Wait()
	if n := len(line.Attrs()); n != 50 {
		t.Fatalf("%d attrs, want 50", n)
	}
	got := line.Attrs()
	got[0] = slog.String("changed", "x")
	if line.Attrs()[0].Key == "changed" {
		t.Error("Attrs returned the line's own slice")
	}
	// A nested With starts a fresh line; the outer one is untouched.
	inner, innerLine := logging.With(ctx)
	logging.Add(inner, slog.String("inner", "yes"))
	if len(innerLine.Attrs()) != 1 || len(line.Attrs()) != 50 {
		t.Errorf("inner %d attrs, outer %d", len(innerLine.Attrs()), len(line.Attrs()))
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	logging.Fail(context.Background(), errors.New("no line: no panic"))
	ctx, line := logging.With(context.Background())
	if line.Failed() {
		t.Fatal("a fresh line is failed")
	}
	logging.Fail(ctx, errors.New("sending to dave@example.com failed"))
	if !line.Failed() {
		t.Fatal("Fail did not mark the line")
	}
	if got := line.Attrs(); len(got) != 1 || got[0].Value.String() != "sending to d***@example.com failed" {
		t.Fatalf("attrs %v: want the error, address masked", got)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want string }{
		"SES sandbox rejection": {
			in:   "api error MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: alice@example.com",
			want: "api error MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: a***@example.com",
		},
		"IAM denial on an identity ARN": {
			in:   "not authorized to perform ses:SendEmail on resource arn:aws:ses:us-east-1:123456789012:identity/bob.smith+x@example.org",
			want: "not authorized to perform ses:SendEmail on resource arn:aws:ses:us-east-1:123456789012:identity/b***@example.org",
		},
		"display name form": {in: "from Example <no-reply@example.com>", want: "from Example <n***@example.com>"},
		"two addresses":     {in: "a@x.io, b@y.io", want: "a***@x.io, b***@y.io"},
		"nothing to mask":   {in: "getting user: timeout", want: "getting user: timeout"},
		"percent-encoded in a path": {
			in:   `HTTP API request: parse "/login/alice%40example.com": invalid URL escape "%zz"`,
			want: `HTTP API request: parse "/login/a***%40example.com": invalid URL escape "%zz"`,
		},
		"percent-encoded in a query (masks more, never less)": {
			in:   "GET /x?email=bob%40example.org&y=1",
			want: "GET /x***%40example.org&y=1",
		},
		"encoded twice":            {in: "path /u/carol%2540example.net", want: "path /u/c***%2540example.net"},
		"first letter encoded":     {in: "/u/%64ave%40example.net", want: "/u/***%40example.net"},
		"percent sign, no address": {in: "100% done", want: "100% done"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := logging.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
