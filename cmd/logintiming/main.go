// Command logintiming measures how long POST /login takes to answer for an
// address that needs a new account (SIGN_UP=auto: lookup, AdminCreateUser,
// AdminSetUserPassword, store, mail) and for an existing one (lookup, store,
// mail), through the local stack, with and without the response-time floor.
// It prints the figures side by side; it asserts nothing.
//
//	go run ./cmd/logintiming -n 200
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"magiclinks/local/devserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "logintiming:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 200, "requests per kind of address and floor")
	flag.Parse()
	if *n < 2 {
		return errors.New("-n must be at least 2")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "magiclinks-timing-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == os.DevNull {
		return errors.New("run this inside the magiclinks module")
	}
	bin := filepath.Join(dir, "magiclinks")
	if err := devserver.Build(ctx, filepath.Dir(strings.TrimSpace(string(out))), bin); err != nil {
		return err
	}
	fmt.Printf("POST /login through the local stack, %d requests each, one at a time (SIGN_UP=auto)\n\n", *n)
	fmt.Printf("%-8s %-10s %9s %9s %9s %9s\n", "floor", "address", "p50", "p90", "p99", "max")
	for _, floor := range []string{"0s", "800ms"} {
		srv, err := devserver.Start(ctx, devserver.Config{Bin: bin, Env: map[string]string{"LOGIN_MIN_DURATION": floor}})
		if err != nil {
			return err
		}
		// Alternate the kinds so drift in the machine's load hits both alike.
		var fresh, known []time.Duration
		for i := range *n {
			d, err := login(ctx, srv.URL, fmt.Sprintf("new-%s-%d@example.com", floor, i))
			if err != nil {
				srv.Stop()
				return err
			}
			fresh = append(fresh, d)
			// The first request for the known address creates it; time the rest.
			if d, err = login(ctx, srv.URL, "known-"+floor+"@example.com"); err != nil {
				srv.Stop()
				return err
			}
			if i > 0 {
				known = append(known, d)
			}
		}
		srv.Stop()
		for _, row := range []struct {
			name string
			ds   []time.Duration
		}{{"new", fresh}, {"existing", known}} {
			slices.Sort(row.ds)
			q := func(p float64) string {
				return row.ds[int(p*float64(len(row.ds)-1))].Round(10 * time.Microsecond).String()
			}
			fmt.Printf("%-8s %-10s %9s %9s %9s %9s\n", floor, row.name, q(0.5), q(0.9), q(0.99), q(1))
		}
	}
	return nil
}

func login(ctx context.Context, base, email string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", bytes.NewReader([]byte(`{"email":"`+email+`"}`)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusAccepted {
		return 0, fmt.Errorf("POST /login for %s: status %d", email, resp.StatusCode)
	}
	return d, nil
}
