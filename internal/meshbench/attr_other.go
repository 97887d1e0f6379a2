//go:build !linux

package meshbench

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }
