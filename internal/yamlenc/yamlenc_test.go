package yamlenc

import "testing"

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
	b, err := Encode(map[string]any{"spec": map[string]any{"z": 1, "name": "n", "a": []string{"x"}}, "kind": "K", "apiVersion": "v1", "metadata": map[string]string{"namespace": "ns", "name": "m", "labels": "l"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: K\nmetadata:\n  name: m\n  namespace: ns\n  labels: l\nspec:\n  name: n\n  a:\n    - x\n  z: 1\n"
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
}
