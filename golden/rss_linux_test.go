//go:build linux

package golden

import (
	"os"
	"syscall"
)

// peakRSS is the child's peak resident set in bytes (Linux reports KiB).
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}
