// Package rie runs a Lambda bootstrap under the AWS Lambda Runtime Interface
// Emulator (aws-lambda-rie), as Lambda runs a provided.al2023 function, and
// invokes it over HTTP. Both the emulator's invoke endpoint and its Runtime API
// listen on free 127.0.0.1 ports. It uses only the standard library so that
// the integration tests and the cold-start probe share it.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options say what to run and with which environment.
type Options struct {
	RIE       string            // path of aws-lambda-rie
	Bootstrap string            // path of the function's bootstrap
	Env       map[string]string // the function's environment (the RIE passes its own on)
	Log       io.Writer         // the emulator's and the function's output; nil discards
}

// Function is one running emulator with its bootstrap.
type Function struct {
	cmd     *exec.Cmd
	url     string
	Started time.Time // when the emulator process was started
	Ready   time.Time // when its invoke endpoint first accepted a connection
	done    chan struct{}
	waitErr error
}

// Reply is the emulator's answer to one invocation.
type Reply struct {
	Status int
	Body   []byte
	// Err is the function's error reply ({"errorMessage","errorType"}), or nil.
	Err *FunctionError
}

// FunctionError is the body Lambda answers with when the handler failed.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs the emulator with the bootstrap and waits until its invoke
// endpoint accepts connections. The bootstrap itself starts on the first
// invocation, as a Lambda cold start does. A port taken by another process
// between choosing and binding it makes the emulator exit: Start then tries
// again with other ports.
func Start(o Options) (*Function, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var f *Function
		if f, err = start(o); err == nil || !errors.Is(err, errExited) {
			return f, err
		}
	}
	return nil, err
}

var errExited = errors.New("aws-lambda-rie exited before listening")

func start(o Options) (*Function, error) {
	invokePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	bootstrap, err := filepath.Abs(o.Bootstrap)
	if err != nil {
		return nil, err
	}
	rieBin, err := filepath.Abs(o.RIE)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(rieBin,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(invokePort),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap) // Lambda runs the bootstrap from /var/task
	cmd.Env = environ(o.Env)
	if o.Log == nil {
		o.Log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	// Own process group, so that Stop ends the bootstrap the emulator forked
	// too; killed with its parent, so an interrupted test leaves no emulator
	// behind (the bootstrap exits once its Runtime API is gone).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	f := &Function{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", invokePort), done: make(chan struct{})}
	f.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.RIE, err)
	}
	go func() { f.waitErr = cmd.Wait(); close(f.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", invokePort), 200*time.Millisecond)
		if err == nil {
			f.Ready = time.Now()
			c.Close()
			return f, nil
		}
		select {
		case <-f.done:
			return nil, fmt.Errorf("%w: %v", errExited, f.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			f.Stop()
			return nil, fmt.Errorf("aws-lambda-rie not listening on 127.0.0.1:%d after 10s", invokePort)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// environ is a minimal, hermetic environment: no credentials, profiles or
// endpoints of the machine leak into the function, only what o.Env says.
func environ(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "LOG_LEVEL=warn"}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

var client = &http.Client{Timeout: 30 * time.Second}

// Invoke sends one event and returns the emulator's reply.
func (f *Function) Invoke(ctx context.Context, payload []byte) (Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(payload))
	if err != nil {
		return Reply{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Status: resp.StatusCode, Body: body}
	r.Err = parseFunctionError(body)
	return r, nil
}

// parseFunctionError recognises Lambda's error reply: an object with exactly
// errorMessage and errorType (and optionally stackTrace). No successful
// reply of this function has that shape.
func parseFunctionError(body []byte) *FunctionError {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil
	}
	msg, ok1 := m["errorMessage"].(string)
	typ, ok2 := m["errorType"].(string)
	if !ok1 || !ok2 {
		return nil
	}
	for k := range m {
		if k != "errorMessage" && k != "errorType" && k != "stackTrace" {
			return nil
		}
	}
	return &FunctionError{Message: msg, Type: typ}
}

// Pid is the emulator's process ID.
func (f *Function) Pid() int { return f.cmd.Process.Pid }

// BootstrapPid is the process ID of the running bootstrap (the emulator's
// child whose executable is bootstrap), or 0 if there is none.
func (f *Function) BootstrapPid() int {
	for _, pid := range Children(f.Pid()) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err == nil && !strings.Contains(filepath.Base(exe), "aws-lambda-rie") {
			return pid
		}
	}
	return 0
}

// Children lists the direct children of pid, read from /proc.
func Children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces or parentheses.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// Exited reports whether the emulator has exited.
func (f *Function) Exited() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// Stop ends the emulator and its bootstrap: SIGTERM to the process group,
// SIGKILL after a second.
func (f *Function) Stop() {
	if f == nil || f.cmd.Process == nil {
		return
	}
	pgid := f.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-f.done
	}
	// The bootstrap may outlive the emulator in the group for a moment.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// PeakRSSKiB is a process's peak resident set size (VmHWM) in KiB.
func PeakRSSKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
