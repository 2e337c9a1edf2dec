package render

import (
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

func demo(t *testing.T) *v1alpha1.ModelPerformanceMetrics {
	c, err := v1alpha1.LoadConfig([]byte("apiVersion: step07.rhoai-demo.io/v1alpha1\nkind: ModelPerformanceMetrics\nspec: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStreamStableAndOrdered(t *testing.T) {
	c := demo(t)
	a, err := Objects(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Objects(c)
	sa, err := Stream(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := Stream(b)
	if string(sa) != string(sb) {
		t.Fatal("two renders differ")
	}
	first := strings.SplitN(string(sa), "\n", 4)
	if !strings.HasPrefix(first[0], "apiVersion: ") || !strings.HasPrefix(first[1], "kind: ") || first[2] != "metadata:" {
		t.Errorf("field order: %q", first[:3])
	}
	if strings.Contains(string(sa), "creationTimestamp") || strings.Contains(string(sa), "\nstatus:") {
		t.Error("creationTimestamp or status in output")
	}
}

func TestEncodeQuotesAmbiguousStrings(t *testing.T) {
	b, err := EncodeValue(map[string]any{"a": "true", "b": "5", "c": "x\ny\n", "d": 3.5, "e": float64(4), "f": nil})
	if err != nil {
		t.Fatal(err)
	}
	want := "a: \"true\"\nb: \"5\"\nc: |\n  x\n  y\nd: 3.5\ne: 4\nf: null\n"
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
}
