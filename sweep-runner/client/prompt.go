package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// vocab spells a request's unique prefix: four words, one per base-64 digit
// of the request number, so every prompt differs from its first token on
// (prefix caching cannot flatter the result) and the prefix has the same
// length for every request. Common lower-case English words of at most four
// letters are one token in mainstream tokenizers (and in vllm-sim's rule).
var vocab = [64]string{
	"bird", "fish", "tree", "road", "door", "book", "hand", "ship",
	"city", "farm", "gold", "iron", "king", "lake", "moon", "rain",
	"salt", "snow", "star", "wind", "wood", "wall", "milk", "fire",
	"sand", "rock", "leaf", "song", "time", "word", "card", "coat",
	"lamp", "ring", "rose", "seed", "tent", "wave", "yard", "ball",
	"cat", "dog", "sun", "sky", "sea", "car", "bus", "map",
	"pen", "cup", "hat", "box", "egg", "ice", "oil", "tea",
	"red", "blue", "cake", "home", "baby", "girl", "boy", "tall",
}

// filler repeats after the prefix up to the calibrated length.
var filler = []string{
	"the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
	"people", "read", "about", "new", "ideas", "in", "many", "good", "old", "books",
}

// Prompt builds request bodies of a calibrated prompt length.
type Prompt struct {
	API   string // "completions" or "chat"
	Model string
	// Words of filler after the four-word unique prefix.
	Words int
	// Tokens the calibration measured for Words (the target when exact).
	Tokens int
	Exact  bool
	// Source: "tokenize" or "usage" (a probe request's usage.prompt_tokens).
	Source string
	// SharedWords of the system prompt every request of the scenario shares
	// (the same text for every user and request, before the unique prefix;
	// 0: none), and SharedTokens, what it adds to a prompt (calibrated).
	// Tokens includes them.
	SharedWords, SharedTokens int
	// MaxModelLen is the server's context (max_model_len of GET /v1/models;
	// 0: unknown), which caps a conversation's turns.
	MaxModelLen int
}

// Path of the API.
func (p *Prompt) Path() string {
	if p.API == "chat" {
		return PathChat
	}
	return PathCompletions
}

// AppendText appends the prompt text of request n with words filler words.
func AppendText(b []byte, n uint64, words int) []byte {
	for d := 0; d < 4; d++ {
		b = append(b, vocab[(n>>(6*(3-d)))&63]...)
		b = append(b, ' ')
	}
	for i := 0; i < words; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, filler[i%len(filler)]...)
	}
	return b
}

// AppendBody appends the JSON body of request n: a streamed request for
// exactly maxTokens output tokens (max_tokens + min_tokens + ignore_eos),
// with usage in the last chunk. words overrides p.Words when >= 0.
func (p *Prompt) AppendBody(b []byte, n uint64, words, maxTokens int) []byte {
	if words < 0 {
		words = p.Words
	}
	b = p.appendOpen(b)
	if p.API == "chat" {
		b = append(b, `{"role":"user","content":"`...)
		b = AppendText(b, n, words)
		b = append(b, `"}`...)
	} else {
		b = AppendText(b, n, words)
	}
	return p.appendClose(b, maxTokens)
}

// Message is one chat message of a recorded prompt.
type Message struct{ Role, Content string }

// AppendRecorded appends the JSON body of request n replaying a recorded
// prompt (text, or chat messages) for exactly maxTokens output tokens.
// The request's unique four-word prefix comes first (completions) or
// opens the first user message (chat), so that a prompt replayed twice
// does not hit the prefix cache, while a recorded system message still
// shares it as the production traffic did.
func (p *Prompt) AppendRecorded(b []byte, n uint64, text string, msgs []Message, maxTokens int) []byte {
	var v any
	field := `,"prompt":`
	if p.API == "chat" {
		v, field = recordedMessages(n, text, msgs), `,"messages":`
	} else {
		v = recordedText(n, text, msgs)
	}
	body, _ := json.Marshal(v)
	b = append(b, `{"model":`...)
	b = strconv.AppendQuote(b, p.Model)
	b = append(b, field...)
	b = append(b, body...)
	b = append(b, `,"max_tokens":`...)
	b = strconv.AppendInt(b, int64(maxTokens), 10)
	b = append(b, `,"min_tokens":`...)
	b = strconv.AppendInt(b, int64(maxTokens), 10)
	return append(b, `,"ignore_eos":true,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`...)
}

// recordedText is a recorded prompt as a completion's text: the unique
// prefix, then the text, or the messages' contents a line each.
func recordedText(n uint64, text string, msgs []Message) string {
	if text == "" {
		parts := make([]string, len(msgs))
		for i, m := range msgs {
			parts[i] = m.Content
		}
		text = strings.Join(parts, "\n")
	}
	return string(AppendText(nil, n, 0)) + text
}

// recordedMessages is a recorded prompt as chat messages, the unique
// prefix opening the first user message (one user message for a text).
func recordedMessages(n uint64, text string, msgs []Message) []map[string]string {
	if len(msgs) == 0 {
		msgs = []Message{{Role: "user", Content: text}}
	}
	out := make([]map[string]string, len(msgs))
	done := false
	for i, m := range msgs {
		c := m.Content
		if !done && m.Role == "user" {
			c, done = string(AppendText(nil, n, 0))+c, true
		}
		out[i] = map[string]string{"role": m.Role, "content": c}
	}
	return out
}

// appendOpen appends a body's start up to its history: the model, then the
// messages array opened with the shared system message (chat), or the
// prompt string opened with the shared text (completions).
func (p *Prompt) appendOpen(b []byte) []byte {
	b = append(b, `{"model":`...)
	b = strconv.AppendQuote(b, p.Model)
	if p.API == "chat" {
		b = append(b, `,"messages":[`...)
		if p.SharedWords > 0 {
			b = append(b, `{"role":"system","content":"`...)
			b = AppendShared(b, p.SharedWords)
			b = append(b, `"},`...)
		}
		return b
	}
	b = append(b, `,"prompt":"`...)
	if p.SharedWords > 0 {
		b = AppendShared(b, p.SharedWords)
		b = append(b, ' ')
	}
	return b
}

// appendClose closes what appendOpen opened and asks for exactly maxTokens
// streamed output tokens.
func (p *Prompt) appendClose(b []byte, maxTokens int) []byte {
	if p.API == "chat" {
		b = append(b, ']')
	} else {
		b = append(b, '"')
	}
	b = append(b, `,"max_tokens":`...)
	b = strconv.AppendInt(b, int64(maxTokens), 10)
	b = append(b, `,"min_tokens":`...)
	b = strconv.AppendInt(b, int64(maxTokens), 10)
	b = append(b, `,"ignore_eos":true,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`...)
	return b
}

// Calibrate finds the number of filler words that gives exactly tokens
// prompt tokens, asking the server's POST /tokenize when it has one, else
// reading usage.prompt_tokens of probe requests (one output token each).
// When no word count hits the target exactly (e.g. a chat template longer
// than the target) the closest is used and Exact is false.
func (c *Client) Calibrate(ctx context.Context, api, model string, tokens int) (*Prompt, error) {
	return c.CalibrateShared(ctx, api, model, tokens, 0)
}

// CalibrateShared is Calibrate for prompts that start with a system prompt
// shared by every request: first the shared text is sized to add shared
// tokens (as close as the words allow), then the unique part's filler so
// that the whole prompt still has tokens tokens.
func (c *Client) CalibrateShared(ctx context.Context, api, model string, tokens, shared int) (*Prompt, error) {
	p := &Prompt{API: api, Model: model}
	count := func(words int) (int, error) {
		return retryTransient(ctx, func() (int, error) { return c.countTokens(ctx, p, words) })
	}
	if _, err := count(0); err == nil {
		p.Source = "tokenize"
	} else {
		p.Source = "usage"
		count = func(words int) (int, error) {
			return retryTransient(ctx, func() (int, error) { return c.probeTokens(ctx, p, words) })
		}
	}
	// base0: the tokens of a prompt with neither shared text nor filler
	// (BOS, template, the unique prefix).
	base0, err := count(0)
	if err != nil {
		return nil, fmt.Errorf("calibrating %d-token prompts: %w", tokens, err)
	}
	if shared > 0 {
		w, _, err := search(func(w int) (int, error) { p.SharedWords = w; return count(0) }, base0, base0+shared)
		if err != nil {
			return nil, fmt.Errorf("calibrating a %d-token shared prefix: %w", shared, err)
		}
		p.SharedWords = w
	}
	// The unique part's filler words add one or two tokens each, so a total
	// that this shared text leaves out of reach is tried again with a word
	// less, then more, of shared text.
	sharedWords := p.SharedWords
	for _, d := range []int{0, -1, 1} {
		if d != 0 && (shared == 0 || sharedWords+d < 1) {
			continue
		}
		p.SharedWords = sharedWords + d
		base := base0
		if p.SharedWords > 0 {
			if base, err = count(0); err != nil {
				return nil, fmt.Errorf("calibrating %d-token prompts: %w", tokens, err)
			}
		}
		best, bestTok, err := search(count, base, tokens)
		if err != nil {
			return nil, fmt.Errorf("calibrating %d-token prompts: %w", tokens, err)
		}
		if d == 0 || bestTok == tokens {
			p.Words, p.Tokens, p.Exact, p.SharedTokens = best, bestTok, bestTok == tokens, base-base0
		}
		if p.Exact {
			return p, nil
		}
	}
	p.SharedWords = sharedWords
	return p, nil
}

// search finds the word count whose token count (count) is closest to
// tokens, from base (the count of zero words): a secant walk, at most 12
// counts.
func search(count func(words int) (int, error), base, tokens int) (best, bestTok int, err error) {
	best, bestTok = 0, base
	if base < tokens {
		w := tokens - base
		seen := map[int]int{0: base}
		for iter := 0; iter < 12; iter++ {
			if w < 0 {
				w = 0
			}
			t, ok := seen[w]
			if !ok {
				if t, err = count(w); err != nil {
					return 0, 0, err
				}
				seen[w] = t
			}
			if abs(t-tokens) < abs(bestTok-tokens) || (abs(t-tokens) == abs(bestTok-tokens) && t <= tokens) {
				best, bestTok = w, t
			}
			if t == tokens {
				break
			}
			perWord := float64(t-base) / math.Max(float64(w), 1)
			if perWord <= 0 {
				perWord = 1
			}
			step := int(math.Round(float64(tokens-t) / perWord))
			if step == 0 {
				if t < tokens {
					step = 1
				} else {
					step = -1
				}
			}
			if _, done := seen[w+step]; done {
				break // oscillating between two neighbours: keep the best
			}
			w += step
		}
	}
	return best, bestTok, nil
}

// WordsFor scales the calibrated word count to another token count (for a
// spread of prompt lengths); approximate.
func (p *Prompt) WordsFor(tokens, nominal int) int {
	if nominal <= 0 || tokens == nominal {
		return p.Words
	}
	w := int(math.Round(float64(p.Words) * float64(tokens) / float64(nominal)))
	if w < 0 {
		w = 0
	}
	return w
}

func (c *Client) countTokens(ctx context.Context, p *Prompt, words int) (int, error) {
	text := string(AppendText(nil, 0, words))
	shared := string(AppendShared(nil, p.SharedWords))
	var body any
	if p.API == "chat" {
		msgs := []map[string]string{{"role": "user", "content": text}}
		if p.SharedWords > 0 {
			msgs = append([]map[string]string{{"role": "system", "content": shared}}, msgs...)
		}
		body = map[string]any{"model": p.Model, "messages": msgs}
	} else {
		if p.SharedWords > 0 {
			text = shared + " " + text
		}
		body = map[string]any{"model": p.Model, "prompt": text}
	}
	return c.tokenize(ctx, body)
}

// CountRecorded counts a recorded prompt's tokens with the server's POST
// /tokenize, as AppendRecorded sends it (the unique prefix included).
func (c *Client) CountRecorded(ctx context.Context, p *Prompt, text string, msgs []Message) (int, error) {
	var body any
	if p.API == "chat" {
		body = map[string]any{"model": p.Model, "messages": recordedMessages(0, text, msgs)}
	} else {
		body = map[string]any{"model": p.Model, "prompt": recordedText(0, text, msgs)}
	}
	return c.tokenize(ctx, body)
}

// CountText counts a bare text's tokens with the server's POST /tokenize,
// without special tokens: a recorded answer's length.
func (c *Client) CountText(ctx context.Context, model, text string) (int, error) {
	return c.tokenize(ctx, map[string]any{"model": model, "prompt": text, "add_special_tokens": false})
}

// tokenize asks the server's POST /tokenize to count a prompt's tokens.
func (c *Client) tokenize(ctx context.Context, body any) (int, error) {
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodPost, "/tokenize", b)
	if err != nil {
		return 0, err
	}
	resp, err := c.do(req)
	if errors.Is(err, ErrOversized) {
		return 0, fmt.Errorf("POST /tokenize: %w", err)
	}
	if err != nil {
		return 0, transientError{err}
	}
	defer resp.Body.Close()
	data, err := ReadLimited(resp.Body, MaxTokenizeBytes, "POST /tokenize answer")
	if errors.Is(err, ErrOversized) {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("POST /tokenize: HTTP %d", resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return 0, transientError{err}
		}
		return 0, err
	}
	var out struct {
		Count  *int  `json:"count"`
		Tokens []int `json:"tokens"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return 0, fmt.Errorf("POST /tokenize: %v", err)
	}
	if out.Count != nil {
		return *out.Count, nil
	}
	if out.Tokens != nil {
		return len(out.Tokens), nil
	}
	return 0, fmt.Errorf("POST /tokenize: no count or tokens in the answer")
}

func (c *Client) probeTokens(ctx context.Context, p *Prompt, words int) (int, error) {
	s := c.NewStream()
	var r Result
	body := p.AppendBody(nil, 0, words, 1)
	s.Do(ctx, 60*time.Second, p.Path(), body, Window{}, nil, &r)
	if r.ErrKind != "" || r.Incomplete {
		err := fmt.Errorf("probe request: %s: %v", r.ErrKind, r.Err)
		switch {
		case r.Incomplete, r.ErrKind == results.ErrMalformedChunk,
			strings.HasPrefix(r.ErrKind, "http_4") && r.StatusCode != http.StatusTooManyRequests:
			return 0, err
		}
		return 0, transientError{err} // 429, 5xx, connect, timeout, broken stream, error object
	}
	if !r.HasUsage {
		return 0, fmt.Errorf("probe request: no usage in the stream (the server ignores stream_options.include_usage) and no POST /tokenize")
	}
	return r.PromptTokens, nil
}

// transientError is a calibration failure worth retrying: the server was
// unreachable, overloaded (429), failed (5xx) or broke the stream.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// retryTransient calls f up to four times while it fails transiently,
// pausing 0.5, 1 and 1.5 s: one failed request of a flaky server must not
// end a sweep before its first step.
func retryTransient(ctx context.Context, f func() (int, error)) (int, error) {
	for attempt := 1; ; attempt++ {
		n, err := f()
		var te transientError
		if err == nil || attempt == 4 || !errors.As(err, &te) {
			return n, err
		}
		t := time.NewTimer(time.Duration(attempt) * 500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, err
		case <-t.C:
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ProbeLengths sends one real request of the given prompt length (words
// filler words) and max_tokens, and aborts it as soon as the server has
// accepted it: a server that refuses the lengths (prompt + max_tokens over
// its context) answers 4xx before it streams. The error is a *CheckError
// carrying the server's own message; 5xx, 429 and unreachable servers are
// Transient.
func (c *Client) ProbeLengths(ctx context.Context, p *Prompt, words, maxTokens int) error {
	c.inFlight.Add(1) // ours, while the server holds it (Load)
	defer c.inFlight.Add(-1)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel() // also aborts the accepted request
	body := p.AppendBody(nil, 1<<62, words, maxTokens)
	req, err := c.newRequest(ctx, http.MethodPost, p.Path(), body)
	if err != nil {
		return &CheckError{Msg: fmt.Sprintf("invalid URL %q: %v", c.base, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.do(req)
	if errors.Is(err, ErrOversized) {
		return &CheckError{Msg: fmt.Sprintf("POST %s%s answered %v", c.base, p.Path(), err)}
	}
	if err != nil {
		return &CheckError{Msg: fmt.Sprintf("cannot reach %s: %v", c.base, unwrapURLError(err)), Transient: true}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	ce := &CheckError{Msg: fmt.Sprintf("POST %s%s answered HTTP %d: %s", c.base, p.Path(), resp.StatusCode, c.redact(ErrorMessage(msg)))}
	ce.Transient = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	return ce
}
