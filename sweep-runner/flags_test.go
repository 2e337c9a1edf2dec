package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The plan flags are bound to optional settings: nil until given, then
// the value given, zero included; no default shows in the help.
func TestOptionalFlags(t *testing.T) {
	var f runFlags
	fs := runFlagSet(&f, io.Discard)
	if err := fs.Parse([]string{"--warmup", "0", "--max-concurrency", "8", "--time-scale", "0.5", "--api", "", "--keep-runs", "3", "--remote-write", ""}); err != nil {
		t.Fatal(err)
	}
	o, out := f.settings, f.outputs
	if o.Warmup == nil || *o.Warmup != 0 || o.MaxConcurrency == nil || *o.MaxConcurrency != 8 || o.TimeScale == nil || *o.TimeScale != 0.5 ||
		o.API == nil || *o.API != "" || out.KeepRuns == nil || *out.KeepRuns != 3 || out.RemoteWriteURL == nil || *out.RemoteWriteURL != "" {
		t.Errorf("given flags: %+v %+v", o, out)
	}
	if o.StepDuration != nil || o.ReadyTimeout != nil || o.MinRequests != nil || o.Concurrency != nil || o.CAFile != nil || out.PrometheusURL != nil {
		t.Errorf("flags not given are set: %+v %+v", o, out)
	}
	for _, name := range []string{"warmup", "max-concurrency", "time-scale", "api", "keep-runs", "ready-timeout"} {
		if d := fs.Lookup(name).DefValue; d != "" {
			t.Errorf("--%s shows a default %q", name, d)
		}
	}
	if u := fs.FlagUsages(); !strings.Contains(u, "--warmup duration ") || !strings.Contains(u, "--time-scale float ") || !strings.Contains(u, "--max-concurrency int ") {
		t.Errorf("help lost the flag types:\n%s", u)
	}
}

// buildPlan: a plan's explicit zeros stay zero, and flags replace the plan's
// values, zero included.
func TestBuildPlanKeepsZeros(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plan.yaml")
	os.WriteFile(file, []byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: SweepPlan\nspec:\n  targets:\n  - {name: a, url: 'http://127.0.0.1:1'}\n  warmup: 0s\n  readyTimeout: 0s\n  maxWindow: 3m\n"), 0o644)
	for _, tc := range []struct {
		args                    []string
		warmup, ready, maxWin   time.Duration
		maxRequests, minRequest int
	}{
		{nil, 0, 0, 3 * time.Minute, 200, 20},
		{[]string{"--warmup", "5s", "--ready-timeout", "1m"}, 5 * time.Second, time.Minute, 3 * time.Minute, 200, 20},
		{[]string{"--step-duration", "4m", "--min-requests", "300"}, 0, 0, 4 * time.Minute, 300, 300},
	} {
		var f runFlags
		fs := runFlagSet(&f, io.Discard)
		if err := fs.Parse(append([]string{"--plan", file}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		p, err := buildPlan(&f)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		s := p.Spec
		if s.Warmup.Duration != tc.warmup || s.ReadyTimeout.Duration != tc.ready || s.MaxWindow.Duration != tc.maxWin || *s.MaxRequests != tc.maxRequests || *s.MinRequests != tc.minRequest {
			t.Errorf("%v: warmup %s ready %s maxWindow %s requests %d..%d", tc.args, s.Warmup.Duration, s.ReadyTimeout.Duration, s.MaxWindow.Duration, *s.MinRequests, *s.MaxRequests)
		}
	}
}
