//go:build !linux

package devserver

import "syscall"

// sysProcAttr: elsewhere the server shares our process group; Stop still
// ends it.
func sysProcAttr() *syscall.SysProcAttr { return nil }
