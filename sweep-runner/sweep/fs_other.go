//go:build !linux

package sweep

import "errors"

// DiskSpace is not implemented here: the free-space check is skipped.
func DiskSpace(dir string) (free, total uint64, err error) {
	return 0, 0, errors.ErrUnsupported
}

// lockDir does not lock here: no run directory is seen as held by another
// sweep-runner.
func lockDir(dir string) (unlock func(), held bool, err error) {
	return func() {}, false, nil
}
