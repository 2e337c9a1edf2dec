package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// sharedVocab spells the system prompt every request of a scenario shares
// (sharedPrefixTokens): short common words, one token each in mainstream
// tokenizers and in vllm-sim's rule, distinct from the unique prefix's.
var sharedVocab = []string{
	"you", "are", "a", "kind", "and", "calm", "aide", "who", "reads", "each",
	"note", "with", "care", "then", "says", "what", "is", "true", "in", "few",
	"plain", "words", "for", "the", "user",
}

// AppendShared appends the shared system prompt of words words: the same
// text for every request.
func AppendShared(b []byte, words int) []byte {
	for i := 0; i < words; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, sharedVocab[i%len(sharedVocab)]...)
	}
	return b
}

// standIn is the text resent for an answer whose text the server did not
// stream back: one short word per output token.
var standIn = []string{" so", " we", " go", " on"}

// Conversation is one user's conversation: each turn sends the previous
// turns, answers included (the text the server streamed), and a new user
// message. Not safe for concurrent use.
type Conversation struct {
	// Turns this conversation has; Turn is the next one (1-based).
	Turns, Turn int
	// hist: the previous turns, JSON-escaped: message objects each
	// followed by a comma (chat), or text (completions).
	hist []byte
	// last: prompt and output tokens of the latest turn (0: none yet).
	lastPrompt, lastOutput int
}

// Start begins a new conversation of turns turns.
func (c *Conversation) Start(turns int) {
	c.Turns, c.Turn, c.hist, c.lastPrompt, c.lastOutput = max(turns, 1), 1, c.hist[:0], 0, 0
}

// Done reports whether every turn was sent.
func (c *Conversation) Done() bool { return c.Turn > c.Turns }

// AppendTurn appends the JSON body of the conversation's next turn: the
// shared system prompt, the previous turns with their answers and the new
// user message of request n (words filler words), streamed for exactly
// maxTokens output tokens. The first turn is AppendBody's request.
func (p *Prompt) AppendTurn(b []byte, c *Conversation, n uint64, words, maxTokens int) []byte {
	if words < 0 {
		words = p.Words
	}
	b = p.appendOpen(b)
	b = append(b, c.hist...)
	if p.API == "chat" {
		b = append(b, `{"role":"user","content":"`...)
		b = AppendText(b, n, words)
		b = append(b, `"}`...)
	} else {
		b = AppendText(b, n, words)
	}
	return p.appendClose(b, maxTokens)
}

// Answered records the turn just sent (request n, words filler words) and
// its answer: answer is the streamed text, JSON-escaped, as the stream
// carried it; when it is empty (a server that does not stream the text) a
// stand-in of outputTokens short words takes its place. promptTokens is the
// turn's prompt length (usage).
func (c *Conversation) Answered(p *Prompt, n uint64, words int, answer []byte, promptTokens, outputTokens int) {
	if words < 0 {
		words = p.Words
	}
	if p.API == "chat" {
		c.hist = append(c.hist, `{"role":"user","content":"`...)
		c.hist = AppendText(c.hist, n, words)
		c.hist = append(c.hist, `"},{"role":"assistant","content":"`...)
		c.hist = appendAnswer(c.hist, answer, outputTokens)
		c.hist = append(c.hist, `"},`...)
	} else {
		c.hist = AppendText(c.hist, n, words)
		c.hist = appendAnswer(c.hist, answer, outputTokens)
		c.hist = append(c.hist, `\n`...)
	}
	c.Turn++
	c.lastPrompt, c.lastOutput = promptTokens, outputTokens
}

func appendAnswer(b, answer []byte, outputTokens int) []byte {
	if len(answer) > 0 {
		return append(b, answer...)
	}
	for i := 0; i < outputTokens; i++ {
		b = append(b, standIn[i%len(standIn)]...)
	}
	return b
}

// NextFits reports whether the next turn, asking maxTokens output tokens,
// fits the server's context (always true when MaxModelLen is unknown): its
// prompt is estimated as the latest turn's prompt, its answer and a new
// message as long as the first turn's less the shared prompt, plus a few
// tokens of chat template.
func (c *Conversation) NextFits(p *Prompt, maxTokens int) bool {
	if p.MaxModelLen <= 0 || c.lastPrompt == 0 {
		return true
	}
	next := c.lastPrompt + c.lastOutput + p.Tokens - p.SharedTokens + 16
	return next+maxTokens <= p.MaxModelLen
}

// MaxModelLen asks GET /v1/models for model's context length
// (max_model_len, which vLLM reports); 0 when the server does not say.
func (c *Client) MaxModelLen(ctx context.Context, model string) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/models", nil)
	if err != nil {
		return 0
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return 0
	}
	var list struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &list) != nil {
		return 0
	}
	for _, m := range list.Data {
		if m.ID == model {
			return max(m.MaxModelLen, 0)
		}
	}
	return 0
}
