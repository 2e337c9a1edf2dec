package sweep

import (
	"errors"
	"fmt"
)

// MinFreeBytes is the free space the results filesystem must keep: a new
// run directory is not made, and no further step starts, with less. A step
// appends a line of a few kilobytes to steps.jsonl, then rewrites the
// reports (summary.json, summary.csv, report.md, report.html) each beside a
// temporary copy, and the last step adds the PNG charts: a whole run
// directory takes a few megabytes at most, so 64 MiB covers the step under
// way and the final reports many times over, while giving up only 1.25 % of
// the default 5 Gi results volume.
const MinFreeBytes = 64 << 20

// DiskFullError stops a run whose results filesystem is nearly full, before
// a write would fail half-way.
type DiskFullError struct {
	// Dir is the results directory checked; RunDir the run directory when
	// one exists (it can be resumed once there is room).
	Dir, RunDir string
	// Free and Total bytes of the filesystem; Min the bytes it must keep.
	Free, Total, Min uint64
}

func (e *DiskFullError) Error() string {
	msg := fmt.Sprintf("results directory %s is nearly full: %s free of %s, less than the %s sweep-runner keeps free; the run stops here (results already written are kept). "+
		"Make room: raise spec.sweep.results.size (the results volume), or lower spec.sweep.keepRuns (--keep-runs; older runs are removed after the next run completes) and delete old run directories from %s",
		e.Dir, formatBytes(e.Free), formatBytes(e.Total), formatBytes(e.Min), e.Dir)
	if e.RunDir != "" {
		msg += "; then continue this run with --resume " + e.RunDir
	}
	return msg
}

func formatBytes(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// checkDisk returns a *DiskFullError when the filesystem holding dir has
// less than MinFreeBytes available. A filesystem whose free space cannot be
// read is not checked (warned once).
func (r *Runner) checkDisk(dir string) error {
	space := r.FreeSpace
	if space == nil {
		space = DiskSpace
	}
	free, total, err := space(dir)
	if err != nil {
		if !errors.Is(err, errors.ErrUnsupported) {
			r.warnOnce("disk-space", "free space of the results directory not checked: %v", err)
		}
		return nil
	}
	if free < MinFreeBytes {
		return &DiskFullError{Dir: dir, RunDir: r.RunDir, Free: free, Total: total, Min: MinFreeBytes}
	}
	return nil
}
