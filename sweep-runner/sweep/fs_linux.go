//go:build linux

package sweep

import (
	"os"
	"syscall"
)

// DiskSpace reports the bytes available to this process (not counting the
// blocks reserved for root) and the size of the filesystem holding dir.
func DiskSpace(dir string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return uint64(st.Bavail) * bs, uint64(st.Blocks) * bs, nil
}
