//go:build !linux

package chtest

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: a test binary that
// dies without running Main's cleanup leaves the server running.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
