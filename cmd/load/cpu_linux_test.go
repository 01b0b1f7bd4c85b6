package main

import (
	"os"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   string
		want time.Duration
		ok   bool
	}{
		// utime 1234 and stime 56 ticks: 12.9 s.
		"plain": {"4242 (magiclinks) S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 56 0 0 20 0 9 0 100 0 0", 12900 * time.Millisecond, true},
		// A command name may hold spaces and parentheses.
		"odd name": {"7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 300 200 0 0 20 0 1 0 1 0 0", 5 * time.Second, true},
		"no name":  {"7 a R 1", 0, false},
		"short":    {"7 (a) R 1 7 7", 0, false},
		"garbage":  {"7 (a) R 1 7 7 0 -1 0 0 0 0 0 x 200 0", 0, false},
	} {
		got, err := parseProcStat(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: parseProcStat = %v, %v; want %v, ok %v", name, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseMachineStat(t *testing.T) {
	t.Parallel()
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, total, err := parseMachineStat("cpu  100 5 20 800 10 1 2 3 50 0\ncpu0 50 2 10 400 5 0 1 1 25 0\n")
	if err != nil {
		t.Fatal(err)
	}
	// Guest time is already counted in user: busy is 100+5+20+1+2+3.
	if busy != 1310*time.Millisecond || total != 9410*time.Millisecond {
		t.Errorf("busy %v, total %v; want 1.31s, 9.41s", busy, total)
	}
	if _, _, err := parseMachineStat("intr 1 2 3\n"); err == nil {
		t.Error("a /proc/stat without a cpu line was accepted")
	}
}

// The tool's own CPU time, as it reads it, grows when it works.
func TestProcessCPUCountsOurWork(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := uint64(1)
	for i := 0; ; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		if i%1_000_000 == 0 {
			if now, _ := processCPU(os.Getpid()); now > before {
				break
			}
		}
		if i > 5_000_000_000 {
			t.Fatalf("CPU time stayed at %v after a long loop (x=%d)", before, x)
		}
	}
	busy1, total1, err := machineCPU()
	if err != nil {
		t.Fatal(err)
	}
	if busy1 <= 0 || total1 < busy1 {
		t.Errorf("machine CPU: busy %v of %v", busy1, total1)
	}
}
