package vllmsim

import (
	"hash/fnv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token rule. The simulator has no real tokenizer; it counts tokens with a
// fixed, documented rule so that clients can predict counts and /tokenize,
// usage.prompt_tokens and the scheduler always agree:
//
//   - Tokenize adds BOS (id 1) first, as Mistral's tokenizer does.
//   - A run of letters and digits, with the one space before it if any, is
//     one token per started 4 runes: " hello" = 2 tokens (" hell", "o"),
//     "data" = 1, " a" = 1.
//   - Any other rune (punctuation, newline, a space not followed by a
//     letter or digit) is one token.
//
// Ids are 3 + FNV-1a(piece) mod (VocabSize-3), so equal pieces give equal ids.
// Generated text is made of words of at most 4 letters each with a leading
// space, so it re-tokenizes (without BOS) to exactly completion_tokens.
const (
	// BOS is the id Tokenize puts first.
	BOS = 1
	// VocabSize bounds token ids.
	VocabSize = 32768
	// wordRunes is the most letters or digits in one token.
	wordRunes = 4
)

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// pieces calls emit with each token's text, in order, without BOS.
func pieces(text string, emit func(piece string)) {
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		start := i
		if r == ' ' && i+n < len(text) {
			if r2, _ := utf8.DecodeRuneInString(text[i+n:]); isWordRune(r2) {
				i += n // the space joins the word's first token
				r, n = r2, utf8.RuneLen(r2)
			}
		}
		if !isWordRune(r) {
			i += n
			emit(text[start:i])
			continue
		}
		count := 0
		for i < len(text) && count < wordRunes {
			r, n := utf8.DecodeRuneInString(text[i:])
			if !isWordRune(r) {
				break
			}
			i += n
			count++
		}
		emit(text[start:i])
	}
}

// Tokenize returns the token ids of text under the simulator's token rule,
// BOS first. len(Tokenize(s)) == CountTokens(s).
func Tokenize(text string) []int {
	ids := make([]int, 1, len(text)/3+2)
	ids[0] = BOS
	pieces(text, func(p string) { ids = append(ids, tokenID(p)) })
	return ids
}

// CountTokens is len(Tokenize(text)) without building the slice.
func CountTokens(text string) int {
	n := 1
	pieces(text, func(string) { n++ })
	return n
}

func tokenID(piece string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(piece))
	return 3 + int(h.Sum32()%(VocabSize-3))
}

// ChatMessage is one message of a chat request; Content is the text (array
// content parts are joined before this point).
type ChatMessage struct {
	Role    string
	Content string
}

// RenderChat is the simulator's chat template, applied before tokenizing a
// chat request: "<|role|>\n" + content + "\n" per message, then
// "<|assistant|>\n" when addGenerationPrompt is set (the default in /tokenize
// and always for chat completions).
func RenderChat(msgs []ChatMessage, addGenerationPrompt bool) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|")
		b.WriteString(m.Role)
		b.WriteString("|>\n")
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	if addGenerationPrompt {
		b.WriteString("<|assistant|>\n")
	}
	return b.String()
}

// outputWords are the pieces generated text is made of: each is one token
// under the token rule (a space and at most 4 letters).
var outputWords = [...]string{
	" the", " data", " is", " a", " fast", " net", " and", " it", " can", " send",
	" many", " user", " with", " low", " lag", " each", " GPU", " runs", " one", " set",
	" of", " work", " that", " we", " sum", " up", " per", " step", " so", " time",
	" goes", " on",
}

// outputWord is the text of the i-th generated token of a request whose
// text seed is s: cheap, allocation-free and reproducible.
func outputWord(s uint64, i int) string {
	x := s + uint64(i)*0x9E3779B97F4A7C15
	x ^= x >> 29
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 32
	return outputWords[x%uint64(len(outputWords))]
}
