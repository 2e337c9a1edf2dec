package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// RunIDLayout is the time format of a run id, the name of its run
// directory; a second run created in the same second gets "-2", "-3", ...
// appended.
const RunIDLayout = "20060102T150405Z"

// Dir is a run directory: every file of a run (the plan as run, run.json,
// steps.jsonl, the reports, what other packages keep beside them) is read
// and written through it, so that how a run is laid out, locked, written
// atomically and pruned is decided in one place.
type Dir struct {
	path string
	// unlock releases the lock (nil: not locked by this Dir).
	unlock func()
}

// MakeOut makes the results directory out (and its parents): a run's
// caller makes it first so that it can check the free space of its
// filesystem before Create makes the run directory.
func MakeOut(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	return nil
}

// Create makes a new run directory under out named by the run id of now
// (UTC, with a "-2", "-3"... suffix when that name is taken), locks it and
// writes plan as plan.yaml. Nothing is made under out when plan cannot be
// encoded. Close releases the lock.
func Create(out string, plan *v1alpha1.SweepPlan, now time.Time) (*Dir, error) {
	y, err := yaml.Marshal(plan)
	if err != nil {
		return nil, err
	}
	if err := MakeOut(out); err != nil {
		return nil, err
	}
	id := now.UTC().Format(RunIDLayout)
	path := filepath.Join(out, id)
	for i := 2; ; i++ {
		err := os.Mkdir(path, 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			return nil, fmt.Errorf("results directory: %w", err)
		}
		path = filepath.Join(out, fmt.Sprintf("%s-%d", id, i))
	}
	d := &Dir{path: path}
	d.lock()
	if err := d.WriteFile(PlanFile, y); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// ErrInUse: another sweep-runner holds the run directory's lock (a run
// going on, or a pod that is still alive beside its retry).
var ErrInUse = errors.New("another sweep-runner is writing it (its lock is held)")

// OpenDir opens an existing run directory to go on writing it (a resumed
// run): it takes the lock and removes the temporary files an atomic write
// killed half-way left behind. A directory another sweep-runner holds is
// refused (ErrInUse): two pods must never write one run. On a filesystem
// without locks it is opened unlocked.
func OpenDir(path string) (*Dir, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s is not a run directory: %w", path, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a run directory: not a directory", path)
	}
	d := &Dir{path: path}
	unlock, held, err := lockDir(path)
	if held {
		return nil, fmt.Errorf("run directory %s: %w", path, ErrInUse)
	}
	if err == nil {
		d.unlock = unlock
	}
	tmps, _ := filepath.Glob(filepath.Join(path, ".*.tmp*"))
	for _, f := range tmps {
		os.Remove(f)
	}
	return d, nil
}

// At is a run directory that is read, or whose reports are rewritten,
// without taking it over: no lock and no clean-up, so a command run beside
// a sweep (report, export) never removes the sweep's temporary files.
func At(path string) *Dir { return &Dir{path: path} }

// lock marks the run directory as in use by this process until Close, so
// that no other sweep-runner's pruning removes it.
func (d *Dir) lock() {
	if unlock, held, err := lockDir(d.path); err == nil && !held {
		d.unlock = unlock
	}
}

// Close releases the lock, if held; the Dir can still be written after,
// unlocked.
func (d *Dir) Close() {
	if d.unlock != nil {
		d.unlock()
		d.unlock = nil
	}
}

// Path is the run directory's path, as given or as made under out.
func (d *Dir) Path() string { return d.path }

// ID is the run id: the run directory's name.
func (d *Dir) ID() string { return filepath.Base(d.path) }

// file is the path of rel, a slash-separated path inside the run
// directory; a path leading out of it is refused.
func (d *Dir) file(rel string) (string, error) {
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) {
		return "", fmt.Errorf("%q is not a path inside run directory %s", rel, d.path)
	}
	return filepath.Join(d.path, p), nil
}

// Load reads the plan as run, run.json and the steps (see Load).
func (d *Dir) Load() (*v1alpha1.SweepPlan, Run, []Step, error) { return Load(d.path) }

// SaveRun rewrites run.json, atomically.
func (d *Dir) SaveRun(run *Run) error { return d.WriteJSON(RunFile, run) }

// AppendStep appends one step to steps.jsonl, fsynced.
func (d *Dir) AppendStep(s *Step) error { return AppendStep(filepath.Join(d.path, StepsFile), s) }

// RepairSteps drops a last line of steps.jsonl cut short by a kill and
// returns the steps (none when the file is absent).
func (d *Dir) RepairSteps() ([]Step, error) { return RepairSteps(filepath.Join(d.path, StepsFile)) }

// WriteFile writes data to rel atomically, making its parent folders
// (charts/) first.
func (d *Dir) WriteFile(rel string, data []byte) error {
	p, err := d.file(rel)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(p); dir != filepath.Clean(d.path) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return WriteFileAtomic(p, data)
}

// WriteJSON writes v to rel as indented JSON, atomically.
func (d *Dir) WriteJSON(rel string, v any) error {
	p, err := d.file(rel)
	if err != nil {
		return err
	}
	return WriteJSON(p, v)
}

// Append appends data (whole lines) to rel in one write, fsynced, so what
// was appended survives a kill -9.
func (d *Dir) Append(rel string, data []byte) error {
	p, err := d.file(rel)
	if err != nil {
		return err
	}
	return AppendSynced(p, data)
}

// Read returns the content of rel; a missing file is an error that
// errors.Is(err, fs.ErrNotExist) recognises.
func (d *Dir) Read(rel string) ([]byte, error) {
	p, err := d.file(rel)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// Remove removes the file rel; a missing file is an error that
// errors.Is(err, fs.ErrNotExist) recognises.
func (d *Dir) Remove(rel string) error {
	p, err := d.file(rel)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

// Load reads a run directory: the plan as run, run.json (absent: a zero
// Run named by the directory) and the steps (a last line cut short is left
// out).
func Load(path string) (*v1alpha1.SweepPlan, Run, []Step, error) {
	var run Run
	data, err := os.ReadFile(filepath.Join(path, PlanFile))
	if err != nil {
		return nil, run, nil, fmt.Errorf("%s is not a run directory: %w", path, err)
	}
	plan, err := v1alpha1.LoadPlan(data)
	if err != nil {
		return nil, run, nil, fmt.Errorf("%s: %w", filepath.Join(path, PlanFile), err)
	}
	if err := ReadJSON(filepath.Join(path, RunFile), &run); err != nil && !os.IsNotExist(err) {
		return nil, run, nil, fmt.Errorf("%s: %w", filepath.Join(path, RunFile), err)
	}
	if run.RunID == "" {
		run.RunID = filepath.Base(path)
	}
	steps, _, err := ReadSteps(filepath.Join(path, StepsFile))
	if err != nil && !os.IsNotExist(err) {
		return nil, run, nil, err
	}
	return plan, run, steps, nil
}

// IsRunDir reports whether path holds the plan as run: what makes a
// directory a run directory for the commands that take one.
func IsRunDir(path string) bool {
	_, err := os.Stat(filepath.Join(path, PlanFile))
	return err == nil
}

// List returns the paths of the entries under out, in name order: the
// callers pick the run directories they look for (Latest, a sharded
// coordinator's own run).
func List(out string) ([]string, error) {
	ents, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(ents))
	for i, e := range ents {
		paths[i] = filepath.Join(out, e.Name())
	}
	return paths, nil
}

// Latest returns the most recent run directory under out: the last of
// RunDirs (by run id: time, then "-2" before "-10") holding the plan as run.
func Latest(out string) (string, error) {
	runs, err := RunDirs(out)
	if err != nil {
		return "", err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if IsRunDir(runs[i].Path) {
			return runs[i].Path, nil
		}
	}
	return "", fmt.Errorf("no run directory under %s", out)
}

// Unfinished returns the latest run under out when it did not complete
// (running when its pod was lost, interrupted or failed) and same accepts
// its plan as run: the run a retried pod with the same plan goes on with.
// "" when the latest run completed (the next one starts afresh), its plan
// differs or cannot be read, or out holds none.
func Unfinished(out string, same func(*v1alpha1.SweepPlan) bool) string {
	d, err := Latest(out)
	if err != nil {
		return ""
	}
	plan, run, _, err := Load(d)
	if err != nil {
		// Not a run this sweep-runner could go on with: a new run starts.
		return ""
	}
	if run.Status == StatusComplete || !same(plan) {
		return ""
	}
	return d
}

// DirsHolding returns the directories under out that hold a file named
// name (e.g. the run directories with samples kept for remote write), in
// name order.
func DirsHolding(out, name string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(out, "*", name))
	if err != nil {
		return nil, err
	}
	dirs := make([]string, len(files))
	for i, f := range files {
		dirs[i] = filepath.Dir(f)
	}
	return dirs, nil
}
