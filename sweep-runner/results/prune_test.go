package results

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// fakeRun makes a run directory holding the files that mark one.
func fakeRun(t *testing.T, out, name string) string {
	t.Helper()
	d := filepath.Join(out, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{PlanFile, RunFile, StepsFile} {
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
			if _, err := os.Stat(filepath.Join(out, "20000105T000000Z", PlanFile)); err != nil {
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
	other, err := OpenDir(old)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := Prune(out, 1, cur)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names(removed), []string{"20240102T020000Z"}) {
		t.Errorf("removed %v, want only the run not in use", names(removed))
	}
	other.Close()
	if removed, _ := Prune(out, 1, cur); !slices.Equal(names(removed), []string{"20240101T020000Z"}) {
		t.Errorf("after it was closed: removed %v", names(removed))
	}
}
