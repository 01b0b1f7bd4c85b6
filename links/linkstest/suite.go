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

	"magiclinks/links"
)

// Caps says which guarantees a backend gives beyond the sequential rules.
type Caps struct {
	Atomic   bool // compare-and-set: spent once and holds under races
	Receipts bool // keeps the receipt for Cognito's retries
	Counters bool // per-IP counters
}

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
		return links.New(f(t, c.Now)), c, "user-" + fmt.Sprint(time.Now().UnixNano())
	}
	issue := func(t *testing.T, s *links.Store, c *Clock, user, secret string, h time.Duration) bool {
		t.Helper()
		held, err := s.Issue(ctx, user, secret, c.Now(), ttl, h)
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
		if _, err := s.Issue(ctx, u, Secret(1), c.Now(), 25*time.Hour, 0); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
		if redeem(t, s, c, u, Secret(1), "n1") {
			t.Fatal("a link living 25h verified")
		}
	})
	t.Run("a link issued in the future never verifies", func(t *testing.T) {
		s, c, u := setup(t)
		if _, err := s.Issue(ctx, u, Secret(1), c.Now().Add(time.Hour), ttl, 0); err != nil {
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
		if err := s.Revoke(ctx, u, Secret(1), c.Now()); err != nil {
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
		if err := s.Revoke(ctx, u, Secret(2), c.Now()); err != nil {
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
				if _, ok, err := s.Allow(ctx, ip, 3, 15*time.Minute, c.Now()); err != nil || !ok {
					t.Fatalf("request %d refused (err %v)", i+1, err)
				}
			}
			retry, ok, err := s.Allow(ctx, ip, 3, 15*time.Minute, c.Now())
			if err != nil || ok {
				t.Fatalf("fourth request allowed (err %v)", err)
			}
			if retry != 12*time.Minute {
				t.Fatalf("retryAfter = %s, want the rest of the window, 12m", retry)
			}
			if _, ok, _ := s.Allow(ctx, ip+"0", 3, 15*time.Minute, c.Now()); !ok {
				t.Fatal("another IP was limited")
			}
			c.Add(12 * time.Minute)
			if _, ok, _ := s.Allow(ctx, ip, 3, 15*time.Minute, c.Now()); !ok {
				t.Fatal("the next window still limited")
			}
		})
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
				held, err := s.Issue(ctx, u, Secret(i), c.Now(), ttl, hold)
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
		s := links.New(b)
		u := "user-revive"
		issue(t, s, c, u, Secret(1), 0)
		b.afterLoad = func() {
			b.afterLoad = nil
			if ok, err := links.New(b.Backend).Redeem(ctx, u, Secret(1), "n1", c.Now()); err != nil || !ok {
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
						if _, err := s.Issue(ctx, u, Secret(100+i), c.Now(), ttl, 0); err != nil {
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
	if caps.Counters {
		t.Run("parallel requests from one IP: exactly the limit passes", func(t *testing.T) {
			s, c, _ := setup(t)
			ip := fmt.Sprintf("198.51.100.%d", time.Now().UnixNano()%250)
			var allowed atomic.Int32
			var wg sync.WaitGroup
			for range 3 * parallel {
				wg.Go(func() {
					_, ok, err := s.Allow(ctx, ip, parallel, time.Hour, c.Now())
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
