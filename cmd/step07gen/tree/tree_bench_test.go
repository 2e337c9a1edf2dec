package tree

import (
	"os"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// BenchmarkGenerateTree: step07gen's whole-tree generation in memory, from
// the committed config's bytes to every file of the tree (load, default,
// validate, render every component, encode, KRM and ArgoCD files), as
// `step07gen generate` does before writing; reported as ms/tree.
func BenchmarkGenerateTree(b *testing.B) {
	raw, err := os.ReadFile("../../gitops/step-07-model-performance-metrics/step07.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		c, err := v1alpha1.LoadConfig(raw)
		if err != nil {
			b.Fatal(err)
		}
		files, err := Files(c, raw, Options{})
		if err != nil || len(files) < 10 {
			b.Fatal(err, len(files))
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(n), "ms/tree")
}
