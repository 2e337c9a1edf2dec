package results

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

const testPlanYAML = "apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: SweepPlan\nspec:\n  targets:\n  - {name: m, url: 'http://127.0.0.1:8000'}\n"

func loadTestPlan(t *testing.T) *v1alpha1.SweepPlan {
	t.Helper()
	p, err := v1alpha1.LoadPlan([]byte(testPlanYAML))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Create names the run by its UTC start, suffixed -2, -3 on a collision,
// makes out first, and writes a plan.yaml that Load reads back.
func TestCreateNamesAndLoads(t *testing.T) {
	out := filepath.Join(t.TempDir(), "a", "results")
	plan := loadTestPlan(t)
	now := time.Date(2024, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	var ids []string
	for range 3 {
		d, err := Create(out, plan, now)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ids = append(ids, d.ID())
		if d.Path() != filepath.Join(out, d.ID()) {
			t.Errorf("path %s, id %s", d.Path(), d.ID())
		}
	}
	if want := []string{"20240301T090000Z", "20240301T090000Z-2", "20240301T090000Z-3"}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	d := At(filepath.Join(out, ids[0]))
	if err := d.SaveRun(&Run{Status: StatusComplete}); err != nil {
		t.Fatal(err)
	}
	s := Step{Target: "m", Concurrency: 2}
	if err := d.AppendStep(&s); err != nil {
		t.Fatal(err)
	}
	got, run, steps, err := d.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Targets[0].Name != "m" || run.RunID != ids[0] || run.Status != StatusComplete || len(steps) != 1 || steps[0].Concurrency != 2 {
		t.Errorf("loaded %+v %+v %+v", got.Spec.Targets, run, steps)
	}
	if !IsRunDir(d.Path()) || IsRunDir(out) {
		t.Error("IsRunDir")
	}
	if l, err := Latest(out); err != nil || l != filepath.Join(out, ids[2]) {
		t.Errorf("Latest %s %v", l, err)
	}
	if l, err := List(out); err != nil || len(l) != 3 || l[0] != d.Path() {
		t.Errorf("List %v %v", l, err)
	}
}

func TestLoadNotARunDir(t *testing.T) {
	dir := t.TempDir()
	_, _, _, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), dir+" is not a run directory") {
		t.Errorf("Load of an empty directory: %v", err)
	}
	if _, err := Latest(dir); err == nil || err.Error() != "no run directory under "+dir {
		t.Errorf("Latest of an empty directory: %v", err)
	}
}

// OpenDir removes what an atomic write killed half-way left, and holds
// the lock until Close (pruning leaves the directory alone meanwhile).
func TestOpenDirCleansAndLocks(t *testing.T) {
	out := t.TempDir()
	d, err := Create(out, loadTestPlan(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	tmp := filepath.Join(d.Path(), ".run.json.tmp123")
	if err := os.WriteFile(tmp, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := OpenDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("leftover kept: %v", err)
	}
	if runtime.GOOS == "linux" {
		if _, held, err := lockDir(d.Path()); err != nil || !held {
			t.Errorf("an opened run directory is not locked (held %v, %v)", held, err)
		}
	}
	o.Close()
	if _, err := OpenDir(filepath.Join(out, "nope")); err == nil {
		t.Error("OpenDir of a missing directory")
	}
}

// The generic files: written atomically with their folders, appended,
// read, removed; a path out of the run directory is refused.
func TestDirFiles(t *testing.T) {
	d := At(t.TempDir())
	if err := d.WriteFile("charts/a.png", []byte("png")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(d.Path(), "charts", "a.png")); err != nil || string(b) != "png" {
		t.Errorf("charts/a.png: %q %v", b, err)
	}
	for range 2 {
		if err := d.Append("p.jsonl", []byte("x\n")); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := d.Read("p.jsonl"); err != nil || string(b) != "x\nx\n" {
		t.Errorf("appended %q %v", b, err)
	}
	if err := d.WriteJSON("s.json", map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := d.Read("s.json"); string(b) != "{\n  \"a\": 1\n}\n" {
		t.Errorf("s.json %q", b)
	}
	out := filepath.Dir(d.Path())
	if dirs, err := DirsHolding(out, "p.jsonl"); err != nil || !slices.Equal(dirs, []string{d.Path()}) {
		t.Errorf("DirsHolding %v %v", dirs, err)
	}
	if err := d.Remove("p.jsonl"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read("p.jsonl"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read after remove: %v", err)
	}
	if err := d.Remove("p.jsonl"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("remove twice: %v", err)
	}
	for _, bad := range []string{"../x", "/etc/x", "a/../../x", ""} {
		if err := d.WriteFile(bad, nil); err == nil {
			t.Errorf("%q written", bad)
		}
	}
}

// Two sweep-runners never write one run: a run directory held by one is
// refused to another (a retried pod while the lost one still runs).
func TestOpenDirRefusesHeld(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("run directories are locked on Linux only")
	}
	d, err := Create(t.TempDir(), loadTestPlan(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if o, err := OpenDir(d.Path()); !errors.Is(err, ErrInUse) {
		t.Errorf("OpenDir of a held run directory: %v", err)
		if o != nil {
			o.Close()
		}
	}
	d.Close()
	o, err := OpenDir(d.Path())
	if err != nil {
		t.Fatalf("after the holder closed it: %v", err)
	}
	o.Close()
}

// Unfinished: the latest run, unless it completed or its plan differs;
// latest by run id ("-10" after "-2").
func TestUnfinished(t *testing.T) {
	out := t.TempDir()
	plan := loadTestPlan(t)
	now := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	var dirs []*Dir
	for range 10 {
		d, err := Create(out, plan, now)
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		dirs = append(dirs, d)
	}
	if l, _ := Latest(out); filepath.Base(l) != "20261206T020000Z-10" {
		t.Errorf("Latest %s, want the tenth run of the second", l)
	}
	last := dirs[len(dirs)-1]
	last.SaveRun(&Run{RunID: last.ID(), Status: StatusRunning})
	same := func(*v1alpha1.SweepPlan) bool { return true }
	if d := Unfinished(out, same); d != last.Path() {
		t.Errorf("running run: %q", d)
	}
	if d := Unfinished(out, func(*v1alpha1.SweepPlan) bool { return false }); d != "" {
		t.Errorf("another plan's run resumed: %s", d)
	}
	last.SaveRun(&Run{RunID: last.ID(), Status: StatusComplete})
	if d := Unfinished(out, same); d != "" {
		t.Errorf("a completed run resumed: %s", d)
	}
	if d := Unfinished(filepath.Join(out, "none"), same); d != "" {
		t.Errorf("no results directory: %q", d)
	}
}
