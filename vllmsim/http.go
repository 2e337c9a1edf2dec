package vllmsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const maxBodyBytes = 32 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { s.serveGenerate(w, r, false) })
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.serveGenerate(w, r, true) })
	mux.HandleFunc("GET /v1/models", s.serveModels)
	mux.HandleFunc("GET /health", s.serveHealth)
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": Version})
	})
	mux.HandleFunc("POST /tokenize", s.serveTokenize)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /admin/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) })
	mux.HandleFunc("POST /admin/faults", s.serveSetFaults)
	return mux
}

// errorTypes follow the OpenAI error classes vLLM reports.
var errorTypes = map[int]string{
	400: "BadRequestError", 404: "NotFoundError", 429: "RateLimitError",
	500: "InternalServerError", 503: "ServiceUnavailableError",
}

// writeError answers like vLLM: {"error": {"message", "type", "param", "code"}}.
func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	typ := errorTypes[code]
	if typ == "" {
		typ = http.StatusText(code)
	}
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"message": fmt.Sprintf(format, args...), "type": typ, "param": nil, "code": code,
	}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// decodeBody reads a JSON body; the error is fit for a 400 message.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, strict bool) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON body: trailing data after the object")
	}
	return nil
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if s.starting() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) serveModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{map[string]any{
		"id": s.cfg.Model, "object": "model", "created": s.created, "owned_by": "vllm",
		"root": s.cfg.Model, "parent": nil, "max_model_len": s.cfg.MaxModelLen,
	}}})
}

func (s *Server) serveSetFaults(w http.ResponseWriter, r *http.Request) {
	f := s.Faults() // fields left out of the body keep their value
	if err := decodeBody(w, r, &f, true); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

// chatMessageIn accepts content as a string or as an array of text parts.
type chatMessageIn struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (m chatMessageIn) text() (string, error) {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 || string(c) == "null" {
		return "", nil
	}
	var s string
	if c[0] == '"' {
		err := json.Unmarshal(c, &s)
		return s, err
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(c, &parts); err != nil {
		return "", errors.New("message content must be a string or an array of text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("content part type %q is not supported", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

func renderMessages(in []chatMessageIn, addGenerationPrompt bool) (string, error) {
	msgs := make([]ChatMessage, len(in))
	for i, m := range in {
		t, err := m.text()
		if err != nil {
			return "", fmt.Errorf("messages[%d]: %v", i, err)
		}
		msgs[i] = ChatMessage{Role: m.Role, Content: t}
	}
	return RenderChat(msgs, addGenerationPrompt), nil
}

// promptIDs turns a completions prompt (a string, a one-element list of
// strings, or token ids) into token ids.
func promptIDs(raw json.RawMessage, addSpecial bool) ([]int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("prompt is required")
	}
	var str string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &str); err != nil {
			return nil, err
		}
		return textIDs(str, addSpecial), nil
	}
	var strs []string
	if err := json.Unmarshal(raw, &strs); err == nil {
		if len(strs) != 1 {
			return nil, errors.New("the simulator serves one prompt per request")
		}
		return textIDs(strs[0], addSpecial), nil
	}
	var ids []int
	if err := json.Unmarshal(raw, &ids); err == nil {
		return ids, nil
	}
	var batch [][]int
	if err := json.Unmarshal(raw, &batch); err == nil && len(batch) == 1 {
		return batch[0], nil
	}
	return nil, errors.New("prompt must be a string, a list with one string, or token ids")
}

func textIDs(text string, addSpecial bool) []int {
	ids := Tokenize(text)
	if !addSpecial {
		ids = ids[1:]
	}
	return ids
}

type tokenizeRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessageIn `json:"messages"`
	AddGenerationPrompt *bool           `json:"add_generation_prompt"`
	AddSpecialTokens    *bool           `json:"add_special_tokens"`
}

// serveTokenize answers like vLLM's /tokenize with the simulator's token
// rule: the counts equal usage.prompt_tokens of the same prompt.
func (s *Server) serveTokenize(w http.ResponseWriter, r *http.Request) {
	var req tokenizeRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !s.modelOK(w, req.Model) {
		return
	}
	addSpecial := req.AddSpecialTokens == nil || *req.AddSpecialTokens
	var ids []int
	var err error
	if req.Messages != nil {
		var text string
		text, err = renderMessages(req.Messages, req.AddGenerationPrompt == nil || *req.AddGenerationPrompt)
		ids = textIDs(text, addSpecial)
	} else {
		ids, err = promptIDs(req.Prompt, addSpecial)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(ids), "max_model_len": s.cfg.MaxModelLen, "tokens": ids, "token_strs": nil})
}

func (s *Server) modelOK(w http.ResponseWriter, model string) bool {
	if model != "" && model != s.cfg.Model {
		writeError(w, http.StatusNotFound, "The model `%s` does not exist.", model)
		return false
	}
	return true
}

type generateRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessageIn `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	MinTokens           int             `json:"min_tokens"`
	IgnoreEOS           bool            `json:"ignore_eos"`
	Stream              bool            `json:"stream"`
	N                   *int            `json:"n"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// parse validates a request as vLLM does and fills the admission.
func (s *Server) parse(req *generateRequest, chat bool, a *admission) error {
	var err error
	if chat {
		if len(req.Messages) == 0 {
			return errors.New("messages must not be empty")
		}
		var text string
		if text, err = renderMessages(req.Messages, true); err != nil {
			return err
		}
		a.ids = Tokenize(text)
	} else if a.ids, err = promptIDs(req.Prompt, true); err != nil {
		return err
	}
	a.prompt = len(a.ids)
	if a.prompt == 0 {
		return errors.New("prompt must not be empty")
	}
	if req.N != nil && *req.N != 1 {
		return errors.New("the simulator serves n=1 only")
	}
	mt := req.MaxTokens
	if chat && req.MaxCompletionTokens != nil {
		mt = req.MaxCompletionTokens
	}
	switch {
	case mt != nil:
		a.maxTokens = *mt
	case chat:
		a.maxTokens = s.cfg.MaxModelLen - a.prompt
	default:
		a.maxTokens = 16 // vLLM's default for /v1/completions
	}
	if a.prompt >= s.cfg.MaxModelLen || a.prompt+a.maxTokens > s.cfg.MaxModelLen {
		return fmt.Errorf("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			s.cfg.MaxModelLen, a.prompt+max(a.maxTokens, 0), a.prompt, max(a.maxTokens, 0))
	}
	if a.maxTokens < 1 {
		return fmt.Errorf("max_tokens must be at least 1, got %d", a.maxTokens)
	}
	if req.MinTokens < 0 || req.MinTokens > a.maxTokens {
		return fmt.Errorf("min_tokens must be within 0..max_tokens (%d), got %d", a.maxTokens, req.MinTokens)
	}
	a.minTokens = req.MinTokens
	a.ignoreEOS = req.IgnoreEOS
	a.stream = req.Stream
	a.usage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	if !a.stream && req.StreamOptions != nil {
		return errors.New("stream_options can only be set when stream is true")
	}
	return nil
}

// serveGenerate handles /v1/completions and /v1/chat/completions.
func (s *Server) serveGenerate(w http.ResponseWriter, r *http.Request, chat bool) {
	a := admission{arrival: time.Now(), chat: chat}
	if s.starting() {
		writeError(w, http.StatusServiceUnavailable, "the server is starting")
		return
	}
	var req generateRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !s.modelOK(w, req.Model) {
		return
	}
	if err := s.parse(&req, chat, &a); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !s.eng.fits(a.prompt, a.maxTokens) { // immutable after New: no lock needed
		writeError(w, http.StatusBadRequest, "prompt (%d tokens) plus max_tokens (%d) exceed the KV cache (%d tokens)", a.prompt, a.maxTokens, s.cfg.KVCacheTokens)
		return
	}
	status, maxWaiting := s.decideFaults(&a)
	if status != 0 {
		writeError(w, status, "injected fault: %s", http.StatusText(status))
		return
	}
	id := s.nextID.Add(1)
	sq := &seq{id: id, prompt: a.prompt, arrival: a.arrival, notify: make(chan struct{}, 1)}
	sq.target, sq.stopReason = s.target(&a)
	if s.cfg.PrefixCaching {
		sq.blockHashes = blockHashes(a.ids, s.cfg.BlockSize)
		sq.promptIDs, sq.textSeed = a.ids, textSeed(s.cfg.Seed, id)
	}
	s.mu.Lock()
	if maxWaiting > 0 && s.eng.numWaiting() >= maxWaiting {
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, "the waiting queue is full (%d requests)", maxWaiting)
		return
	}
	s.eng.add(sq)
	s.mu.Unlock()
	s.signal()
	finished := false
	defer func() {
		if !finished {
			s.mu.Lock()
			s.eng.cancel(sq)
			s.mu.Unlock()
			s.signal()
		}
	}()
	o := output{s: s, sq: sq, a: &a, textSeed: textSeed(s.cfg.Seed, id)}
	o.prefix(chat, id)
	if a.stream {
		finished = o.stream(w, r)
	} else {
		finished = o.whole(w, r)
	}
}

// textSeed is the seed of request id's generated text (outputWord).
func textSeed(seed int64, id uint64) uint64 { return uint64(seed)*0x9E3779B97F4A7C15 ^ id }

// output writes one request's tokens as the engine publishes them.
type output struct {
	s        *Server
	sq       *seq
	a        *admission
	textSeed uint64
	id       string
	object   string
	head     []byte // `data: {"id":...,"choices":[{"index":0,` shared by every chunk
}

func (o *output) prefix(chat bool, id uint64) {
	if chat {
		o.id, o.object = fmt.Sprintf("chatcmpl-%016x", id^uint64(o.s.cfg.Seed)<<40), "chat.completion.chunk"
	} else {
		o.id, o.object = fmt.Sprintf("cmpl-%016x", id^uint64(o.s.cfg.Seed)<<40), "text_completion"
	}
	o.head = fmt.Appendf(nil, `data: {"id":%q,"object":%q,"created":%d,"model":%s,"choices":`,
		o.id, o.object, o.a.arrival.Unix(), o.s.modelJSON)
}

// next waits until the engine has produced more than have tokens; false
// when the client or the server went away.
func (o *output) next(r *http.Request, have int) (int, bool) {
	for {
		if n := int(o.sq.produced.Load()); n > have {
			return n, true
		}
		select {
		case <-o.sq.notify:
		case <-r.Context().Done():
			return have, false
		case <-o.s.closed:
			return have, false
		}
	}
}

// pause waits d unless the client or the server goes away first.
func (o *output) pause(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-o.s.closed:
	}
	return false
}

// abort cuts the connection without finishing the response, as a crashed
// or disconnected server would.
func abort(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // HTTP/2: the standard way to reset the stream
}

// stream writes SSE chunks: one per token, flushed per batch of tokens the
// engine published, each carrying sim_t_ns; it returns true when the
// request ran to its end.
func (o *output) stream(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	buf := make([]byte, 0, 4096)
	if o.a.chat {
		buf = append(buf, o.head...)
		buf = append(buf, `[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`+"\n\n"...)
	}
	flush := func() bool {
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return false
			}
			buf = buf[:0]
		}
		return rc.Flush() == nil
	}
	if !flush() {
		return false
	}
	target := o.sq.target
	var ttft time.Duration
	written := 0
	for written < target {
		n, ok := o.next(r, written)
		if !ok {
			return false
		}
		for ; written < n; written++ {
			if written == o.a.stallAt {
				if !flush() || !o.pause(r, o.a.stall) {
					return false
				}
			}
			if written == o.a.disconnect {
				flush()
				o.cancel()
				abort(w)
				return true
			}
			t := time.Since(o.a.arrival)
			if written == 0 {
				ttft = t
			}
			buf = append(buf, o.head...)
			word := outputWord(o.textSeed, written)
			if o.a.chat {
				buf = append(buf, `[{"index":0,"delta":{"content":"`...)
				buf = append(buf, word...)
				buf = append(buf, `"},"logprobs":null,"finish_reason":`...)
			} else {
				buf = append(buf, `[{"index":0,"text":"`...)
				buf = append(buf, word...)
				buf = append(buf, `","logprobs":null,"finish_reason":`...)
			}
			if written == target-1 {
				buf = append(buf, '"')
				buf = append(buf, o.sq.stopReason...)
				buf = append(buf, '"')
			} else {
				buf = append(buf, "null"...)
			}
			if !o.a.chat {
				buf = append(buf, `,"stop_reason":null`...)
			}
			buf = append(buf, `}],"sim_t_ns":`...)
			buf = strconv.AppendInt(buf, t.Nanoseconds(), 10)
			buf = append(buf, "}\n\n"...)
		}
		if !flush() {
			return false
		}
	}
	if o.a.usage {
		buf = append(buf, o.head...)
		buf = append(buf, `[],"usage":`...)
		buf = o.appendUsage(buf, target, ttft)
		buf = append(buf, "}\n\n"...)
	}
	buf = append(buf, "data: [DONE]\n\n"...)
	flush()
	return true
}

// cancel aborts the request in the engine (an injected disconnect).
func (o *output) cancel() {
	o.s.mu.Lock()
	o.s.eng.cancel(o.sq)
	o.s.mu.Unlock()
	o.s.signal()
}

func (o *output) appendUsage(buf []byte, completion int, ttft time.Duration) []byte {
	return fmt.Appendf(buf, `{"prompt_tokens":%d,"total_tokens":%d,"completion_tokens":%d,"server_ttft_seconds":%s}`,
		o.a.prompt, o.a.prompt+completion, completion, strconv.FormatFloat(ttft.Seconds(), 'f', -1, 64))
}

// whole waits for every token and writes one JSON response.
func (o *output) whole(w http.ResponseWriter, r *http.Request) bool {
	target := o.sq.target
	var text strings.Builder
	have := 0
	for have < target {
		n, ok := o.next(r, have)
		if !ok {
			return false
		}
		for ; have < n; have++ {
			if have == o.a.disconnect {
				o.cancel()
				abort(w)
				return true
			}
			text.WriteString(outputWord(o.textSeed, have))
		}
	}
	if o.a.stallAt >= 0 && !o.pause(r, o.a.stall) {
		return false
	}
	ttft := o.sq.firstTok.Sub(o.a.arrival) // published before produced: safe to read now
	choice := map[string]any{"index": 0, "logprobs": nil, "finish_reason": o.sq.stopReason, "stop_reason": nil}
	object := "text_completion"
	if o.a.chat {
		object = "chat.completion"
		choice["message"] = map[string]any{"role": "assistant", "content": text.String(), "tool_calls": []any{}}
	} else {
		choice["text"] = text.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": o.id, "object": object, "created": o.a.arrival.Unix(), "model": o.s.cfg.Model,
		"choices": []any{choice},
		"usage":   json.RawMessage(o.appendUsage(nil, target, ttft)),
	})
	return true
}
