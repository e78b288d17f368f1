package chtest

import (
	"errors"
	"syscall"
)

// sysProcAttr makes the kernel kill the server if the test binary dies
// without stopping it (a panic, a -timeout, a SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// signal sends sig to the throwaway server.
func signal(sig syscall.Signal) error {
	srv, err := ownServer()
	if err != nil {
		return err
	}
	pid := srv.pid()
	if pid == 0 {
		return errors.New("chtest: the server is not running")
	}
	return syscall.Kill(pid, sig)
}
