package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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

// foreign puts entries in out that are not run directories: none may be
// listed or removed.
func foreign(t *testing.T, out string) []string {
	t.Helper()
	os.MkdirAll(filepath.Join(out, "lost+found"), 0o700)
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(out, "20000101T000000Z"), []byte("a file named like a run"), 0o644)
	os.MkdirAll(filepath.Join(out, "20000102T000000Z"), 0o755) // named like a run, holds nothing of one
	os.WriteFile(filepath.Join(out, "20000102T000000Z", "data"), []byte("x"), 0o644)
	fakeRun(t, out, "backup-20000103T000000Z") // a run's files, not a run's name
	fakeRun(t, out, "20001301T000000Z")        // month 13: not a run id
	fakeRun(t, out, "20000104T000000Z-0")      // suffixes start at 2
	elsewhere := fakeRun(t, t.TempDir(), "20000105T000000Z")
	if err := os.Symlink(elsewhere, filepath.Join(out, "20000105T000000Z")); err != nil {
		t.Fatal(err)
	}
	return []string{"lost+found", "notes.txt", "20000101T000000Z", "20000102T000000Z", "backup-20000103T000000Z", "20001301T000000Z", "20000104T000000Z-0", "20000105T000000Z"}
}

func TestRunDirsOrder(t *testing.T) {
	out := t.TempDir()
	for _, n := range []string{"20240102T000000Z-10", "20240103T000000Z", "20240102T000000Z", "20240101T235959Z", "20240102T000000Z-2"} {
		fakeRun(t, out, n)
	}
	foreign(t, out)
	runs, err := RunDirs(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, filepath.Base(r.Path))
	}
	want := []string{"20240101T235959Z", "20240102T000000Z", "20240102T000000Z-2", "20240102T000000Z-10", "20240103T000000Z"}
	if !slices.Equal(got, want) {
		t.Errorf("run directories %v, want %v (oldest first, -10 after -2, foreign entries left out)", got, want)
	}
}

func TestPrune(t *testing.T) {
	runs := []string{"20240101T020000Z", "20240102T020000Z", "20240103T020000Z", "20240103T020000Z-2", "20240104T020000Z"}
	for _, tc := range []struct {
		name        string
		keep        int
		protect     []string // run names
		wantRemoved []string // oldest first
	}{
		{"keeps the newest", 3, []string{"20240104T020000Z"}, []string{"20240101T020000Z", "20240102T020000Z"}},
		{"fewer runs than keep", 30, []string{"20240104T020000Z"}, nil},
		{"exactly keep", 5, nil, nil},
		{"keep 1", 1, []string{"20240104T020000Z"}, []string{"20240101T020000Z", "20240102T020000Z", "20240103T020000Z", "20240103T020000Z-2"}},
		{"the resumed run is kept, however old", 2, []string{"20240101T020000Z"}, []string{"20240102T020000Z", "20240103T020000Z", "20240103T020000Z-2"}},
		{"keep 1 resuming the oldest", 1, []string{"20240101T020000Z"}, []string{"20240102T020000Z", "20240103T020000Z", "20240103T020000Z-2", "20240104T020000Z"}},
		{"several protected", 1, []string{"20240101T020000Z", "20240103T020000Z"}, []string{"20240102T020000Z", "20240103T020000Z-2", "20240104T020000Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			for _, n := range runs {
				fakeRun(t, out, n)
			}
			fgn := foreign(t, out)
			var protect []string
			for _, n := range tc.protect {
				protect = append(protect, filepath.Join(out, n))
			}
			removed, err := Prune(out, tc.keep, protect...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(removed), tc.wantRemoved) {
				t.Errorf("removed %v, want %v", names(removed), tc.wantRemoved)
			}
			left := entries(t, out)
			for _, n := range runs {
				if slices.Contains(left, n) == slices.Contains(tc.wantRemoved, n) {
					t.Errorf("%s: present %v after pruning, removed %v", n, slices.Contains(left, n), removed)
				}
			}
			for _, n := range append(fgn, tc.protect...) {
				if !slices.Contains(left, n) {
					t.Errorf("%s was removed", n)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "20000105T000000Z", results.PlanFile)); err != nil {
				t.Errorf("the run a link points to was touched: %v", err)
			}
		})
	}
	// A relative path to the protected run protects it as well.
	out := t.TempDir()
	for _, n := range runs {
		fakeRun(t, out, n)
	}
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, filepath.Join(out, runs[0]))
	if err != nil {
		t.Skip(err)
	}
	if removed, err := Prune(out, 1, rel); err != nil || len(removed) != 4 || slices.Contains(names(removed), runs[0]) {
		t.Errorf("protected by a relative path: removed %v (%v)", names(removed), err)
	}
	if _, err := Prune(out, 0); err == nil {
		t.Error("keep 0 accepted")
	}
	if _, err := Prune(filepath.Join(out, "nope"), 1); err == nil {
		t.Error("a missing results directory gave no error")
	}
}

// A run directory another sweep-runner holds (a run going on beside this
// one) is never removed.
func TestPruneSkipsRunInUse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("run directories are locked on Linux only")
	}
	out := t.TempDir()
	old := fakeRun(t, out, "20240101T020000Z")
	fakeRun(t, out, "20240102T020000Z")
	cur := fakeRun(t, out, "20240103T020000Z")
	other := &Runner{}
	other.lock(old)
	removed, err := Prune(out, 1, cur)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names(removed), []string{"20240102T020000Z"}) {
		t.Errorf("removed %v, want only the run not in use", names(removed))
	}
	other.Close()
	if removed, _ := Prune(out, 1, cur); !slices.Equal(names(removed), []string{"20240101T020000Z"}) {
		t.Errorf("after its runner closed: removed %v", names(removed))
	}
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
