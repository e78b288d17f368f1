package chtest

import "syscall"

// sysProcAttr makes the kernel kill the server if the test binary dies
// without stopping it (a panic, a -timeout, a SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
