//go:build !linux

package testtools

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
