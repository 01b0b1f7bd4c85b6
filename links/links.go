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
	"crypto/subtle"
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
	// Links are the outstanding links (and their codes), as hashes with
	// their lifetimes.
	Links challenge.Set
	// Receipt is challenge.Receipt of the answer that last spent the links
	// and SpentAt when (Unix seconds); "" and 0 when never spent.
	Receipt string
	SpentAt int64
	// CodeFails counts wrong code answers since the codes were last voided.
	CodeFails int
	// Request is the latest cross-device request; zero when none.
	Request Request
}

// Request is a browser waiting for its sign-in to be approved from the
// device that opened the link.
type Request struct {
	ID         string // challenge.RequestID of the handle
	AnswerHash string // challenge.Hash of challenge.ApprovalAnswer(handle)
	Number     string // the two digits the waiting browser shows
	Expires    int64  // Unix seconds
	State      RequestState
}

// RequestState is where a Request is in its life: pending → approved once →
// consumed; void after a wrong number or a sign-in by other means.
type RequestState string

const (
	Pending  RequestState = "pending"
	Approved RequestState = "approved"
	Consumed RequestState = "consumed"
	Void     RequestState = "void"
)

// NewLink is what POST /login stores for one mail.
type NewLink struct {
	Secret string // the link's challenge
	Code   string // the code in the mail; "" for none
	// Request is the waiting browser's request (State is set to Pending).
	Request Request
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
	b       Backend
	codeKey []byte
}

// New returns a Store over b. codeKey keys the MACs of the codes in the
// mails; without one (nil) no code is stored and no code answer is right.
func New(b Backend, codeKey []byte) *Store { return &Store{b: b, codeKey: codeKey} }

// Codes reports whether the store keeps codes.
func (s *Store) Codes() bool { return s.codeKey != nil }

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
	if r := time.Unix(rec.Request.Expires, 0); rec.Request.ID != "" && r.After(t) {
		t = r
	}
	if t.Before(now) {
		t = now
	}
	return t
}

// Issue records a link (with its code and the waiting browser's request),
// valid from now for ttl, unless the user's newest live link was issued less
// than hold ago: then held is true and nothing is written. Parallel calls
// for one user add at most one link per hold. The request replaces any
// earlier one: only the latest waiting request can be approved.
func (s *Store) Issue(ctx context.Context, user string, l NewLink, now time.Time, ttl, hold time.Duration) (held bool, err error) {
	err = s.update(ctx, user, now, func(r *Record) (bool, error) {
		held = false
		if last, ok := r.Links.LastIssued(now); ok && hold > 0 && now.Sub(last) < hold {
			held = true
			return false, nil
		}
		if l.Code != "" && s.codeKey != nil {
			set, err := r.Links.AddWithCode(l.Secret, challenge.CodeMAC(s.codeKey, user, l.Code), now, ttl)
			if err != nil {
				return false, err
			}
			r.Links = set
		} else {
			r.Links = r.Links.Add(l.Secret, now, ttl)
		}
		if l.Request.ID != "" {
			r.Request = l.Request
			r.Request.State = Pending
		}
		return true, nil
	})
	if err != nil {
		return false, fmt.Errorf("issuing link: %w", err)
	}
	return held, nil
}

// Revoke takes back the link with secret (its mail could not be sent), and
// with it its code, its request and the resend hold that link made.
func (s *Store) Revoke(ctx context.Context, user, secret, requestID string, now time.Time) error {
	err := s.update(ctx, user, now, func(r *Record) (bool, error) {
		n := r.Links.Len()
		r.Links = r.Links.Remove(secret)
		changed := r.Links.Len() != n
		if requestID != "" && r.Request.ID == requestID {
			r.Request, changed = Request{}, true
		}
		return changed, nil
	})
	if err != nil {
		return fmt.Errorf("revoking link: %w", err)
	}
	return nil
}

// Redeem reports whether answer is a live link of user, the code mailed
// with one, or the one-time answer of an approved request, and if it is,
// spends every outstanding link and code of the user in the same
// conditional write: of any number of parallel uses exactly one succeeds.
// A wrong code is counted; the MaxCodeFails-th voids every code of the user
// (the links keep working). nonce is the random value of the Cognito
// challenge the answer was given to; Cognito's retry of the invocation that
// spent the links (same nonce, same answer) succeeds again, any other use
// does not. An empty nonce gets no retry.
func (s *Store) Redeem(ctx context.Context, user, answer, nonce string, now time.Time) (bool, error) {
	code, isCode := challenge.NormalizeCode(answer)
	if isCode {
		answer = code // a retry matches however the code was typed
	}
	var ok bool
	err := s.update(ctx, user, now, func(r *Record) (bool, error) {
		ok = false
		right := false
		switch {
		case isCode && s.codeKey != nil:
			right = r.Links.VerifyCode(challenge.CodeMAC(s.codeKey, user, code), now)
		case !isCode:
			right = r.Links.Verify(answer, now)
		}
		if right {
			ok = true
			spend(r, now)
			r.Receipt = ""
			if nonce != "" {
				r.Receipt = challenge.Receipt(nonce, answer)
			}
			return true, nil
		}
		if nonce != "" && r.Receipt != "" && now.Unix()-r.SpentAt < int64(ReceiptTTL/time.Second) &&
			challenge.SameReceipt(r.Receipt, challenge.Receipt(nonce, answer)) {
			ok = true
			return false, nil
		}
		if isCode && r.Links.HasCodes() {
			r.CodeFails++
			if r.CodeFails >= challenge.MaxCodeFails {
				r.Links, r.CodeFails = r.Links.VoidCodes(), 0
			}
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return false, fmt.Errorf("redeeming link: %w", err)
	}
	return ok, nil
}

// spend empties r: every link and code is gone, and a request still waiting
// can no longer be approved (the user signed in another way).
func spend(r *Record, now time.Time) {
	r.Links, r.CodeFails, r.SpentAt = challenge.Set{}, 0, now.Unix()
	if r.Request.State == Pending {
		r.Request.State = Void
	}
}

// ApproveResult is what POST /approve answers.
type ApproveResult int

const (
	// ApprovedNow: the link was live and the number matched; the links are
	// spent and the waiting browser can sign in once.
	ApprovedNow ApproveResult = iota
	// WrongNumber: the link was live but no waiting request has that
	// number; the latest request is void, the link stays usable.
	WrongNumber
	// LinkGone: the link is spent, expired or was never issued.
	LinkGone
)

// Approve approves the user's latest waiting request from the device that
// opened the link: the link must be live and number must be the one the
// waiting browser shows. Approving spends every link of the user and puts
// in their place the one-time answer only the waiting browser can derive,
// living as long as the request. A wrong number voids the request.
func (s *Store) Approve(ctx context.Context, user, secret, number string, now time.Time) (ApproveResult, error) {
	var res ApproveResult
	err := s.update(ctx, user, now, func(r *Record) (bool, error) {
		res = LinkGone
		if !r.Links.Verify(secret, now) {
			return false, nil
		}
		req := r.Request
		waiting := req.ID != "" && req.State == Pending && now.Unix() < req.Expires
		if !waiting || subtle.ConstantTimeCompare([]byte(req.Number), []byte(number)) != 1 {
			res = WrongNumber
			if !waiting {
				return false, nil
			}
			r.Request.State = Void
			return true, nil
		}
		spend(r, now)
		set, err := r.Links.AddHash(req.AnswerHash, now, time.Unix(req.Expires, 0))
		if err != nil {
			return false, err
		}
		r.Links, r.Request.State, r.Receipt = set, Approved, ""
		res = ApprovedNow
		return true, nil
	})
	if err != nil {
		return LinkGone, fmt.Errorf("approving request: %w", err)
	}
	return res, nil
}

// PollResult is what GET /login/{request} answers.
type PollResult int

const (
	StillPending PollResult = iota
	// NowApproved: approved, and this is the one time it is told.
	NowApproved
	// Gone: told already, void, or superseded by a sign-in.
	Gone
)

// Poll reports the state of the request requestID of user. It says
// StillPending for anything it does not know, as for an address without an
// account (user ""); NowApproved exactly once.
func (s *Store) Poll(ctx context.Context, user, requestID string, now time.Time) (PollResult, error) {
	if user == "" {
		// No account: read all the same, so the answer takes as long.
		_, _, err := s.b.Load(ctx, "#none")
		return StillPending, err
	}
	res := StillPending
	err := s.update(ctx, user, now, func(r *Record) (bool, error) {
		res = StillPending
		if r.Request.ID == "" || subtle.ConstantTimeCompare([]byte(r.Request.ID), []byte(requestID)) != 1 {
			return false, nil
		}
		switch r.Request.State {
		case Approved:
			res, r.Request.State = NowApproved, Consumed
			return true, nil
		case Consumed, Void:
			res = Gone
		}
		return false, nil
	})
	if err != nil {
		return StillPending, fmt.Errorf("polling request: %w", err)
	}
	return res, nil
}

// Count counts one event for key in the current fixed window of length per
// and reports whether it is within n; if not, retryAfter is the time until
// the window ends.
func (s *Store) Count(ctx context.Context, key string, n int, per time.Duration, now time.Time) (retryAfter time.Duration, ok bool, err error) {
	if per <= 0 || n <= 0 {
		return 0, false, errors.New("links: a limit needs n > 0 and per > 0")
	}
	start := now.Truncate(per)
	end := start.Add(per)
	count, err := s.b.Incr(ctx, key+"#"+strconv.FormatInt(start.Unix(), 10), end)
	if err != nil {
		return 0, false, fmt.Errorf("counting %s: %w", key, err)
	}
	if count > int64(n) {
		return end.Sub(now), false, nil
	}
	return 0, true, nil
}
