package v1alpha1

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// An explicit zero in step07.yaml reaches the plan: warmup: 0s is no
// warmup and readyTimeout: 0s checks once, not 10s and 10m.
func TestExplicitZeroReachesThePlan(t *testing.T) {
	c := mustLoad(t, "spec:\n  sweep:\n    warmup: 0s\n    readyTimeout: 0s\n")
	p := c.Plan()
	if p.Spec.Warmup == nil || p.Spec.Warmup.Duration != 0 || p.Spec.ReadyTimeout == nil || p.Spec.ReadyTimeout.Duration != 0 {
		t.Fatalf("plan warmup %v readyTimeout %v, want 0s and 0s", p.Spec.Warmup, p.Spec.ReadyTimeout)
	}
	b, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n  warmup: 0s\n", "\n  readyTimeout: 0s\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("written plan lacks %q:\n%s", want, b)
		}
	}
	// ... and survives the trip through the file sweep-runner reads.
	got, err := LoadPlan(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Warmup.Duration != 0 || got.Spec.ReadyTimeout.Duration != 0 {
		t.Errorf("loaded plan: warmup %s readyTimeout %s", got.Spec.Warmup.Duration, got.Spec.ReadyTimeout.Duration)
	}
	// Unset, each place keeps its own default: 10s warmup in both; the Job
	// waits 10m for its targets, a plan written by hand checks once.
	d := mustLoad(t, "spec: {}\n").Plan()
	if d.Spec.Warmup.Duration != 10*time.Second || d.Spec.ReadyTimeout.Duration != 10*time.Minute {
		t.Errorf("config defaults: warmup %s readyTimeout %s", d.Spec.Warmup.Duration, d.Spec.ReadyTimeout.Duration)
	}
	hand, err := LoadPlan([]byte(planHeader))
	if err != nil {
		t.Fatal(err)
	}
	if hand.Spec.Warmup.Duration != 10*time.Second || hand.Spec.ReadyTimeout.Duration != 0 {
		t.Errorf("plan defaults: warmup %s readyTimeout %s", hand.Spec.Warmup.Duration, hand.Spec.ReadyTimeout.Duration)
	}
}

// The shared settings are validated once, with the path of each place: an
// explicit zero where zero is not allowed is reported, not defaulted.
func TestSharedSettingsValidation(t *testing.T) {
	for _, tc := range []struct {
		settings string
		want     []string
	}{
		{"stepDuration: 0s\n  minRequests: 0\n  keepRuns: 0\n  startConcurrency: 0\n  maxConcurrency: 0\n  requestTimeout: 0s\n  timeScale: 101\n  shards: 0\n",
			[]string{"startConcurrency: must be at least 1", "maxConcurrency: must be at least 1", "stepDuration: must be at least 1s",
				"requestTimeout: must be at least 1s", "minRequests: must be within 1..100000, got 0", "keepRuns: must be within 1..10000",
				"timeScale: must be within (0, 100]", "shards: must be within 1..64"}},
		{"maxRequests: 0\n  maxWindow: 0s\n  readyTimeout: 25h\n  shards: 65\n",
			[]string{"readyTimeout: must be at most 24h", "maxRequests: must be within minRequests (20)..1000000, got 0",
				"maxWindow: must be at least stepDuration (1m0s) and at most 24h, got 0s", "shards: must be within 1..64"}},
	} {
		_, perr := LoadPlan([]byte(planHeader + "  " + tc.settings))
		_, cerr := LoadConfig([]byte(header + "spec:\n  sweep:\n    activeDeadline: 48h\n    " + strings.ReplaceAll(tc.settings, "\n  ", "\n    ")))
		for _, at := range []struct {
			prefix string
			err    error
		}{{"spec.", perr}, {"spec.sweep.", cerr}} {
			var errs Errors
			if !errors.As(at.err, &errs) {
				t.Fatalf("%s: want Errors, got %v", at.prefix, at.err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			for i, w := range tc.want {
				if i >= len(got) || !strings.HasPrefix(got[i], at.prefix+w) {
					t.Errorf("%s: problem %d is not %q:\n%v", at.prefix, i, at.prefix+w, at.err)
				}
			}
			if len(errs) != len(tc.want) {
				t.Errorf("%s: %d problems, want %d:\n%v", at.prefix, len(errs), len(tc.want), at.err)
			}
		}
	}
}

// Every shared setting has the same YAML name in step07.yaml and in the
// plan, and the config's settings are the plan's, whole and unaliased.
func TestConfigSettingsAreThePlans(t *testing.T) {
	body := "spec:\n  sweep:\n    concurrency: [2, 8]\n    stepDuration: 20m\n    warmup: 1s\n    requestTimeout: 30s\n    readyTimeout: 1m\n" +
		"    api: chat\n    bisect: false\n    scenarios:\n    - {name: X, inputTokens: 1, outputTokens: 2}\n    sla:\n      queueFraction: 0.25\n" +
		"    minRequests: 40\n    maxRequests: 80\n    maxWindow: 30m\n    keepRuns: 7\n    timeScale: 0.5\n    shards: 4\n"
	c := mustLoad(t, body)
	p := c.Plan()
	if d := cmp.Diff(c.Spec.Sweep.SweepSettings, p.Spec.SweepSettings); d != "" {
		t.Errorf("plan settings differ from the config's (-config +plan):\n%s", d)
	}
	if p.Spec.StartConcurrency != nil || p.Spec.MaxConcurrency != nil {
		t.Errorf("an explicit grid leaves start/max unset: %v %v", p.Spec.StartConcurrency, p.Spec.MaxConcurrency)
	}
	*p.Spec.KeepRuns = 99
	p.Spec.Scenarios[0].Name = "Y"
	p.Spec.Concurrency[0] = 3
	if *c.Spec.Sweep.KeepRuns != 7 || c.Spec.Sweep.Scenarios[0].Name != "X" || c.Spec.Sweep.Concurrency[0] != 2 {
		t.Error("the plan aliases the config's settings")
	}
	// Derived defaults follow the values given: maxWindow from a long step,
	// maxRequests from a high minRequests.
	d := mustLoad(t, "spec:\n  sweep:\n    stepDuration: 10m\n    minRequests: 500\n").Plan()
	if d.Spec.MaxWindow.Duration != 10*time.Minute || *d.Spec.MaxRequests != 500 {
		t.Errorf("derived defaults: maxWindow %s maxRequests %d", d.Spec.MaxWindow.Duration, *d.Spec.MaxRequests)
	}
}

// The strict decoder sees the inline settings as the fields of spec.sweep
// and of a plan's spec: known there, type-checked with their paths, and
// listed among the known fields of an unknown one.
func TestStrictDecoderInlineSettings(t *testing.T) {
	_, err := LoadConfig([]byte(header + "spec:\n  sweep:\n    warmup: 5\n    keepRuns: x\n    bogus: 1\n"))
	for _, want := range []string{
		`spec.sweep.warmup: must be a duration string such as "30s", got number 5`,
		`spec.sweep.keepRuns: must be an integer, got string "x"`,
		"spec.sweep.bogus: unknown field; known fields here: activeDeadline, allowBusy, api, apiKeySecret, bisect, budgetGPUMinutes, concurrency, image, keepRuns, maxConcurrency, maxRequests, maxWindow, minRequests, readyTimeout, requestTimeout, results, scenarios, schedule, shards, sla, startConcurrency, stepDuration, timeScale, timeZone, warmup",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config: lacks %q:\n%v", want, err)
		}
	}
	_, err = LoadPlan([]byte(planHeader + "  maxWindow: [1]\n  SweepSettings: {}\n"))
	for _, want := range []string{"spec.maxWindow: must be a duration string", "spec.SweepSettings: unknown field"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("plan: lacks %q:\n%v", want, err)
		}
	}
}

// Shards: unset is one shard and stays out of the plan (the trees of
// configs without shards do not change); a value given reaches the plan.
func TestShards(t *testing.T) {
	d := mustLoad(t, "spec: {}\n").Plan()
	if d.Spec.Shards != nil || d.Spec.ShardCount() != 1 {
		t.Errorf("unset: plan shards %v, count %d; want unset and 1", d.Spec.Shards, d.Spec.ShardCount())
	}
	if b, err := yaml.Marshal(d); err != nil || strings.Contains(string(b), "shards") {
		t.Errorf("unset shards written to the plan (%v):\n%s", err, b)
	}
	p := mustLoad(t, "spec:\n  sweep:\n    shards: 3\n").Plan()
	if p.Spec.ShardCount() != 3 {
		t.Errorf("shards: 3 gives %d in the plan", p.Spec.ShardCount())
	}
	b, err := yaml.Marshal(p)
	if err != nil || !strings.Contains(string(b), "\n  shards: 3\n") {
		t.Errorf("written plan lacks shards: 3 (%v):\n%s", err, b)
	}
	if got, err := LoadPlan(b); err != nil || got.Spec.ShardCount() != 3 {
		t.Errorf("loaded plan: %v, %v", got, err)
	}
	for _, n := range []string{"1", "64"} {
		if _, err := LoadConfig([]byte(header + "spec:\n  sweep:\n    shards: " + n + "\n")); err != nil {
			t.Errorf("shards: %s: %v", n, err)
		}
	}
}
