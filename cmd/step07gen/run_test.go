package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func call(stdin string, args ...string) (string, string, int) {
	var o, e bytes.Buffer
	code := run(args, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"generate", "--help"}, {"diff", "--help"}, {"fn", "--help"}} {
		out, _, code := call("", args...)
		if code != 0 || !strings.Contains(out, "step07gen") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	if out, _, code := call("", "--version"); code != 0 || !strings.HasPrefix(out, "step07gen ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{"frobnicate"},
		{"generate"},
		{"generate", "--config", "x.yaml"},
		{"diff", "--out", "d"},
		{"generate", "--bogus"},
		{"fn", "a.yaml", "b.yaml"},
	}
	for _, args := range cases {
		if _, stderr, code := call("", args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
	// Both missing flags are reported together.
	_, stderr, _ := call("", "generate")
	if !strings.Contains(stderr, "--config") || !strings.Contains(stderr, "--out") {
		t.Errorf("want both problems at once: %q", stderr)
	}
}

func TestGenerateDiffFn(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "step07.yaml")
	os.WriteFile(cfg, []byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\nspec:\n  models:\n  - name: m\n"), 0o644)
	out := filepath.Join(dir, "tree")
	if _, stderr, code := call("", "diff", "--config", cfg, "--out", out); code != 1 {
		t.Fatalf("diff of a missing tree: exit %d %s", code, stderr)
	}
	if _, stderr, code := call("", "generate", "--config", cfg, "--out", out); code != 0 {
		t.Fatalf("generate: exit %d %s", code, stderr)
	}
	if stdout, stderr, code := call("", "diff", "--config", cfg, "--out", out); code != 0 || stdout != "" {
		t.Fatalf("diff after generate: exit %d %s %s", code, stdout, stderr)
	}
	if _, err := os.Stat(cfg); err != nil {
		t.Fatal("config removed")
	}
	stream, _, code := call("", "fn", cfg)
	if code != 0 || !strings.Contains(stream, "kind: PrometheusRule") || !strings.Contains(stream, "\n---\n") {
		t.Fatalf("fn: exit %d", code)
	}
	if strings.Contains(stream, "kind: Application") {
		t.Error("fn prints the ArgoCD Application: it must not deploy itself")
	}
	// ResourceList on stdin: the KRM function.
	rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: step07.rhoai-demo.io/v1alpha1\n  kind: ModelPerformanceMetrics\n  spec: {}\n"
	krm, stderr, code := call(rl)
	if code != 0 || !strings.Contains(krm, "kind: ResourceList") || !strings.Contains(krm, "kind: CronJob") {
		t.Fatalf("KRM: exit %d %s", code, stderr)
	}
	if _, stderr, code := call("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: step07.rhoai-demo.io/v1alpha1\n  kind: ModelPerformanceMetrics\n  spec: {platform: x}\n"); code != 2 || !strings.Contains(stderr, "spec.platform") {
		t.Fatalf("KRM bad config: exit %d %s", code, stderr)
	}
}

// An explicit zero in step07.yaml is the plan's: warmup: 0s stays no warmup
// and readyTimeout: 0s a single check, not the defaults 10s and 10m.
func TestExplicitZeroSweepSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "step07.yaml")
	os.WriteFile(cfg, []byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\nspec:\n  sweep:\n    warmup: 0s\n    readyTimeout: 0s\n"), 0o644)
	out := filepath.Join(dir, "tree")
	if _, stderr, code := call("", "generate", "--config", cfg, "--out", out); code != 0 {
		t.Fatalf("generate: exit %d %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "base", "guidellm", "configmap-guidellm-sweep-plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plan := string(b)
	for _, want := range []string{"\n      warmup: 0s\n", "\n      readyTimeout: 0s\n"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "warmup: 10s") || strings.Contains(plan, "readyTimeout: 10m") {
		t.Errorf("an explicit 0s became the default:\n%s", plan)
	}
}
