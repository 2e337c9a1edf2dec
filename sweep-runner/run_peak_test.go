package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// `run` takes the plan-for-the-peak flags of `plan` and `report`: the run's
// report.md plans for the peak with the spare replica; a bad peak is a
// usage error naming its flag, before anything runs.
func TestRunPeakPlan(t *testing.T) {
	sim := simServer(t, 8)
	dir := t.TempDir()
	plan := relPlan(t, dir, sim, "1, 2", "")
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI("run", "--plan", plan, "--out", out, "--peak-users", "50", "--spare-replicas", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr[max(0, len(stderr)-800):])
	}
	md, err := os.ReadFile(filepath.Join(relRunDir(t, out, time.Second), results.ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Planned for a peak of 50 concurrent users") || !strings.Contains(string(md), "(N+1)") {
		t.Errorf("report.md has no plan for the peak:\n%s", md)
	}
	if code, _, stderr := runCLI("run", "--plan", plan, "--out", out, "--peak-factor", "0.5"); code != exitUsage || !strings.Contains(stderr, "--peak-factor") {
		t.Errorf("bad --peak-factor: exit %d: %s", code, stderr)
	}
}
