package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// cpuSample is where the machine's CPU time had gone at one moment: the
// server's, this tool's and all cores'. Two samples around a run say what a
// cycle costs and whether the cycles/s figure is bounded by CPU (the cores
// were busy) or by waiting, and whether other processes took a share.
type cpuSample struct {
	server, self, busy, total time.Duration
	hasServer                 bool
	err                       error
}

// sampleCPU reads the CPU times; serverPID 0 means the server is not ours
// to watch (-url).
func sampleCPU(serverPID int) cpuSample {
	var s cpuSample
	if serverPID != 0 {
		s.server, s.err = processCPU(serverPID)
		s.hasServer = s.err == nil
	}
	if s.err == nil {
		s.self, s.err = processCPU(os.Getpid())
	}
	if s.err == nil {
		s.busy, s.total, s.err = machineCPU()
	}
	return s
}

// printCPU prints the CPU time per cycle between two samples.
func printCPU(w io.Writer, before, after cpuSample, cycles int) {
	if before.err != nil || after.err != nil || cycles == 0 {
		err := before.err
		if err == nil {
			err = after.err
		}
		if err != nil {
			fmt.Fprintf(w, "cpu:       not measured (%v)\n", err)
		}
		return
	}
	per := func(d time.Duration) string { return ms(d / time.Duration(cycles)) }
	busy, self := after.busy-before.busy, after.self-before.self
	var parts string
	if before.hasServer && after.hasServer {
		server := after.server - before.server
		parts = fmt.Sprintf("server %s, load tool %s, other processes %s", per(server), per(self), per(max(0, busy-server-self)))
	} else {
		parts = fmt.Sprintf("load tool %s, the server and other processes %s", per(self), per(max(0, busy-self)))
	}
	pct := 0.0
	if total := after.total - before.total; total > 0 {
		pct = 100 * float64(busy) / float64(total)
	}
	fmt.Fprintf(w, "cpu/cycle: %s; the %d cores %.0f%% busy\n", parts, runtime.NumCPU(), pct)
}
