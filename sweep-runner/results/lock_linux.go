//go:build linux

package results

import (
	"errors"
	"os"
	"syscall"
)

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
