package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// fakeRun makes a run directory holding the files that mark one.
func fakeRun(t *testing.T, out, name string) string {
	t.Helper()
	d := filepath.Join(out, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{results.PlanFile, results.RunFile, results.StepsFile} {
		if err := os.WriteFile(filepath.Join(d, f), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// entries lists the names under dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func names(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return out
}

// PruneRuns removes nothing unless the run is complete: a failed or
// interrupted run may be resumed, and an unfinished one keeps what it has.
func TestPruneRunsOnlyAfterComplete(t *testing.T) {
	for _, status := range []string{results.StatusFailed, results.StatusInterrupted, results.StatusRunning, results.StatusComplete} {
		t.Run(status, func(t *testing.T) {
			out := t.TempDir()
			for _, n := range []string{"20240101T020000Z", "20240102T020000Z", "20240103T020000Z"} {
				fakeRun(t, out, n)
			}
			// The run of this runner is the oldest, as when resumed.
			r := &Runner{Plan: &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{SweepSettings: v1alpha1.SweepSettings{KeepRuns: v1alpha1.Ptr(2)}}}, RunDir: filepath.Join(out, "20240101T020000Z"), State: results.Run{Status: status}}
			removed, err := r.PruneRuns()
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if status == results.StatusComplete {
				want = 1
			}
			if len(removed) != want || len(entries(t, out)) != 3-want {
				t.Errorf("removed %v, want %d", names(removed), want)
			}
			if want == 1 && names(removed)[0] != "20240102T020000Z" {
				t.Errorf("removed %v, want the older of the others", names(removed))
			}
		})
	}
	// A plan without keepRuns (written before it existed) keeps the default.
	if n := KeepRuns(&v1alpha1.SweepPlan{}); n != v1alpha1.DefaultKeepRuns {
		t.Errorf("KeepRuns of an old plan: %d", n)
	}
}

// lowSpace reports ok bytes free for the first n calls, then 10 MiB.
func lowSpace(n int) (func(string) (uint64, uint64, error), *[]string) {
	var dirs []string
	return func(dir string) (uint64, uint64, error) {
		dirs = append(dirs, dir)
		if len(dirs) <= n {
			return 4 << 30, 5 << 30, nil
		}
		return 10 << 20, 5 << 30, nil
	}, &dirs
}

func TestDiskFullBeforeRunDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results")
	r := New(testPlan(t, []v1alpha1.Target{{Name: "a", URL: "http://127.0.0.1:1"}}, 1, 2))
	var dirs *[]string
	r.FreeSpace, dirs = lowSpace(0)
	err := r.Create(out, "test")
	var df *DiskFullError
	if !errors.As(err, &df) {
		t.Fatalf("Create on a nearly full disk: %v", err)
	}
	if len(*dirs) != 1 || (*dirs)[0] != out {
		t.Errorf("checked %v, want the results directory", *dirs)
	}
	if r.RunDir != "" || len(entries(t, out)) != 0 {
		t.Errorf("a run directory was made: %q %v", r.RunDir, entries(t, out))
	}
	msg := err.Error()
	for _, want := range []string{out, "10.0 MiB free of 5.0 GiB", "64.0 MiB", "spec.sweep.results.size", "spec.sweep.keepRuns", "--keep-runs"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "--resume") {
		t.Errorf("no run to resume, yet: %s", msg)
	}
}

func TestDiskFullBeforeStep(t *testing.T) {
	out := t.TempDir()
	// No server: the check comes before the step's prompt is calibrated.
	r := New(testPlan(t, []v1alpha1.Target{{Name: "a", URL: "http://127.0.0.1:1"}}, 1, 2))
	r.FreeSpace, _ = lowSpace(1)
	if err := r.Create(out, "test"); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err := r.Run(context.Background())
	var df *DiskFullError
	if !errors.As(err, &df) {
		t.Fatalf("Run on a nearly full disk: %v", err)
	}
	if df.Dir != out || df.RunDir != r.RunDir || df.Free != 10<<20 || df.Min != MinFreeBytes {
		t.Errorf("error %+v", df)
	}
	for _, want := range []string{"a/S c=1", out, "--resume " + r.RunDir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(r.RunDir, results.StepsFile)); !os.IsNotExist(err) {
		t.Errorf("a step was recorded: %v", err)
	}
}

// A filesystem whose free space cannot be read is not checked: a warning,
// and the run goes on.
func TestDiskSpaceUnknown(t *testing.T) {
	out := t.TempDir()
	r := New(testPlan(t, []v1alpha1.Target{{Name: "a", URL: "http://127.0.0.1:1"}}, 1, 2))
	var warn strings.Builder
	r.Warn = &warn
	r.FreeSpace = func(string) (uint64, uint64, error) { return 0, 0, errors.New("statfs: broken") }
	if err := r.Create(out, "test"); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !strings.Contains(warn.String(), "free space of the results directory not checked: statfs: broken") {
		t.Errorf("warning: %q", warn.String())
	}
}

func TestDiskSpace(t *testing.T) {
	free, total, err := DiskSpace(t.TempDir())
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil || total == 0 || free > total {
		t.Errorf("DiskSpace: %d free of %d (%v)", free, total, err)
	}
	if _, _, err := DiskSpace(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("no error for a missing directory")
	}
}
