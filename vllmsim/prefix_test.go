package vllmsim

import (
	"strings"
	"testing"
)

// A conversation's next turn resends the previous prompt and the answer the
// server streamed: with prefix caching the blocks of both are cached (the
// answer's decode blocks too, as vLLM V1 keeps them), so the turn prefills
// only the new message and the blocks it shares with nothing.
func TestPrefixCacheKeepsAnswerBlocks(t *testing.T) {
	cfg := DefaultConfig()
	v := newVClock(cfg)
	turn1 := []ChatMessage{{Role: "user", Content: strings.TrimSpace(longText(300))}}
	ids1 := Tokenize(RenderChat(turn1, true))
	first := v.submit(len(ids1), 40)
	first.blockHashes = blockHashes(ids1, cfg.BlockSize)
	first.promptIDs, first.textSeed = ids1, 99
	for first.state != stateDone {
		if _, ok := v.step(); !ok {
			t.Fatal("engine idle before the first turn finished")
		}
	}
	// The answer as the server streamed it, resent in the next turn.
	var answer strings.Builder
	for i := 0; i < first.generated; i++ {
		answer.WriteString(outputWord(99, i))
	}
	turn2 := append(turn1, ChatMessage{Role: "assistant", Content: answer.String()}, ChatMessage{Role: "user", Content: strings.TrimSpace(longText(100))})
	ids2 := Tokenize(RenderChat(turn2, true))
	// The template keeps the first turn's tokens and the answer's, in order.
	for i, id := range ids1 {
		if ids2[i] != id {
			t.Fatalf("turn 2 differs from turn 1's prompt at token %d", i)
		}
	}
	for i := 0; i < first.generated; i++ {
		if ids2[len(ids1)+i] != tokenID(outputWord(99, i)) {
			t.Fatalf("turn 2 differs from the streamed answer at its token %d", i)
		}
	}
	second := v.submit(len(ids2), 2)
	second.blockHashes = blockHashes(ids2, cfg.BlockSize)
	it, _ := v.step()
	cached := (len(ids1) + first.generated - 1) / cfg.BlockSize * cfg.BlockSize
	if want := len(ids2) - cached; it.PrefillTokens != want {
		t.Fatalf("turn 2 (%d tokens) prefilled %d, want %d: the %d tokens of turn 1's prompt and answer in full blocks are cached", len(ids2), it.PrefillTokens, want, cached)
	}
	if cached <= len(ids1)/cfg.BlockSize*cfg.BlockSize {
		t.Fatalf("the answer added no cached block (cached %d, prompt %d)", cached, len(ids1))
	}
}

// Without prefix caching every prompt token is prefilled, however often the
// prompt was seen.
func TestNoPrefixCachingPrefillsEverything(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PrefixCaching = false
	v := newVClock(cfg)
	ids := Tokenize(longText(300))
	for range 2 {
		s := v.submit(len(ids), 2)
		s.blockHashes = blockHashes(ids, cfg.BlockSize)
		s.promptIDs = ids
		it, _ := v.step()
		if it.PrefillTokens != len(ids) {
			t.Fatalf("prefilled %d tokens, want all %d", it.PrefillTokens, len(ids))
		}
		for s.state != stateDone {
			v.step()
		}
	}
}
