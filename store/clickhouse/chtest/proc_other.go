//go:build !linux

package chtest

import (
	"errors"
	"syscall"
)

// sysProcAttr has no parent-death signal outside Linux: a test binary that
// dies without running Main's cleanup leaves the server running.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}

// signal is not available outside Linux.
func signal(syscall.Signal) error {
	return errors.New("chtest: freezing the server needs Linux")
}
