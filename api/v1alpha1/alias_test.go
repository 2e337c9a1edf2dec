package v1alpha1

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// wideBomb is one big anchor referenced many times among enough plain nodes
// to pass the YAML library's alias-ratio guard: a 200 KB file that expands
// to about 750 MB.
func wideBomb() string {
	var b strings.Builder
	b.WriteString(header + "spec:\n  a: &s " + strings.Repeat("x", 150000) + "\n  f: [")
	b.WriteString(strings.Repeat("1,", 20000) + "1]\n  b: [")
	b.WriteString(strings.Repeat("*s,", 5000) + "*s]\n")
	return b.String()
}

// laughs is the classic billion laughs: 9 levels of 9 aliases each.
func laughs() string {
	var b strings.Builder
	b.WriteString(header + "spec:\n  l0: &l0 \"lol\"\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ","))
	}
	return b.String()
}

// TestAliasBombsAreBounded: alias bombs fail fast, with little memory, as a
// whole-file error.
func TestAliasBombsAreBounded(t *testing.T) {
	for name, doc := range map[string]string{"wide": wideBomb(), "billion laughs": laughs()} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := LoadConfig([]byte(doc))
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "(file)" || !strings.Contains(errs[0].Msg, "alias") {
			t.Errorf("%s: want one (file) alias error, got %v", name, err)
		}
		if took > 2*time.Second {
			t.Errorf("%s: took %v", name, took)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("%s: allocated %d MiB", name, alloc>>20)
		}
	}
}

// Anchors and aliases of ordinary size stay usable.
func TestModestAliasesLoad(t *testing.T) {
	c := mustLoad(t, `spec:
  models:
    - &m {name: a, gpus: 2}
  sweep:
    sla:
      readingSpeed: &rs {excellent: 40, acceptable: 20, degraded: 10}
    scenarios:
      - {name: A, inputTokens: 128, outputTokens: 64}
      - {name: B, inputTokens: 128, outputTokens: 64}
`)
	if c.Spec.Models[0].GPUCount() != 2 || c.Spec.Sweep.SLA.ReadingSpeed.Excellent != 40 {
		t.Errorf("%+v", c.Spec)
	}
	c = mustLoad(t, "spec:\n  monitoring:\n    dcgmNamespace: &ns gpu-ops\n  namespace: *ns\n  sweep:\n    sla:\n      ttft: &t {excellent: 1s, acceptable: 2s, degraded: 3s}\n")
	if c.Spec.Namespace != "gpu-ops" || c.Spec.Sweep.SLA.TTFT.Degraded.Duration != 3*time.Second {
		t.Errorf("aliases not expanded: %+v", c.Spec)
	}
	if n := expandedSize([]byte(header + "spec:\n  a: &x [1, 2]\n  b: [*x, *x]\n")); n <= 0 || n > 200 {
		t.Errorf("expandedSize = %d", n)
	}
}
