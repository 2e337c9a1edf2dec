// Package hostile holds broken or hostile OpenAI-compatible servers for
// tests: each answers /v1/models, /tokenize and /metrics like a small model
// server serving model "m1", and misbehaves in one way (an endless SSE line,
// endless chunks, a huge /metrics, gzip bombs, headers that never end, one
// byte a second). They bound nothing themselves: they write until the
// client hangs up, so a client that does not bound its reads runs out of
// memory or time.
package hostile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Model is the model every server serves.
const Model = "m1"

// Behaviours.
const (
	SSELine   = "sse-line"   // a stream of "data: " and then 64 KiB chunks, never a newline
	Chunks    = "chunks"     // valid content chunks, without end, past max_tokens
	Metrics   = "metrics"    // an endless /metrics page; good streams
	GzipBomb  = "gzip-bomb"  // /metrics and /tokenize: endless gzip of comment lines; good streams
	Headers   = "headers"    // a stream answer whose headers never end
	SlowBytes = "slow-bytes" // a stream of one byte a second
)

// All behaviours, in the order the tests run them.
var All = []string{SSELine, Chunks, Metrics, GzipBomb, Headers, SlowBytes}

// Server is a hostile server's handler and what it has seen.
type Server struct {
	Behaviour string
	// TokenDelay paces the good streams (default 2 ms a token).
	TokenDelay time.Duration
	// Streams: completion requests received (pre-flight probes included).
	Streams atomic.Int64
}

// New returns the server of a behaviour (one of All).
func New(behaviour string) *Server {
	return &Server{Behaviour: behaviour, TokenDelay: 2 * time.Millisecond}
}

// ServeHTTP routes the OpenAI-compatible paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/models":
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model","max_model_len":4096}]}`, Model)
	case "/tokenize":
		if s.Behaviour == GzipBomb {
			gzipBomb(w, r)
			return
		}
		s.tokenize(w, r)
	case "/metrics":
		switch s.Behaviour {
		case Metrics:
			endlessMetrics(w, r)
		case GzipBomb:
			gzipBomb(w, r)
		default:
			fmt.Fprintf(w, "vllm:num_requests_waiting{model_name=%q} 0\nvllm:num_requests_running{model_name=%q} 0\n", Model, Model)
		}
	case "/v1/completions", "/v1/chat/completions":
		s.Streams.Add(1)
		s.stream(w, r)
	default:
		http.NotFound(w, r)
	}
}

// request is what the servers read of a completion request.
type request struct {
	Prompt    string `json:"prompt"`
	MaxTokens int    `json:"max_tokens"`
}

// tokenize counts a token a word, plus one.
func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) {
	var q request
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, `{"count":%d}`, len(strings.Fields(q.Prompt))+1)
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	var q request
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.Behaviour == Headers {
		endlessHeaders(w)
		return
	}
	f := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f.Flush()
	ctx := r.Context()
	switch s.Behaviour {
	case SSELine:
		w.Write([]byte("data: "))
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for ctx.Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			f.Flush()
		}
	case Chunks:
		chunk := []byte(`data: {"choices":[{"index":0,"text":" x","finish_reason":null}]}` + "\n\n")
		batch := bytes.Repeat(chunk, (16<<10)/len(chunk))
		for ctx.Err() == nil {
			if _, err := w.Write(batch); err != nil {
				return
			}
			f.Flush()
		}
	case SlowBytes:
		msg := `data: {"choices":[{"index":0,"text":" x"}]}` + "\n\n"
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 0; ; i++ {
			if _, err := w.Write([]byte{msg[i%len(msg)]}); err != nil {
				return
			}
			f.Flush()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	default:
		s.goodStream(w, f, r, q)
	}
}

// goodStream streams max_tokens chunks, the usage and [DONE].
func (s *Server) goodStream(w http.ResponseWriter, f http.Flusher, r *http.Request, q request) {
	n := max(q.MaxTokens, 1)
	t := time.NewTicker(s.TokenDelay)
	defer t.Stop()
	for i := 0; i < n; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":\" x\",\"finish_reason\":null}]}\n\n")
		f.Flush()
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n",
		len(strings.Fields(q.Prompt))+1, n)
	f.Flush()
}

// endlessMetrics writes an exposition that never ends: valid samples, one
// series after another.
func endlessMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "vllm:num_requests_waiting{model_name=%q} 0\n", Model)
	for i := 0; r.Context().Err() == nil; i++ {
		if _, err := fmt.Fprintf(bw, "padding_series_total{model_name=%q,i=\"%d\"} %d\n", Model, i, i); err != nil {
			return
		}
	}
}

// gzipBomb answers 200 with a gzip body that inflates without end to
// comment lines (a valid exposition, so only a limit ends it): one member,
// 64 MiB in about 64 KiB, sent again and again (a gzip reader reads
// concatenated members as one stream).
func gzipBomb(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Type", "application/json")
	bombOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		lines := bytes.Repeat([]byte("# padding\n"), 1<<17)
		for range 64 {
			zw.Write(lines[:1<<20])
		}
		zw.Close()
		bomb = b.Bytes()
	})
	for r.Context().Err() == nil {
		if _, err := w.Write(bomb); err != nil {
			return
		}
	}
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// endlessHeaders takes the connection over and sends a status line and
// header lines without end.
func endlessHeaders(w http.ResponseWriter) {
	conn, bw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
	line := "X-Padding: " + strings.Repeat("p", 1000) + "\r\n"
	for {
		if _, err := bw.WriteString(line); err != nil {
			return
		}
		if bw.Writer.Buffered() > 32<<10 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}
