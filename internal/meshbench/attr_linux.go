package meshbench

import "syscall"

// childAttr kills the server when the benchmark process dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
