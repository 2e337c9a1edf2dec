package yamlenc

import (
	"testing"

	"sigs.k8s.io/yaml"
)

func TestEncodeQuotesAmbiguousStrings(t *testing.T) {
	b, err := Encode(map[string]any{"a": "true", "b": "5", "c": "x\ny\n", "d": 3.5, "e": float64(4), "f": nil})
	if err != nil {
		t.Fatal(err)
	}
	want := "a: \"true\"\nb: \"5\"\nc: |\n  x\n  y\nd: 3.5\ne: 4\nf: null\n"
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
}

func TestEncodeKeyOrder(t *testing.T) {
	b, err := Encode(map[string]any{"spec": map[string]any{"z": 1, "name": "nm", "a": []string{"x"}}, "kind": "K", "apiVersion": "v1", "metadata": map[string]string{"namespace": "ns", "name": "m", "labels": "l"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: K\nmetadata:\n  name: m\n  namespace: ns\n  labels: l\nspec:\n  name: nm\n  a:\n    - x\n  z: 1\n"
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
}

// YAML 1.1 booleans (a model or namespace named "y", "no", "on") stay
// strings for YAML 1.1 readers: kubectl and sigs.k8s.io/yaml.
func TestEncodeQuotesYAML11Booleans(t *testing.T) {
	b, err := Encode(map[string]any{"a": "y", "b": "no", "c": "On", "d": "yes-no", "e": "nope"})
	if err != nil {
		t.Fatal(err)
	}
	want := "a: \"y\"\nb: \"no\"\nc: \"On\"\nd: yes-no\ne: nope\n"
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
	var back map[string]any
	if err := yaml.Unmarshal(b, &back); err != nil || back["a"] != "y" || back["b"] != "no" || back["c"] != "On" {
		t.Errorf("sigs.k8s.io/yaml reads %v (%v)", back, err)
	}
}
