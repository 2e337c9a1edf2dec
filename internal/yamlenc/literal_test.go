package yamlenc

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLiteralFastPathIsIdentical: the literal-block fast path writes exactly
// what the YAML emitter writes, wherever the block sits, and falls back to
// the emitter for strings it cannot write as a plain literal block.
func TestLiteralFastPathIsIdentical(t *testing.T) {
	json := "{\n  \"a\": 1,\n\n  \"b\": [\n    \"x y\"\n  ]\n}"
	big := strings.Repeat(json+"\n", 40)
	variants := map[string]string{
		"trailing newline":    big,
		"no trailing newline": strings.TrimSuffix(big, "\n"),
		"two trailing":        big + "\n",
		"trailing space":      strings.Replace(big, "1,", "1, ", 1),
		"leading space":       " " + big,
		"tab":                 strings.Replace(big, "\"a\"", "\t\"a\"", 1),
		"unicode":             strings.Replace(big, "x y", "x ÿ y", 1),
		"short":               "a\nb\n",
		"hash and colons":     strings.Repeat("# not: a comment\n- item: x\n---\n...\n", 60),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 30; i++ {
		// Lines of random indentation and YAML-significant characters, some
		// empty, none with a trailing space.
		var b strings.Builder
		for b.Len() < 1500 {
			if rng.IntN(5) > 0 {
				b.WriteString(strings.Repeat(" ", rng.IntN(5)))
				b.WriteString("tok:{}[]#&*!|>'\"%@`,"[rng.IntN(10):])
				b.WriteString(strings.Repeat("z", rng.IntN(9)))
			}
			b.WriteString("\n")
		}
		variants["random"+string(rune('a'+i))] = strings.TrimLeft(b.String(), " \n")
	}
	for _, name := range []string{"trailing newline", "no trailing newline", "hash and colons"} {
		if !literalSafe(variants[name]) {
			t.Fatalf("%s: the fast path is not taken, the comparison proves nothing", name)
		}
	}
	fastTaken := 0
	for name, s := range variants {
		if literalSafe(s) {
			fastTaken++
		}
		docs := map[string]any{
			"top":      map[string]any{"data": map[string]any{"k.json": s, "other": "v"}},
			"nested":   map[string]any{"a": map[string]any{"b": map[string]any{"c": s}}, "z": s},
			"sequence": map[string]any{"items": []any{map[string]any{"content": s, "name": "x"}, map[string]any{"name": "y", "content": s}}},
			"deep seq": map[string]any{"l": []any{[]any{map[string]any{"content": s}}}},
		}
		for where, d := range docs {
			slow, err := encodeValue(d, false)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := encodeValue(d, true)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, where, err)
			}
			if !bytes.Equal(slow, fast) {
				t.Errorf("%s/%s: fast path differs\n--- emitter\n%.600s\n--- fast\n%.600s", name, where, slow, fast)
			}
		}
	}
	if fastTaken < 10 {
		t.Errorf("only %d variants took the fast path", fastTaken)
	}
}
