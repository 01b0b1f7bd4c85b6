package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the times in /proc (USER_HZ), 100 on every Linux
// architecture Go runs on; reading sysconf(_SC_CLK_TCK) would need cgo.
const userHZ = 100

func ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// processCPU is the CPU time (user + system, all threads) process pid has
// used so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b))
}

// parseProcStat reads utime and stime, fields 14 and 15 of proc(5)'s
// /proc/<pid>/stat. Field 2, the command name, is in parentheses and may
// itself hold spaces and parentheses, so fields are counted after the last
// ')'.
func parseProcStat(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("/proc/<pid>/stat: no command name")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("/proc/<pid>/stat: too few fields")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/<pid>/stat: %w", err)
	}
	return ticks(utime + stime), nil
}

// machineCPU is the CPU time all cores have spent busy, and in all, since
// boot.
func machineCPU() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseMachineStat(string(b))
}

// parseMachineStat reads the "cpu" line of /proc/stat: user, nice, system,
// idle, iowait, irq, softirq, steal (guest time is already in user). Idle
// and iowait are not busy; steal is time another guest had our core.
func parseMachineStat(s string) (busy, total time.Duration, err error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, errors.New("/proc/stat: no cpu line")
	}
	var v [8]uint64
	for i := range v {
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	var all uint64
	for _, n := range v {
		all += n
	}
	idle := v[3] + v[4]
	return ticks(all - idle), ticks(all), nil
}
