package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Paths of the two APIs.
const (
	PathCompletions = "/v1/completions"
	PathChat        = "/v1/chat/completions"
)

var doneMarker = []byte("[DONE]")

// Client talks to one OpenAI-compatible server.
type Client struct {
	base   string
	apiKey string
	hc     *http.Client
	// inFlight and finished count the load's requests (Stream.Do): what
	// the server's own gauges and counters are compared with, to see
	// requests that are not ours.
	inFlight, finished atomic.Int64
}

// Load is the number of the load's requests in flight now, and finished so
// far (successful, failed or aborted).
func (c *Client) Load() (inFlight, finished int64) { return c.inFlight.Load(), c.finished.Load() }

// Options of a Client.
type Options struct {
	// APIKey is sent as a bearer token (never logged).
	APIKey string
	// MaxConns sizes the idle pool (at least the step's concurrency). The
	// number of connections per host is never capped.
	MaxConns int
	// RootCAs, when set, are the certificates the server's TLS is trusted
	// with (the system roots plus, on OpenShift, the service CA that signs a
	// model auth proxy's certificate); nil trusts the system roots.
	RootCAs *x509.CertPool
	// Addr, when set, is the IP address every connection dials in place of
	// the URL host's addresses (the port, the Host header and the TLS
	// server name stay the URL's): the load and /metrics of a headless
	// Service's name go to one replica, the same one (Pin).
	Addr string
}

// Pin makes a dial function dial addr (an IP address) in place of the host
// it is asked for, keeping the port: a name that resolves to several
// replicas is then one server, whatever the resolver's order.
func Pin(addr string, dial func(ctx context.Context, network, address string) (net.Conn, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	if addr == "" {
		return dial
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		return dial(ctx, network, net.JoinHostPort(addr, port))
	}
}

// NewTransport returns the transport of the load engine: keep-alive, no cap
// on connections per host, an idle pool as large as the concurrency, no
// compression (it would delay chunks).
func NewTransport(maxConns int) *http.Transport {
	if maxConns < 64 {
		maxConns = 64
	}
	return &http.Transport{
		Proxy: nil,
		// Connections read outside Go's poller, with the kernel's receive
		// time of each chunk (rxconn_linux.go).
		DialContext:         dialStream(&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}),
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: maxConns,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		// Per connection, so per stream: requests are a prompt and chunks
		// a few hundred bytes; larger ones take more than one read or write.
		WriteBufferSize: 4 << 10,
		ReadBufferSize:  4 << 10,
		// A server's headers are bounded like its bodies (limits.go).
		MaxResponseHeaderBytes: MaxHeaderBytes,
	}
}

// New returns a client for baseURL (without /v1).
func New(baseURL string, o Options) *Client {
	return &Client{
		base:   strings.TrimRight(baseURL, "/"),
		apiKey: o.APIKey,
		hc:     &http.Client{Transport: transport(o)},
	}
}

func transport(o Options) *http.Transport {
	tr := NewTransport(o.MaxConns)
	tr.DialContext = Pin(o.Addr, tr.DialContext)
	if o.RootCAs != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// CertPool is the system roots plus the PEM certificates in caFile; nil
// (the system roots alone) when caFile is "".
func CertPool(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// CloseIdle closes idle connections.
func (c *Client) CloseIdle() { c.hc.CloseIdleConnections() }

func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "text/event-stream, application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	return req, nil
}

// Result of one streamed request. The zero value is ready; Stream.Do resets it.
type Result struct {
	Start, FirstToken, End time.Time
	// LastToken is when the last content chunk arrived (zero when none).
	LastToken time.Time
	// Chunks: content chunks received; WindowChunks: those that arrived
	// inside the window passed to Do.
	Chunks, WindowChunks int
	HasUsage             bool
	PromptTokens         int
	CompletionTokens     int
	// ServerTTFT from the stream's timestamps (vllm-sim), when present.
	HasServerTTFT bool
	ServerTTFT    time.Duration
	// ErrKind is "" for a successful request; Incomplete marks a request
	// cancelled by the caller's context.
	ErrKind    string
	Err        error
	Incomplete bool
	StatusCode int
}

// TTFT of the request (0 when no token arrived).
func (r *Result) TTFT() time.Duration {
	if r.FirstToken.IsZero() {
		return 0
	}
	return r.FirstToken.Sub(r.Start)
}

// OutputTokens: usage.completion_tokens, else the content chunks.
func (r *Result) OutputTokens() int {
	if r.HasUsage {
		return r.CompletionTokens
	}
	return r.Chunks
}

// Observer receives inter-token gaps (nil: not recorded).
type Observer interface{ Observe(time.Duration) }

// Stream runs requests one after another for one worker, reusing its
// buffers. Not safe for concurrent use.
type Stream struct {
	c     *Client
	sse   *SSEReader
	chunk Chunk
	// ITLSkew, when not nil, receives for each pair of successive content
	// chunks that both carry the server's sim_t_ns: the client's gap
	// between their arrivals minus the server's gap between their writes
	// (positive: the client saw the gap longer than the server wrote it).
	// Set it between requests, not during Do.
	ITLSkew Observer
	// Tokens, when not nil, is incremented for every content chunk, as it
	// arrives: the load engine reads it at the edges of a window whose end
	// is decided while requests are in flight.
	Tokens *atomic.Int64
	// Activity, when not nil, holds the time (UnixNano) of the request's
	// start and then of its latest content chunk, so the load engine can
	// tell a stream that progresses from one that has gone silent.
	Activity *atomic.Int64
	// First, when not nil, holds the time (UnixNano) of the request's first
	// content chunk, 0 until it arrives, so the load engine can judge the
	// TTFT of requests still in flight.
	First *atomic.Int64
	// Capture keeps the generated text of each request in Text (still
	// JSON-escaped), for a conversation's next turn; Do resets Text.
	Capture bool
	Text    []byte
	// body bounds the response being read (limits.go).
	body limitedReader
	// conn: the request's connection when it knows when data reached this
	// host (rxconn_linux.go); trace finds it.
	conn  arrivalConn
	trace *httptrace.ClientTrace
}

// arrivalConn is a connection that tells when the data last read from it
// reached this host.
type arrivalConn interface{ Arrival(now time.Time) time.Time }

// gotConn keeps the request's connection (under TLS, the one below it).
func (s *Stream) gotConn(info httptrace.GotConnInfo) {
	c := info.Conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	s.conn, _ = c.(arrivalConn)
}

// sseBufferSize is the SSE reader's buffer of each stream: chunks are a
// few hundred bytes and longer lines are joined by the reader, so a small
// buffer only keeps the memory per stream low (thousands of streams).
const sseBufferSize = 4 << 10

// NewStream returns a worker's stream on c.
func (c *Client) NewStream() *Stream {
	s := &Stream{c: c, sse: NewSSEReader(sseBufferSize)}
	s.trace = &httptrace.ClientTrace{GotConn: s.gotConn}
	return s
}

// Window bounds the period whose content chunks are counted in
// Result.WindowChunks.
type Window struct{ Start, End time.Time }

// Do sends one streaming request and reads the stream to its end. body is
// the JSON request (pass a fresh slice per call: the transport may still
// read it after Do returns), path one of the Path constants. parent is the caller's
// context: when it is cancelled the request is incomplete; timeout bounds the
// request itself. itl, when not nil, receives the gaps between content chunks.
// What is read is bounded (limits.go): a line, an event, the headers, and
// the whole stream by the body's max_tokens.
func (s *Stream) Do(parent context.Context, timeout time.Duration, path string, body []byte, win Window, itl Observer, r *Result) {
	*r = Result{}
	s.Text = s.Text[:0]
	s.c.inFlight.Add(1)
	defer func() { s.c.finished.Add(1); s.c.inFlight.Add(-1) }()
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	// A fresh reader per request: the transport may still read the body
	// after the response arrived (a server answering before reading it).
	s.conn = nil
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, s.trace), http.MethodPost, s.c.base+path, bytes.NewReader(body))
	if err != nil {
		r.fail(results.ErrConnect, err)
		return
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if s.c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.c.apiKey)
	}
	r.Start = time.Now()
	if s.Activity != nil {
		s.Activity.Store(r.Start.UnixNano())
	}
	if s.First != nil {
		s.First.Store(0)
	}
	resp, err := s.c.do(req)
	if err != nil {
		r.End = time.Now()
		r.classify(parent, ctx, err, results.ErrConnect)
		return
	}
	// Closed, not drained, whatever the outcome: a stream cut at a limit
	// drops its connection.
	defer resp.Body.Close()
	r.StatusCode = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		r.End = time.Now()
		r.fail("http_"+strconv.Itoa(resp.StatusCode), fmt.Errorf("HTTP %d: %s", resp.StatusCode, s.c.redact(ErrorMessage(msg))))
		return
	}
	// The stream is bounded by the max_tokens it was asked for: its
	// events (kind overlong) and its bytes (kind oversized).
	maxTokens := maxTokensOf(body)
	limit := int64(StreamBytesBase)
	maxEvents := 0 // max_tokens unknown: the bytes' bound alone
	if maxTokens > 0 {
		limit += StreamBytesPerToken * int64(maxTokens)
		maxEvents = MaxEvents(maxTokens)
	}
	s.body = limitedReader{r: resp.Body, left: limit, limit: limit, what: "streamed response"}
	s.sse.Reset(&s.body)
	var lastSim int64 // sim_t_ns of the previous content chunk (-1: none)
	lastSim = -1
	for events := 1; ; events++ {
		data, err := s.sse.Next()
		now := time.Now()
		if err == nil && s.conn != nil {
			// An event's time is when its bytes reached this host,
			// not when this goroutine got to them.
			now = s.conn.Arrival(now)
		}
		if err != nil {
			r.End = now
			if err == io.EOF {
				r.fail(results.ErrBrokenStream, errors.New("stream ended without [DONE]"))
				if parent.Err() != nil {
					r.ErrKind, r.Incomplete = "", true
				}
				return
			}
			r.classify(parent, ctx, err, results.ErrBrokenStream)
			return
		}
		if bytes.Equal(bytes.TrimSpace(data), doneMarker) {
			r.End = now
			drainEnd(resp.Body, cancel)
			return
		}
		if maxEvents > 0 && events > maxEvents {
			r.End = now
			r.fail(results.ErrOverlong, fmt.Errorf("the stream went on past %d events (max_tokens %d) without [DONE]", maxEvents, maxTokens))
			return
		}
		if err := ParseChunk(data, &s.chunk); err != nil {
			r.End = now
			r.fail(results.ErrMalformedChunk, err)
			return
		}
		ch := &s.chunk
		if ch.Error {
			r.End = now
			r.fail(results.ErrStreamError, errors.New("error object in stream"))
			return
		}
		if ch.Content {
			if s.Capture {
				s.Text = AppendContent(s.Text, data)
			}
			r.Chunks++
			if s.Tokens != nil {
				s.Tokens.Add(1)
			}
			if s.Activity != nil {
				s.Activity.Store(now.UnixNano())
			}
			if !now.Before(win.Start) && now.Before(win.End) {
				r.WindowChunks++
			}
			if r.FirstToken.IsZero() {
				r.FirstToken = now
				if s.First != nil {
					s.First.Store(now.UnixNano())
				}
				if ch.HasSimT {
					r.HasServerTTFT, r.ServerTTFT = true, time.Duration(ch.SimTNs)
				}
			} else {
				gap := now.Sub(r.LastToken)
				if itl != nil {
					itl.Observe(gap)
				}
				if s.ITLSkew != nil && ch.HasSimT && lastSim >= 0 {
					s.ITLSkew.Observe(gap - time.Duration(ch.SimTNs-lastSim))
				}
			}
			r.LastToken = now
			lastSim = -1
			if ch.HasSimT {
				lastSim = ch.SimTNs
			}
		}
		if ch.HasUsage {
			r.HasUsage = true
			r.PromptTokens, r.CompletionTokens = int(ch.PromptTokens), int(ch.CompletionTokens)
		}
		if ch.HasServerTTFT && !r.HasServerTTFT {
			r.HasServerTTFT, r.ServerTTFT = true, time.Duration(ch.ServerTTFTSeconds*1e9)
		}
	}
}

// After [DONE] the body's end (the chunked terminator) is read, so that
// the connection goes back to the pool: closed before its end, it would be
// dropped, and a server that writes the end on its own (vLLM under uvicorn)
// would cost every request a new connection (a TLS handshake behind an
// auth proxy). The wait is bounded in bytes and time; the request's time
// already ended at [DONE].
const (
	drainBytes = 4 << 10
	drainWait  = time.Second
)

func drainEnd(body io.Reader, cancel context.CancelFunc) {
	t := time.AfterFunc(drainWait, cancel)
	_, _ = io.CopyN(io.Discard, body, drainBytes)
	t.Stop()
}

// ErrorMessage extracts the message of an error body: OpenAI's
// {"error":{"message":...}}, vLLM's {"message":...}, else the body's first
// 300 bytes of text. It is for the operator, so it is kept short.
func ErrorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var str string
		switch {
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &inner) == nil && inner.Message != "":
			return clip(inner.Message)
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &str) == nil && str != "":
			return clip(str)
		case e.Message != "":
			return clip(e.Message)
		case e.Detail != "":
			return clip(e.Detail)
		}
	}
	if t := strings.TrimSpace(strings.ToValidUTF8(string(body), "?")); t != "" {
		return clip(t)
	}
	return "(empty body)"
}

// redact removes the API key from text a server sent back (a hostile or
// misconfigured server may echo the request's headers).
func (c *Client) redact(s string) string {
	if c.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.apiKey, "[redacted]")
}

func clip(s string) string {
	const max = 300
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}

func (r *Result) fail(kind string, err error) {
	r.ErrKind, r.Err = kind, err
}

// classify names a transport error: the caller's cancellation makes the
// request incomplete, a limit (limits.go) makes it oversized, the
// request's own deadline is a timeout, else kind.
func (r *Result) classify(parent, ctx context.Context, err error, kind string) {
	switch {
	case parent.Err() != nil:
		r.Incomplete, r.Err = true, err
	case errors.Is(err, ErrOversized):
		r.fail(results.ErrOversized, err)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		r.fail(results.ErrTimeout, err)
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.fail(results.ErrTimeout, err)
			return
		}
		r.fail(kind, err)
	}
}

// CheckError is a pre-flight failure: the message says what is wrong with
// the target.
type CheckError struct {
	Msg string
	// Transient: the target could not be reached or answered 5xx/429, which
	// a server still starting (or scaling from zero) does; worth retrying.
	Transient bool
}

func (e *CheckError) Error() string { return e.Msg }

// CheckModel verifies that the server answers GET /v1/models as an
// OpenAI-compatible server and lists model.
func (c *Client) CheckModel(ctx context.Context, model string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/models", nil)
	if err != nil {
		return &CheckError{Msg: fmt.Sprintf("invalid URL %q: %v", c.base, err)}
	}
	resp, err := c.do(req)
	if errors.Is(err, ErrOversized) {
		return &CheckError{Msg: fmt.Sprintf("%s is not an OpenAI-compatible server: GET /v1/models answered %v", c.base, err)}
	}
	if err != nil {
		return &CheckError{Msg: fmt.Sprintf("cannot reach %s: %v", c.base, unwrapURLError(err)), Transient: true}
	}
	defer resp.Body.Close()
	body, err := ReadLimited(resp.Body, MaxModelsBytes, "GET /v1/models answer")
	if errors.Is(err, ErrOversized) {
		return &CheckError{Msg: fmt.Sprintf("%s is not an OpenAI-compatible server: %v", c.base, err)}
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return &CheckError{Msg: fmt.Sprintf("%s/v1/models answered HTTP %d: the API key is missing or refused (--api-key-file)", c.base, resp.StatusCode)}
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return &CheckError{Msg: fmt.Sprintf("%s is not ready: GET /v1/models answered HTTP %d", c.base, resp.StatusCode), Transient: true}
	}
	if resp.StatusCode != http.StatusOK {
		return &CheckError{Msg: fmt.Sprintf("%s is not an OpenAI-compatible server: GET /v1/models answered HTTP %d", c.base, resp.StatusCode)}
	}
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Data == nil {
		return &CheckError{Msg: fmt.Sprintf("%s is not an OpenAI-compatible server: GET /v1/models did not return a model list", c.base)}
	}
	var ids []string
	for _, m := range list.Data {
		if m.ID == model {
			return nil
		}
		ids = append(ids, m.ID)
	}
	return &CheckError{Msg: fmt.Sprintf("%s does not serve model %q (it serves: %s); set model= in --target or spec.targets[].model", c.base, model, strings.Join(ids, ", "))}
}

func unwrapURLError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	return err
}
