package testenv

import "syscall"

// sysProcAttr kills a server when the test binary dies without running its
// cleanups (a -timeout panic, a kill), so no etcd or kube-apiserver is left
// behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
