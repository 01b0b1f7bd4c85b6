// Package devserver builds the binary and runs it as the local dev server
// (what make dev runs) on a free loopback port, for the e2e tests and the
// load run. It only ever starts processes on 127.0.0.1 and stops them itself.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Defaults is the environment of a local run on port, as make dev sets it,
// with the resend interval and the per-IP limit off so tests and the load
// run (every request from 127.0.0.1) can send freely.
func Defaults(port int) map[string]string {
	p := strconv.Itoa(port)
	return map[string]string{
		"PORT":                p,
		"USER_POOL_ID":        "us-east-1_localpool",
		"USER_POOL_CLIENT_ID": "localclient",
		"EMAIL_FROM":          "Magic Links <no-reply@example.com>",
		"SIGN_IN_URL":         "http://127.0.0.1:" + p + "/sign-in",
		"SIGN_UP":             "auto",
		"RESEND_INTERVAL":     "0s",
		"LOGIN_LIMIT_PER_IP":  "off",
		"AWS_REGION":          "us-east-1",
	}
}

// Build compiles the main package of the module at moduleDir into out.
func Build(ctx context.Context, moduleDir, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, ".")
	cmd.Dir = moduleDir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	return nil
}

// FreePort asks the kernel for a free loopback port. Another process may
// take it before the server binds it; that shows as a start failure.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Config says what to start.
type Config struct {
	Bin string
	// Env overrides Defaults(port); an empty value removes the variable.
	Env map[string]string
	// Output receives the server's stdout and stderr (nil discards them).
	Output io.Writer
	// StartTimeout bounds the wait for /local/outbox to answer (15s by default).
	StartTimeout time.Duration
}

// Server is a running dev server.
type Server struct {
	URL  string            // http://127.0.0.1:<port>
	Port int               //
	Env  map[string]string // the environment it was given on top of the inherited one
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the process's exit, once done is closed
}

// Start runs the binary on a free port and waits until it serves. The
// server inherits this process's environment minus every AWS_* variable (so
// nothing can point it at a real account or at Lambda) and minus the
// variables it is given.
func Start(ctx context.Context, c Config) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	env := Defaults(port)
	if p, ok := c.Env["PORT"]; ok && p != "" {
		port, err = strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("devserver: PORT %q: %w", p, err)
		}
		env = Defaults(port)
	}
	maps.Copy(env, c.Env)
	for k, v := range env {
		if v == "" {
			delete(env, k)
		}
	}
	var environ []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, mine := env[k]; mine || strings.HasPrefix(k, "AWS_") {
			continue
		}
		environ = append(environ, kv)
	}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}

	cmd := exec.Command(c.Bin)
	cmd.Env = environ
	out := c.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devserver: starting %s: %w", c.Bin, err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), Port: port, Env: env, cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()

	timeout := c.StartTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/local/outbox", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("devserver: the server exited before serving: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("devserver: no answer from %s/local/outbox within %s", s.URL, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PID is the server's process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop asks the server to stop as Ctrl-C does (SIGINT), waits up to five
// seconds, then kills it. It returns the process's exit error, nil for a
// clean stop.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
		return s.err
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("devserver: did not stop within 5s of SIGINT; killed")
	}
}
