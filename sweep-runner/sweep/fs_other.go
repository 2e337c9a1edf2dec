//go:build !linux

package sweep

import "errors"

// DiskSpace is not implemented here: the free-space check is skipped.
func DiskSpace(dir string) (free, total uint64, err error) {
	return 0, 0, errors.ErrUnsupported
}
