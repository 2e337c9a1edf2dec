package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"
)

var runIDPattern = regexp.MustCompile(`^(\d{8}T\d{6}Z)(?:-([1-9]\d{0,8}))?$`)

// RunDir is a run directory found under a results directory.
type RunDir struct {
	Path string
	// Time of the run's start (from its id) and Seq its suffix (1: none):
	// the order of runs.
	Time time.Time
	Seq  int
}

// RunDirs lists the run directories under out, oldest first. Only
// recognisable run directories are listed: a real directory (not a link)
// named by a run id (20061129T093023Z or 20061129T093023Z-2) holding the
// plan as run or run.json; anything else (lost+found, files, other tools'
// directories) is never listed, so never removed.
func RunDirs(out string) ([]RunDir, error) {
	ents, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	var runs []RunDir
	for _, e := range ents {
		m := runIDPattern.FindStringSubmatch(e.Name())
		if m == nil || e.Type() != os.ModeDir {
			continue
		}
		t, err := time.Parse(RunIDLayout, m[1])
		if err != nil {
			continue
		}
		seq := 1
		if m[2] != "" {
			seq, _ = strconv.Atoi(m[2])
		}
		d := filepath.Join(out, e.Name())
		if !isRegular(filepath.Join(d, PlanFile)) && !isRegular(filepath.Join(d, RunFile)) {
			continue
		}
		runs = append(runs, RunDir{Path: d, Time: t, Seq: seq})
	}
	slices.SortFunc(runs, func(a, b RunDir) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return a.Seq - b.Seq
	})
	return runs, nil
}

func isRegular(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular()
}

// Prune removes the oldest run directories under out so that at most keep
// remain, the directories in protect included: those are never removed (the
// run just completed, the run resumed), nor is a run directory another
// sweep-runner holds (a run going on beside this one). It returns the
// directories removed; a directory that cannot be removed is reported in
// err and the others are still pruned.
func Prune(out string, keep int, protect ...string) (removed []string, err error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep %d run directories: must be at least 1", keep)
	}
	runs, err := RunDirs(out)
	if err != nil {
		return nil, err
	}
	var prot []os.FileInfo
	for _, p := range protect {
		if fi, err := os.Stat(p); err == nil {
			prot = append(prot, fi)
		}
	}
	isProtected := func(d string) bool {
		fi, err := os.Stat(d)
		if err != nil {
			return true // cannot tell: leave it
		}
		for _, p := range prot {
			if os.SameFile(fi, p) {
				return true
			}
		}
		return false
	}
	// Newest first: the protected runs take their places, the newest
	// others the places left.
	var others []RunDir
	left := keep
	for i := len(runs) - 1; i >= 0; i-- {
		if isProtected(runs[i].Path) {
			left--
		} else {
			others = append(others, runs[i])
		}
	}
	var errs []error
	for i := len(others) - 1; i >= max(left, 0); i-- { // oldest first
		ok, rmErr := removeUnlessLocked(others[i].Path)
		switch {
		case rmErr != nil:
			errs = append(errs, rmErr)
		case ok:
			removed = append(removed, others[i].Path)
		}
	}
	return removed, errors.Join(errs...)
}

// removeUnlessLocked removes a run directory unless another process holds
// its lock; the lock is held while it is removed, so a --resume starting
// meanwhile finds it gone rather than half removed.
func removeUnlessLocked(dir string) (bool, error) {
	unlock, held, err := lockDir(dir)
	if err != nil {
		return false, fmt.Errorf("remove old run %s: %w", dir, err)
	}
	if held {
		return false, nil
	}
	defer unlock()
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("remove old run %s: %w", dir, err)
	}
	return true, nil
}
