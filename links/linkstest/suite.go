// Package linkstest is the conformance suite every links.Backend passes, the
// way database/sql drivers share one: the rules are tested once, against
// each implementation (in-process here, DynamoDB against dynalite in make
// integration, the Cognito attribute against a fake).
package linkstest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"magiclinks/challenge"
	"magiclinks/links"
)

// Caps says which guarantees a backend gives beyond the sequential rules.
type Caps struct {
	Atomic   bool // compare-and-set: spent once and holds under races
	Receipts bool // keeps the receipt for Cognito's retries
	Counters bool // per-IP counters
	// CrossDevice: keeps codes, wrong-code counts and requests.
	CrossDevice bool
}

// CodeKey is the code MAC key the suite's stores use.
var CodeKey = []byte("0123456789abcdef0123456789abcdef")

// Factory returns a fresh, empty backend whose expiry follows now.
type Factory func(t *testing.T, now func() time.Time) links.Backend

// Clock is a settable clock for the suite.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *Clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// T0 is where every clock in the suite starts.
var T0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

const (
	ttl  = 10 * time.Minute
	hold = time.Minute
)

// Secret returns a well-formed distinct challenge for test number i.
func Secret(i int) string {
	s := fmt.Sprintf("secret-%04d-", i)
	for len(s) < 43 {
		s += "x"
	}
	return s
}

// Run runs every rule against backends made by f.
func Run(t *testing.T, f Factory, caps Caps) {
	ctx := context.Background()
	setup := func(t *testing.T) (*links.Store, *Clock, string) {
		t.Helper()
		c := &Clock{t: T0}
		key := CodeKey
		if !caps.CrossDevice {
			key = nil
		}
		return links.New(f(t, c.Now), key), c, "user-" + fmt.Sprint(time.Now().UnixNano())
	}
	issue := func(t *testing.T, s *links.Store, c *Clock, user, secret string, h time.Duration) bool {
		t.Helper()
		held, err := s.Issue(ctx, user, links.NewLink{Secret: secret}, c.Now(), ttl, h)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		return held
	}
	redeem := func(t *testing.T, s *links.Store, c *Clock, user, answer, nonce string) bool {
		t.Helper()
		ok, err := s.Redeem(ctx, user, answer, nonce, c.Now())
		if err != nil {
			t.Fatalf("Redeem: %v", err)
		}
		return ok
	}

	t.Run("a link is spent by its first use", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), hold)
		if !redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("a fresh link did not verify")
		}
		if redeem(t, s, c, u, Secret(1), "n2") {
			t.Fatal("a spent link verified again")
		}
	})
	t.Run("using one link spends every outstanding link of the user", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), 0)
		issue(t, s, c, u, Secret(2), 0)
		if !redeem(t, s, c, u, Secret(2), "n1") {
			t.Fatal("second link did not verify")
		}
		if redeem(t, s, c, u, Secret(1), "n2") {
			t.Fatal("first link still verified after the second was used")
		}
	})
	t.Run("several links stay valid until one is used", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), 0)
		c.Add(time.Minute)
		issue(t, s, c, u, Secret(2), 0)
		if !redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("the older of two live links did not verify")
		}
	})
	t.Run("a wrong answer spends nothing", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), hold)
		for _, wrong := range []string{Secret(2), "", "short", Secret(1) + "x"} {
			if redeem(t, s, c, u, wrong, "n1") {
				t.Fatalf("wrong answer %q verified", wrong)
			}
		}
		if !redeem(t, s, c, u, Secret(1), "n2") {
			t.Fatal("the link stopped working after wrong answers")
		}
	})
	t.Run("links are per user", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), hold)
		if redeem(t, s, c, u+"-other", Secret(1), "n1") {
			t.Fatal("another user's link verified")
		}
		if held := issue(t, s, c, u+"-other", Secret(2), hold); held {
			t.Fatal("one user's hold held another user")
		}
	})
	t.Run("a link expires after its lifetime", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), hold)
		c.Add(ttl)
		if redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("an expired link verified")
		}
	})
	t.Run("a link with a lifetime over MaxTTL never verifies", func(t *testing.T) {
		s, c, u := setup(t)
		if _, err := s.Issue(ctx, u, links.NewLink{Secret: Secret(1)}, c.Now(), 25*time.Hour, 0); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
		if redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("a link living 25h verified")
		}
	})
	t.Run("a link issued in the future never verifies", func(t *testing.T) {
		s, c, u := setup(t)
		if _, err := s.Issue(ctx, u, links.NewLink{Secret: Secret(1)}, c.Now().Add(time.Hour), ttl, 0); err != nil {
			t.Fatal(err)
		}
		if redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("a link issued an hour from now verified")
		}
	})
	t.Run("resend hold", func(t *testing.T) {
		s, c, u := setup(t)
		if issue(t, s, c, u, Secret(1), hold) {
			t.Fatal("first link held")
		}
		c.Add(hold - time.Second)
		if !issue(t, s, c, u, Secret(2), hold) {
			t.Fatal("second link within the hold was not held")
		}
		if redeem(t, s, c, u, Secret(2), "n1") {
			t.Fatal("a held link was stored")
		}
		c.Add(time.Second)
		if issue(t, s, c, u, Secret(3), hold) {
			t.Fatal("link after the hold was held")
		}
	})
	t.Run("no hold when the interval is zero", func(t *testing.T) {
		s, c, u := setup(t)
		for i := range 3 {
			if issue(t, s, c, u, Secret(i), 0) {
				t.Fatalf("link %d held with hold 0", i)
			}
		}
	})
	t.Run("revoking an unsent link releases its hold", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), hold)
		if err := s.Revoke(ctx, u, Secret(1), "", c.Now()); err != nil {
			t.Fatal(err)
		}
		if redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("a revoked link verified")
		}
		c.Add(time.Second)
		if issue(t, s, c, u, Secret(2), hold) {
			t.Fatal("the revoked link's hold still held")
		}
		if !redeem(t, s, c, u, Secret(2), "n2") {
			t.Fatal("the link sent after a revoke did not verify")
		}
	})
	t.Run("revoke keeps the other links", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), 0)
		issue(t, s, c, u, Secret(2), 0)
		if err := s.Revoke(ctx, u, Secret(2), "", c.Now()); err != nil {
			t.Fatal(err)
		}
		if !redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("revoking one link took another")
		}
	})
	t.Run("a new link after sign-in is not held and works", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, Secret(1), hold)
		redeem(t, s, c, u, Secret(1), "n1")
		if issue(t, s, c, u, Secret(2), hold) {
			t.Fatal("a spent link still held the next one")
		}
		if !redeem(t, s, c, u, Secret(2), "n2") {
			t.Fatal("a link issued after a sign-in did not verify")
		}
	})

	if caps.Receipts {
		t.Run("Cognito's retry of the spending invocation succeeds, nothing else does", func(t *testing.T) {
			s, c, u := setup(t)
			issue(t, s, c, u, Secret(1), hold)
			if !redeem(t, s, c, u, Secret(1), "nonce-a") {
				t.Fatal("fresh link did not verify")
			}
			c.Add(2 * time.Second)
			if !redeem(t, s, c, u, Secret(1), "nonce-a") {
				t.Fatal("the retry of the same invocation failed")
			}
			if redeem(t, s, c, u, Secret(1), "nonce-b") {
				t.Fatal("another session used a spent link")
			}
			if redeem(t, s, c, u, Secret(2), "nonce-a") {
				t.Fatal("the spending session's nonce accepted another answer")
			}
			if redeem(t, s, c, u, Secret(1), "") {
				t.Fatal("an empty nonce was taken for a retry")
			}
			c.Add(links.ReceiptTTL)
			if redeem(t, s, c, u, Secret(1), "nonce-a") {
				t.Fatal("the receipt outlived a Cognito session")
			}
		})
	}

	if caps.Counters {
		t.Run("per-IP counter", func(t *testing.T) {
			s, c, _ := setup(t)
			ip := fmt.Sprintf("192.0.2.%d", time.Now().UnixNano()%250)
			c.Add(3 * time.Minute) // inside a 15-minute window
			for i := range 3 {
				if _, ok, err := s.Count(ctx, "ip#"+ip, 3, 15*time.Minute, c.Now()); err != nil || !ok {
					t.Fatalf("request %d refused (err %v)", i+1, err)
				}
			}
			retry, ok, err := s.Count(ctx, "ip#"+ip, 3, 15*time.Minute, c.Now())
			if err != nil || ok {
				t.Fatalf("fourth request allowed (err %v)", err)
			}
			if retry != 12*time.Minute {
				t.Fatalf("retryAfter = %s, want the rest of the window, 12m", retry)
			}
			if _, ok, _ := s.Count(ctx, "ip#"+ip+"0", 3, 15*time.Minute, c.Now()); !ok {
				t.Fatal("another IP was limited")
			}
			c.Add(12 * time.Minute)
			if _, ok, _ := s.Count(ctx, "ip#"+ip, 3, 15*time.Minute, c.Now()); !ok {
				t.Fatal("the next window still limited")
			}
		})
	}

	if caps.CrossDevice {
		runCrossDevice(t, setup)
	}

	if !caps.Atomic {
		return
	}
	const parallel = 16
	t.Run("parallel uses of one link: exactly one succeeds", func(t *testing.T) {
		for round := range 5 {
			s, c, u := setup(t)
			issue(t, s, c, u, Secret(round), hold)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range parallel {
				wg.Go(func() {
					ok, err := s.Redeem(ctx, u, Secret(round), fmt.Sprint("nonce-", i), c.Now())
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d of %d parallel uses succeeded, want exactly 1", round, n, parallel)
			}
		}
	})
	t.Run("parallel logins for one user: exactly one link per hold", func(t *testing.T) {
		s, c, u := setup(t)
		var issued atomic.Int32
		var wg sync.WaitGroup
		for i := range parallel {
			wg.Go(func() {
				held, err := s.Issue(ctx, u, links.NewLink{Secret: Secret(i)}, c.Now(), ttl, hold)
				if err != nil {
					t.Error(err)
				}
				if !held {
					issued.Add(1)
				}
			})
		}
		wg.Wait()
		if n := issued.Load(); n != 1 {
			t.Fatalf("%d of %d parallel logins issued a link, want exactly 1", n, parallel)
		}
	})
	t.Run("a write from before a spend never revives the spent link", func(t *testing.T) {
		// Deterministic: the login loads the record holding link 1, the
		// sign-in spends it, then the login saves. The save must not win.
		c := &Clock{t: T0}
		b := &interleave{Backend: f(t, c.Now)}
		s := links.New(b, nil)
		u := "user-revive"
		issue(t, s, c, u, Secret(1), 0)
		b.afterLoad = func() {
			b.afterLoad = nil
			if ok, err := links.New(b.Backend, nil).Redeem(ctx, u, Secret(1), "n1", c.Now()); err != nil || !ok {
				t.Errorf("the interleaved sign-in failed: %v %v", ok, err)
			}
		}
		issue(t, s, c, u, Secret(2), 0)
		if redeem(t, s, c, u, Secret(1), "n2") {
			t.Fatal("the spent link works again after an overlapping login")
		}
		if !redeem(t, s, c, u, Secret(2), "n3") {
			t.Fatal("the overlapping login's own link was lost")
		}
	})
	t.Run("parallel sign-ins racing logins never revive a spent link", func(t *testing.T) {
		for round := range 10 {
			s, c, u := setup(t)
			issue(t, s, c, u, Secret(0), 0)
			var wg sync.WaitGroup
			var wins atomic.Int32
			for i := range parallel {
				wg.Go(func() {
					if i%2 == 0 {
						if _, err := s.Issue(ctx, u, links.NewLink{Secret: Secret(100 + i)}, c.Now(), ttl, 0); err != nil {
							t.Error(err)
						}
						return
					}
					if ok, _ := s.Redeem(ctx, u, Secret(0), fmt.Sprint("n", i), c.Now()); ok {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("round %d: %d sign-ins with one link", round, wins.Load())
			}
			if redeem(t, s, c, u, Secret(0), "late") {
				t.Fatalf("round %d: the spent link was revived", round)
			}
		}
	})
	if caps.CrossDevice {
		t.Run("parallel approvals and polls: one approval, one answer", func(t *testing.T) {
			s, c, u := setup(t)
			req := NewRequest(1, c.Now())
			if _, err := s.Issue(ctx, u, links.NewLink{Secret: Secret(1), Request: req.Request}, c.Now(), ttl, 0); err != nil {
				t.Fatal(err)
			}
			var approved, told atomic.Int32
			var wg sync.WaitGroup
			for range parallel {
				wg.Go(func() {
					res, err := s.Approve(ctx, u, Secret(1), req.Number, c.Now())
					if err != nil {
						t.Error(err)
					}
					if res == links.ApprovedNow {
						approved.Add(1)
					}
				})
			}
			wg.Wait()
			for range parallel {
				wg.Go(func() {
					res, err := s.Poll(ctx, u, req.ID, c.Now())
					if err != nil {
						t.Error(err)
					}
					if res == links.NowApproved {
						told.Add(1)
					}
				})
			}
			wg.Wait()
			if approved.Load() != 1 || told.Load() != 1 {
				t.Fatalf("%d approvals and %d answers from %d each in parallel, want 1 and 1", approved.Load(), told.Load(), parallel)
			}
		})
	}
	if caps.Counters {
		t.Run("parallel requests from one IP: exactly the limit passes", func(t *testing.T) {
			s, c, _ := setup(t)
			ip := fmt.Sprintf("198.51.100.%d", time.Now().UnixNano()%250)
			var allowed atomic.Int32
			var wg sync.WaitGroup
			for range 3 * parallel {
				wg.Go(func() {
					_, ok, err := s.Count(ctx, "ip#"+ip, parallel, time.Hour, c.Now())
					if err != nil {
						t.Error(err)
					}
					if ok {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			if allowed.Load() != parallel {
				t.Fatalf("%d allowed, want %d", allowed.Load(), parallel)
			}
		})
	}
}

// interleave runs afterLoad between a Load and the Save that follows it.
type interleave struct {
	links.Backend
	afterLoad func()
}

func (b *interleave) Load(ctx context.Context, user string) (links.Record, links.Version, error) {
	r, v, err := b.Backend.Load(ctx, user)
	if f := b.afterLoad; f != nil {
		f()
	}
	return r, v, err
}

// TestRequest is a request as POST /login makes one, with its handle.
type TestRequest struct {
	links.Request
	Handle string
}

// NewRequest makes request number i, expiring ttl after now.
func NewRequest(i int, now time.Time) TestRequest {
	handle := fmt.Sprintf("handle-%d-%d", i, time.Now().UnixNano())
	return TestRequest{
		Handle: handle,
		Request: links.Request{
			ID:         challenge.RequestID(handle),
			AnswerHash: challenge.Hash(challenge.ApprovalAnswer(handle)),
			Number:     fmt.Sprintf("%02d", 10+i%90),
			Expires:    now.Add(ttl).Unix(),
		},
	}
}

// runCrossDevice tests the codes and the cross-device approval.
func runCrossDevice(t *testing.T, setup func(t *testing.T) (*links.Store, *Clock, string)) {
	ctx := context.Background()
	issue := func(t *testing.T, s *links.Store, c *Clock, u string, l links.NewLink) {
		t.Helper()
		if held, err := s.Issue(ctx, u, l, c.Now(), ttl, 0); err != nil || held {
			t.Fatalf("Issue: held %v, %v", held, err)
		}
	}
	redeem := func(t *testing.T, s *links.Store, c *Clock, u, answer, nonce string) bool {
		t.Helper()
		ok, err := s.Redeem(ctx, u, answer, nonce, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	t.Run("the code signs in like its link and spends both", func(t *testing.T) {
		for _, typed := range []string{"ABC123", "abc-123", " Abc123 "} {
			s, c, u := setup(t)
			issue(t, s, c, u, links.NewLink{Secret: Secret(1), Code: "ABC123"})
			issue(t, s, c, u, links.NewLink{Secret: Secret(2), Code: "XYZ789"})
			if !redeem(t, s, c, u, typed, "n1") {
				t.Fatalf("code typed %q refused", typed)
			}
			for _, a := range []string{"ABC123", "XYZ789", Secret(1), Secret(2)} {
				if redeem(t, s, c, u, a, "n2") {
					t.Fatalf("%q works after the code %q signed in", a, typed)
				}
			}
		}
	})
	t.Run("using the link spends its code", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Code: "ABC123"})
		redeem(t, s, c, u, Secret(1), "n1")
		if redeem(t, s, c, u, "ABC123", "n2") {
			t.Fatal("the code works after its link was used")
		}
	})
	t.Run("a code lives and dies with its link", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Code: "ABC123"})
		c.Add(ttl)
		if redeem(t, s, c, u, "ABC123", "n1") {
			t.Fatal("an expired code works")
		}
	})
	t.Run("a code is the user's own", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Code: "ABC123"})
		issue(t, s, c, u+"-b", links.NewLink{Secret: Secret(2), Code: "XYZ789"})
		if redeem(t, s, c, u, "XYZ789", "n1") {
			t.Fatal("another user's code works")
		}
	})
	t.Run("five wrong codes in all void the codes, not the links", func(t *testing.T) {
		s, c, u := setup(t)
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Code: "ABC123"})
		for i := range 4 {
			if redeem(t, s, c, u, fmt.Sprintf("WRONG%d", i), fmt.Sprint("session-", i)) {
				t.Fatal("a wrong code worked")
			}
		}
		if !redeem(t, s, c, u, "ABC123", "probe") {
			t.Fatal("four wrong codes already voided the code")
		}
		issue(t, s, c, u, links.NewLink{Secret: Secret(2), Code: "DEF456"})
		for i := range 5 { // across sessions: the count is the user's
			redeem(t, s, c, u, fmt.Sprintf("WRONG%d", i), fmt.Sprint("other-session-", i))
		}
		if redeem(t, s, c, u, "DEF456", "n1") {
			t.Fatal("the right code still works after five wrong ones")
		}
		if !redeem(t, s, c, u, Secret(2), "n2") {
			t.Fatal("the link stopped working with its code")
		}
		issue(t, s, c, u, links.NewLink{Secret: Secret(3), Code: "GHJ789"})
		if !redeem(t, s, c, u, "GHJ789", "n3") {
			t.Fatal("a code mailed after the voiding does not work")
		}
	})
	t.Run("approve with the right number: the waiting browser signs in once", func(t *testing.T) {
		s, c, u := setup(t)
		req := NewRequest(1, c.Now())
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Code: "ABC123", Request: req.Request})
		if res, err := s.Poll(ctx, u, req.ID, c.Now()); err != nil || res != links.StillPending {
			t.Fatalf("poll before approval: %v %v", res, err)
		}
		if res, err := s.Approve(ctx, u, Secret(1), req.Number, c.Now()); err != nil || res != links.ApprovedNow {
			t.Fatalf("Approve: %v %v", res, err)
		}
		if redeem(t, s, c, u, Secret(1), "n1") || redeem(t, s, c, u, "ABC123", "n2") {
			t.Fatal("approving did not spend the link and its code")
		}
		if res, _ := s.Approve(ctx, u, Secret(1), req.Number, c.Now()); res != links.LinkGone {
			t.Fatalf("second approval: %v, want LinkGone", res)
		}
		if res, _ := s.Poll(ctx, u, req.ID, c.Now()); res != links.NowApproved {
			t.Fatalf("poll after approval: %v", res)
		}
		if res, _ := s.Poll(ctx, u, req.ID, c.Now()); res != links.Gone {
			t.Fatalf("second poll after approval: %v, want Gone", res)
		}
		answer := challenge.ApprovalAnswer(req.Handle)
		if !redeem(t, s, c, u, answer, "n3") {
			t.Fatal("the approved answer does not sign in")
		}
		if redeem(t, s, c, u, answer, "n4") {
			t.Fatal("the approved answer signs in twice")
		}
	})
	t.Run("a wrong number voids the request, not the link", func(t *testing.T) {
		s, c, u := setup(t)
		req := NewRequest(2, c.Now())
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Request: req.Request})
		wrong := "00"
		if req.Number == wrong {
			wrong = "01"
		}
		if res, _ := s.Approve(ctx, u, Secret(1), wrong, c.Now()); res != links.WrongNumber {
			t.Fatalf("wrong number: %v", res)
		}
		if res, _ := s.Approve(ctx, u, Secret(1), req.Number, c.Now()); res != links.WrongNumber {
			t.Fatalf("right number after a wrong one: %v, want WrongNumber", res)
		}
		if res, _ := s.Poll(ctx, u, req.ID, c.Now()); res != links.Gone {
			t.Fatalf("poll of a void request: %v, want Gone", res)
		}
		if !redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("the link stopped working after a wrong number")
		}
		if redeem(t, s, c, u, challenge.ApprovalAnswer(req.Handle), "n2") {
			t.Fatal("a void request's answer signs in")
		}
	})
	t.Run("approval needs a live link and the latest request", func(t *testing.T) {
		s, c, u := setup(t)
		if res, _ := s.Approve(ctx, u, Secret(1), "42", c.Now()); res != links.LinkGone {
			t.Fatalf("no link: %v", res)
		}
		first, second := NewRequest(3, c.Now()), NewRequest(4, c.Now())
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Request: first.Request})
		issue(t, s, c, u, links.NewLink{Secret: Secret(2), Request: second.Request})
		if res, _ := s.Approve(ctx, u, Secret(9), second.Number, c.Now()); res != links.LinkGone {
			t.Fatalf("unknown link: %v", res)
		}
		if res, _ := s.Approve(ctx, u, Secret(1), second.Number, c.Now()); res != links.ApprovedNow {
			t.Fatalf("any live link approves the latest request: %v", res)
		}
		if res, _ := s.Poll(ctx, u, first.ID, c.Now()); res != links.StillPending {
			t.Fatalf("the superseded request: %v, want StillPending", res)
		}
	})
	t.Run("a sign-in by link ends the waiting request", func(t *testing.T) {
		s, c, u := setup(t)
		req := NewRequest(5, c.Now())
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Request: req.Request})
		redeem(t, s, c, u, Secret(1), "n1")
		if res, _ := s.Poll(ctx, u, req.ID, c.Now()); res != links.Gone {
			t.Fatalf("poll after a sign-in elsewhere: %v, want Gone", res)
		}
	})
	t.Run("an approval lives only as long as its request", func(t *testing.T) {
		s, c, u := setup(t)
		req := NewRequest(6, c.Now())
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Request: req.Request})
		c.Add(ttl - time.Second)
		if res, _ := s.Approve(ctx, u, Secret(1), req.Number, c.Now()); res != links.ApprovedNow {
			t.Fatalf("approve: %v", res)
		}
		c.Add(time.Second)
		if redeem(t, s, c, u, challenge.ApprovalAnswer(req.Handle), "n1") {
			t.Fatal("the approved answer outlived its request")
		}
	})
	t.Run("revoking an unsent link takes its request too", func(t *testing.T) {
		s, c, u := setup(t)
		req := NewRequest(7, c.Now())
		issue(t, s, c, u, links.NewLink{Secret: Secret(1), Request: req.Request})
		if err := s.Revoke(ctx, u, Secret(1), req.ID, c.Now()); err != nil {
			t.Fatal(err)
		}
		issue(t, s, c, u, links.NewLink{Secret: Secret(2)})
		if res, _ := s.Approve(ctx, u, Secret(2), req.Number, c.Now()); res != links.WrongNumber {
			t.Fatalf("approving a revoked request: %v, want WrongNumber", res)
		}
	})
	t.Run("polling for no account answers pending", func(t *testing.T) {
		s, c, _ := setup(t)
		if res, err := s.Poll(ctx, "", "whatever", c.Now()); err != nil || res != links.StillPending {
			t.Fatalf("%v %v", res, err)
		}
	})
}
