// Command coldstart measures the bootstrap's cold start under the AWS Lambda
// Runtime Interface Emulator (make coldstart, scripts/coldstart.sh).
//
// Each run starts a fresh aws-lambda-rie with the bootstrap, sends one event
// as soon as the emulator listens, and records:
//
//   - start→answer: from starting the emulator process to the first answered
//     invocation (the emulator starts the bootstrap on that invocation, as
//     Lambda does, so this holds the emulator's start, the bootstrap's exec
//     and init, and the first invocation);
//   - invoke→answer: from sending the first invocation to its answer (the
//     bootstrap's exec, init and first invocation);
//   - emulator ready: from starting the emulator to its invoke endpoint
//     accepting connections;
//   - peak RSS: the bootstrap's VmHWM from /proc after that answer.
//
// It prints every run, then the median and the maximum of each, and the
// binary's size. With -baseline (make coldstart builds the trivial echo
// function of ./trivial with the same flags) the two alternate run by run,
// so both see the same machine, and the ratio of their invoke→answer
// medians is printed: the product's cold start in units of the smallest Go
// function there is. The event makes no AWS call (a DefineAuthChallenge by
// default), so nothing but the two processes is measured; the configuration
// is complete but points AWS at an unused loopback port.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"

	"magiclinks/integration/internal/rie"
)

type run struct {
	startToAnswer  time.Duration
	invokeToAnswer time.Duration
	ready          time.Duration
	peakRSSKiB     int
}

func main() {
	rieBin := flag.String("rie", ".tools/bin/aws-lambda-rie", "path of aws-lambda-rie")
	bootstrap := flag.String("bootstrap", "build/bootstrap", "path of the bootstrap (built with -tags lambda.norpc,lambdaonly)")
	runs := flag.Int("n", 10, "number of cold starts")
	eventPath := flag.String("event", "testdata/events/cognito-define-first-call.json", "event of the first invocation")
	baseline := flag.String("baseline", "", "a second bootstrap measured side by side (the trivial echo function)")
	nodeInit := flag.String("node", "", "init.mjs of the Node anchor (integration/coldstart/node, installed): its init is measured too")
	flag.Parse()
	if *runs < 1 {
		fail("-n must be at least 1")
	}
	event, err := os.ReadFile(*eventPath)
	if err != nil {
		fail("%v", err)
	}
	unused, err := rie.FreePort()
	if err != nil {
		fail("%v", err)
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", unused)
	env := map[string]string{
		"USER_POOL_ID":                "us-east-1_Example1",
		"USER_POOL_CLIENT_ID":         "1example23456789abcdefghij",
		"EMAIL_FROM":                  "Example <no-reply@example.com>",
		"SIGN_IN_URL":                 "https://app.example.com/sign-in",
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "local",
		"AWS_SECRET_ACCESS_KEY":       "local",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_ENDPOINT_URL":            endpoint,
		// As Terraform deploys it: the link store in DynamoDB.
		"LINKS_TABLE": "magiclinks-links",
		"LINK_SECRET": "coldstart-only-secret-0123456789abcdef",
	}

	subjects := []string{*bootstrap}
	if *baseline != "" {
		subjects = append(subjects, *baseline)
	}
	fmt.Printf("cold start under %s, %d runs each, first event %s\n", *rieBin, *runs, *eventPath)
	results := make([][]run, len(subjects))
	var nodeRuns []nodeRun
	for i := 1; i <= *runs; i++ {
		for s, bin := range subjects {
			r, err := once(*rieBin, bin, env, event)
			if err != nil {
				fail("%s run %d: %v", bin, i, err)
			}
			results[s] = append(results[s], r)
		}
		if *nodeInit != "" {
			r, err := nodeOnce(*nodeInit)
			if err != nil {
				fail("node %s run %d: %v", *nodeInit, i, err)
			}
			nodeRuns = append(nodeRuns, r)
		}
	}
	var invokeMedians []time.Duration
	for s, bin := range subjects {
		invokeMedians = append(invokeMedians, report(bin, results[s]))
	}
	if len(nodeRuns) > 0 {
		nodeMedian := reportNode(*nodeInit, nodeRuns)
		if len(invokeMedians) == 2 {
			fmt.Printf("\nNode anchor (process start -> clients made, median) %s / %s = %.0f× the trivial function's cold start\n",
				ms(nodeMedian), ms(invokeMedians[1]), float64(nodeMedian)/float64(invokeMedians[1]))
		}
	}
	if len(invokeMedians) == 2 {
		fmt.Printf("\ncold start (init + first invocation, median) %s / %s = %.2f× (target: at most 1.5×)\n",
			ms(invokeMedians[0]), ms(invokeMedians[1]), float64(invokeMedians[0])/float64(invokeMedians[1]))
	}
}

// report prints one subject's runs and summary, and returns its median
// invoke→answer time.
func report(bin string, results []run) time.Duration {
	info, err := os.Stat(bin)
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("\n%s\n%4s  %14s  %14s  %14s  %10s\n", bin, "run", "start->answer", "invoke->answer", "emulator ready", "peak RSS")
	for i, r := range results {
		fmt.Printf("%4d  %14s  %14s  %14s  %6.1f MiB\n", i+1, ms(r.startToAnswer), ms(r.invokeToAnswer), ms(r.ready), mib(r.peakRSSKiB))
	}
	durations := func(get func(run) time.Duration) (med, max time.Duration) {
		var v []time.Duration
		for _, r := range results {
			v = append(v, get(r))
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return median(v), v[len(v)-1]
	}
	var rss []int
	for _, r := range results {
		rss = append(rss, r.peakRSSKiB)
	}
	sort.Ints(rss)
	medRSS := rss[len(rss)/2]
	if len(rss)%2 == 0 {
		medRSS = (rss[len(rss)/2-1] + rss[len(rss)/2]) / 2
	}
	fmt.Printf("%-38s %10s  %10s\n", fmt.Sprintf("over %d cold starts", len(results)), "median", "max")
	for _, m := range []struct {
		name string
		get  func(run) time.Duration
	}{
		{"process start -> first answer", func(r run) time.Duration { return r.startToAnswer }},
		{"first invocation -> answer", func(r run) time.Duration { return r.invokeToAnswer }},
		{"emulator start -> ready", func(r run) time.Duration { return r.ready }},
	} {
		med, max := durations(m.get)
		fmt.Printf("%-38s %10s  %10s\n", m.name, ms(med), ms(max))
	}
	fmt.Printf("%-38s %6.1f MiB  %6.1f MiB\n", "peak RSS (VmHWM)", mib(medRSS), mib(rss[len(rss)-1]))
	fmt.Printf("%-38s %d bytes (%.1f MiB)\n", "binary size", info.Size(), float64(info.Size())/(1<<20))
	med, _ := durations(func(r run) time.Duration { return r.invokeToAnswer })
	return med
}

// once is one cold start.
func once(rieBin, bootstrap string, env map[string]string, event []byte) (run, error) {
	out := &lockedBuffer{}
	f, err := rie.Start(rie.Options{RIE: rieBin, Bootstrap: bootstrap, Env: env, Log: out})
	if err != nil {
		return run{}, err
	}
	defer f.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sent := time.Now()
	reply, err := f.Invoke(ctx, event)
	answered := time.Now()
	if err != nil {
		return run{}, fmt.Errorf("invoke: %v\n%s", err, out.String())
	}
	if reply.Status != 200 || reply.Err != nil || !json.Valid(reply.Body) {
		return run{}, fmt.Errorf("invoke: %d %s\n%s", reply.Status, reply.Body, out.String())
	}
	pid := f.BootstrapPid()
	if pid == 0 {
		return run{}, fmt.Errorf("no bootstrap process under the emulator")
	}
	hwm, err := rie.PeakRSSKiB(pid)
	if err != nil {
		return run{}, err
	}
	r := run{startToAnswer: answered.Sub(f.Started), invokeToAnswer: answered.Sub(sent), ready: f.Ready.Sub(f.Started), peakRSSKiB: hwm}
	return r, nil
}

// nodeRun is one start of the Node anchor: its own count from the process's
// start to both clients made, the whole process's wall time, and its peak
// RSS.
type nodeRun struct {
	init, wall time.Duration
	peakRSSKiB int
}

// nodeOnce runs the anchor's init once. It is not under the emulator (that
// needs the Node runtime interface client, a native build): the figure is
// the handler module's init alone, which Lambda's Node runtime adds its own
// start to.
func nodeOnce(initMJS string) (nodeRun, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("node", "--no-warnings", initMJS)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return nodeRun{}, fmt.Errorf("%v\n%s", err, stderr.String())
	}
	wall := time.Since(start)
	var out struct {
		InitMs float64 `json:"initMs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.InitMs <= 0 {
		return nodeRun{}, fmt.Errorf("unexpected output %q: %v", stdout.String(), err)
	}
	r := nodeRun{init: time.Duration(out.InitMs * float64(time.Millisecond)), wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.peakRSSKiB = int(ru.Maxrss)
	}
	return r, nil
}

// reportNode prints the anchor's runs and returns its median init.
func reportNode(initMJS string, runs []nodeRun) time.Duration {
	fmt.Printf("\nNode 20 + AWS SDK v3 Cognito and SES v2 clients (%s, not under the emulator)\n%4s  %14s  %14s  %10s\n", initMJS, "run", "start->clients", "process wall", "peak RSS")
	var inits, walls []time.Duration
	var rss []int
	for i, r := range runs {
		fmt.Printf("%4d  %14s  %14s  %6.1f MiB\n", i+1, ms(r.init), ms(r.wall), mib(r.peakRSSKiB))
		inits, walls, rss = append(inits, r.init), append(walls, r.wall), append(rss, r.peakRSSKiB)
	}
	sort.Slice(inits, func(i, j int) bool { return inits[i] < inits[j] })
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	sort.Ints(rss)
	fmt.Printf("%-38s %10s  %10s\n", fmt.Sprintf("over %d starts", len(runs)), "median", "max")
	fmt.Printf("%-38s %10s  %10s\n", "process start -> clients made", ms(median(inits)), ms(inits[len(inits)-1]))
	fmt.Printf("%-38s %10s  %10s\n", "process wall time", ms(median(walls)), ms(walls[len(walls)-1]))
	fmt.Printf("%-38s %6.1f MiB  %6.1f MiB\n", "peak RSS", mib(rss[len(rss)/2]), mib(rss[len(rss)-1]))
	return median(inits)
}

func median(v []time.Duration) time.Duration {
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(kib int) float64 { return float64(kib) / 1024 }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "coldstart: "+format+"\n", args...)
	os.Exit(1)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
