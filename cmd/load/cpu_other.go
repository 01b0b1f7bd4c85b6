//go:build !linux

package main

import (
	"errors"
	"time"
)

var errNoCPU = errors.New("CPU times are read from /proc, which only Linux has")

func processCPU(int) (time.Duration, error)              { return 0, errNoCPU }
func machineCPU() (busy, total time.Duration, err error) { return 0, 0, errNoCPU }
