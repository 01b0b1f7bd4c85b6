// Package links keeps the state of a user's magic links (DESIGN.md "Contract:
// the link store") and enforces its rules under any number of concurrent
// function instances:
//
//   - spent once: the first correct answer spends every outstanding link of
//     the user, and nothing written from an older read can bring one back;
//   - the resend hold is decided in the same atomic write that adds a link;
//   - per-IP counters for POST /login.
//
// The rules live here once, over a Backend that stores one record per user
// with compare-and-set: DynamoDB in production, an in-process map for make
// dev and tests, and the seed's Cognito attribute (which cannot compare and
// set, so its guarantees are weaker; see README).
package links

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"magiclinks/challenge"
)

var (
	// ErrConflict is returned by Backend.Save when the record changed since
	// it was loaded; the Store then reloads and decides again.
	ErrConflict = errors.New("links: record changed concurrently")
	// ErrCorrupt means a stored record this package did not write, or
	// cannot read. It never verifies and is never overwritten.
	ErrCorrupt = errors.New("links: stored record is corrupt")
	// ErrBusy means the record kept changing under every attempt.
	ErrBusy = errors.New("links: record too contended")
	// ErrUnsupported is returned by a backend that cannot keep counters.
	ErrUnsupported = errors.New("links: not supported by this store")
)

// ReceiptTTL is how long the receipt of a spend is kept to recognise
// Cognito's retry of the same Verify invocation: the longest a Cognito
// authentication session lives.
const ReceiptTTL = 15 * time.Minute

// attempts bounds the compare-and-set loop. Each conflict means another
// writer made progress; with a jittered pause between rounds, a dozen
// writers on one user's record settle well inside Cognito's 5 s.
const attempts = 10

// Record is one user's link state.
type Record struct {
	// Links are the outstanding links, as hashes with their lifetimes.
	Links challenge.Set
	// Receipt is challenge.Receipt of the answer that last spent the links
	// and SpentAt when (Unix seconds); "" and 0 when never spent.
	Receipt string
	SpentAt int64
}

// Version identifies the stored state a Record was loaded from; 0 means no
// record was stored.
type Version int64

// Backend stores one Record per user. Load returns the zero Record and
// version 0 when there is none. Save writes rec only if the stored version is
// still prev (ErrConflict otherwise) and lets the record expire at expires.
// Incr adds one to the counter key, which expires at expires, and returns
// the new count.
type Backend interface {
	Load(ctx context.Context, user string) (Record, Version, error)
	Save(ctx context.Context, user string, rec Record, prev Version, expires time.Time) error
	Incr(ctx context.Context, key string, expires time.Time) (int64, error)
}

// Store applies the link rules over a Backend.
type Store struct {
	b Backend
}

// New returns a Store over b.
func New(b Backend) *Store { return &Store{b: b} }

// update loads the user's record, lets change decide and, if it changed
// something, saves it on the condition that nobody wrote in between;
// otherwise it starts over from a fresh read.
func (s *Store) update(ctx context.Context, user string, now time.Time, change func(r *Record) (bool, error)) error {
	if user == "" {
		return errors.New("links: empty user")
	}
	for i := range attempts {
		rec, v, err := s.b.Load(ctx, user)
		if err != nil {
			return err
		}
		changed, err := change(&rec)
		if err != nil || !changed {
			return err
		}
		err = s.b.Save(ctx, user, rec, v, expiry(rec, now))
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if err := pause(ctx, i); err != nil {
			return err
		}
	}
	return ErrBusy
}

// pause waits a random time that grows with the round (at most 100 ms), so
// writers that collided do not collide again in lockstep.
func pause(ctx context.Context, round int) error {
	d := time.Duration(rand.Int64N(int64(min(2*time.Millisecond<<round, 100*time.Millisecond))))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// expiry is when nothing in rec matters any more.
func expiry(rec Record, now time.Time) time.Time {
	t := rec.Links.Expires()
	if rec.SpentAt > 0 {
		if r := time.Unix(rec.SpentAt, 0).Add(ReceiptTTL); r.After(t) {
			t = r
		}
	}
	if t.Before(now) {
		t = now
	}
	return t
}

// Issue records a link with secret, valid from now for ttl, unless the
// user's newest live link was issued less than hold ago: then held is true
// and nothing is written. Parallel calls for one user add at most one link
// per hold.
func (s *Store) Issue(ctx context.Context, user, secret string, now time.Time, ttl, hold time.Duration) (held bool, err error) {
	err = s.update(ctx, user, now, func(r *Record) (bool, error) {
		held = false
		if last, ok := r.Links.LastIssued(now); ok && hold > 0 && now.Sub(last) < hold {
			held = true
			return false, nil
		}
		r.Links = r.Links.Add(secret, now, ttl)
		return true, nil
	})
	if err != nil {
		return false, fmt.Errorf("issuing link: %w", err)
	}
	return held, nil
}

// Revoke takes back the link with secret (its mail could not be sent), and
// with it the resend hold that link made.
func (s *Store) Revoke(ctx context.Context, user, secret string, now time.Time) error {
	err := s.update(ctx, user, now, func(r *Record) (bool, error) {
		n := r.Links.Len()
		r.Links = r.Links.Remove(secret)
		return r.Links.Len() != n, nil
	})
	if err != nil {
		return fmt.Errorf("revoking link: %w", err)
	}
	return nil
}

// Redeem reports whether answer is a live link of user and, if it is, spends
// every outstanding link of the user in the same conditional write: of any
// number of parallel uses exactly one succeeds. nonce is the random value
// of the Cognito challenge the answer was given to; Cognito's retry of the
// invocation that spent the links (same nonce, same answer) succeeds again,
// any other use does not. An empty nonce gets no retry.
func (s *Store) Redeem(ctx context.Context, user, answer, nonce string, now time.Time) (bool, error) {
	var ok bool
	err := s.update(ctx, user, now, func(r *Record) (bool, error) {
		ok = false
		if r.Links.Verify(answer, now) {
			ok = true
			r.Links = challenge.Set{}
			r.Receipt, r.SpentAt = "", now.Unix()
			if nonce != "" {
				r.Receipt = challenge.Receipt(nonce, answer)
			}
			return true, nil
		}
		if nonce != "" && r.Receipt != "" && now.Unix()-r.SpentAt < int64(ReceiptTTL/time.Second) {
			ok = challenge.SameReceipt(r.Receipt, challenge.Receipt(nonce, answer))
		}
		return false, nil
	})
	if err != nil {
		return false, fmt.Errorf("redeeming link: %w", err)
	}
	return ok, nil
}

// Allow counts one POST /login from ip in the current fixed window of length
// per and reports whether it is within n; if not, retryAfter is the time
// until the window ends.
func (s *Store) Allow(ctx context.Context, ip string, n int, per time.Duration, now time.Time) (retryAfter time.Duration, ok bool, err error) {
	if per <= 0 || n <= 0 {
		return 0, false, errors.New("links: a limit needs n > 0 and per > 0")
	}
	start := now.Truncate(per)
	end := start.Add(per)
	count, err := s.b.Incr(ctx, "ip#"+ip+"#"+strconv.FormatInt(start.Unix(), 10), end)
	if err != nil {
		return 0, false, fmt.Errorf("counting logins per IP: %w", err)
	}
	if count > int64(n) {
		return end.Sub(now), false, nil
	}
	return 0, true, nil
}
