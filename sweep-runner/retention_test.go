package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// oldRuns puts three old run directories and two foreign entries in out.
func oldRuns(t *testing.T, out string) {
	t.Helper()
	for _, n := range []string{"20200101T020000Z", "20200102T020000Z", "20200103T020000Z"} {
		d := filepath.Join(out, n)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, results.PlanFile), []byte("kind: SweepPlan\n"), 0o644)
		os.WriteFile(filepath.Join(d, results.RunFile), []byte(`{"status":"complete"}`), 0o644)
	}
	os.MkdirAll(filepath.Join(out, "lost+found"), 0o700)
	os.WriteFile(filepath.Join(out, "README"), []byte("not a run"), 0o644)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestKeepRuns: a complete run removes the oldest run directories beyond
// --keep-runs, and nothing else in the results directory; a resumed run is
// never removed, however old, and the runs newer than it go first.
func TestKeepRuns(t *testing.T) {
	sim := simServer(t, 64)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	oldRuns(t, out)
	code, _, stderr := runCLI("run", "--plan", relPlan(t, dir, sim, "1", ""), "--keep-runs", "2", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	left := listDir(t, out)
	if len(left) != 4 || !slices.Contains(left, "20200103T020000Z") || !slices.Contains(left, "lost+found") || !slices.Contains(left, "README") {
		t.Fatalf("left %v, want the new run, the newest old one and the foreign entries", left)
	}
	for _, n := range []string{"20200101T020000Z", "20200102T020000Z"} {
		if !strings.Contains(stderr, "removed old run directory "+filepath.Join(out, n)) {
			t.Errorf("removal of %s not logged:\n%s", n, stderr)
		}
	}
	var newRun string
	for _, n := range left {
		if strings.HasPrefix(n, "20") && n != "20200103T020000Z" {
			newRun = filepath.Join(out, n)
		}
	}
	if b, err := os.ReadFile(filepath.Join(newRun, results.PlanFile)); err != nil || !strings.Contains(string(b), "keepRuns: 2") {
		t.Errorf("plan as run lacks keepRuns: 2 (%v):\n%s", err, b)
	}

	// Resume an old run (a copy of the new one, named as if from 2019) with
	// --keep-runs 1: it alone remains.
	old := filepath.Join(out, "20190101T020000Z")
	if err := os.CopyFS(old, os.DirFS(newRun)); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI("run", "--resume", old, "--keep-runs", "1")
	if code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	left = listDir(t, out)
	slices.Sort(left)
	if want := []string{"20190101T020000Z", "README", "lost+found"}; !slices.Equal(left, want) {
		t.Errorf("after resuming the oldest run with --keep-runs 1: %v, want %v", left, want)
	}
	if code, _, stderr := runCLI("run", "--resume", old, "--keep-runs", "0"); code != exitUsage || !strings.Contains(stderr, "--keep-runs") {
		t.Errorf("--keep-runs 0: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI("run", "--plan", relPlan(t, dir, sim, "1", "  keepRuns: -1\n"), "--out", out); code != exitUsage || !strings.Contains(stderr, "spec.keepRuns") {
		t.Errorf("keepRuns -1 in the plan: exit %d: %s", code, stderr)
	}
}

// TestDiskFull: a nearly full results filesystem stops the run with exit 1
// and a message naming the directory, the free space and the fix: before a
// run directory is made, or before the next step, the finished ones kept
// and nothing pruned (the failed run may be resumed).
func TestDiskFull(t *testing.T) {
	sim := simServer(t, 64)
	var calls atomic.Int64
	okCalls := int64(0)
	prev := diskSpace
	t.Cleanup(func() { diskSpace = prev })
	diskSpace = func(string) (uint64, uint64, error) {
		if calls.Add(1) <= okCalls {
			return 4 << 30, 5 << 30, nil
		}
		return 20 << 20, 5 << 30, nil
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	oldRuns(t, out)
	before := listDir(t, out)
	plan := relPlan(t, dir, sim, "1, 2", "")

	code, _, stderr := runCLI("run", "--plan", plan, "--keep-runs", "1", "--out", out)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d: %s", code, exitFailure, stderr)
	}
	for _, want := range []string{out + " is nearly full", "20.0 MiB free of 5.0 GiB", "spec.sweep.results.size", "spec.sweep.keepRuns"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if after := listDir(t, out); !slices.Equal(after, before) {
		t.Errorf("results directory changed: %v, was %v", after, before)
	}

	// Room for the run directory and the first step, not the second.
	calls.Store(0)
	okCalls = 2
	code, _, stderr = runCLI("run", "--plan", plan, "--keep-runs", "1", "--out", out)
	if code != exitFailure || !strings.Contains(stderr, "before step sim/S c=2") || !strings.Contains(stderr, "--resume") {
		t.Fatalf("exit %d, want %d, stopping before the second step: %s", code, exitFailure, stderr)
	}
	after := listDir(t, out)
	if len(after) != len(before)+1 {
		t.Fatalf("results directory %v, was %v: want the new run added, nothing removed", after, before)
	}
	var runDir string
	for _, n := range after {
		if !slices.Contains(before, n) {
			runDir = filepath.Join(out, n)
		}
	}
	steps, _, err := results.ReadSteps(filepath.Join(runDir, results.StepsFile))
	if err != nil || len(steps) != 1 {
		t.Errorf("%d steps kept (%v), want 1", len(steps), err)
	}
	var st results.Run
	if err := results.ReadJSON(filepath.Join(runDir, results.RunFile), &st); err != nil || st.Status != results.StatusFailed || !strings.Contains(st.Message, "nearly full") {
		t.Errorf("run.json %+v (%v)", st, err)
	}
	if strings.Contains(stderr, "removed old run directory") {
		t.Errorf("a failed run pruned:\n%s", stderr)
	}
}
