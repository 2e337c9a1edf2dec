package vllmsim

import "testing"

func TestTokenRule(t *testing.T) {
	cases := []struct {
		text string
		want int // including BOS
	}{
		{"", 1},
		{"data", 2},
		{"hello", 3},         // "hell" "o"
		{"hello world", 5},   // "hell" "o" " wor" "ld"
		{" a b", 3},          // " a" " b"
		{"Hi, you!", 5},      // "Hi" "," " you" "!"
		{"a  b", 4},          // "a" " " " b"
		{"line\nnext", 4},    // "line" "\n" "next"
		{"žluťoučký kůň", 5}, // runes, not bytes: "žluť" "oučk" "ý" " kůň"
		{"12345678 9", 4},    // "1234" "5678" " 9"
	}
	for _, c := range cases {
		ids := Tokenize(c.text)
		if len(ids) != c.want || CountTokens(c.text) != c.want || ids[0] != BOS {
			t.Errorf("%q: %d tokens (count %d), want %d", c.text, len(ids), CountTokens(c.text), c.want)
		}
		for _, id := range ids {
			if id < 1 || id >= VocabSize {
				t.Errorf("%q: id %d out of range", c.text, id)
			}
		}
	}
	a, b := Tokenize("the same text"), Tokenize("the same text")
	if !equalInts(a, b) {
		t.Fatal("Tokenize is not deterministic")
	}
	for _, w := range outputWords {
		if CountTokens(w) != 2 {
			t.Errorf("output word %q is not one token", w)
		}
	}
}
