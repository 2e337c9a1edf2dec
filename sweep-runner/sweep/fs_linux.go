//go:build linux

package sweep

import (
	"errors"
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

// lockDir takes an exclusive flock on dir, without waiting: held reports
// that another open file (another sweep-runner) holds it. On a filesystem
// without flock, dir is reported free and unlock does nothing.
func lockDir(dir string) (unlock func(), held bool, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return func() { f.Close() }, false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		f.Close()
		return nil, true, nil
	default: // no flock here (ENOLCK, EOPNOTSUPP...): cannot tell
		f.Close()
		return func() {}, false, nil
	}
}
