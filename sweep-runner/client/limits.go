package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Limits on what the client reads from a target. A server, broken or
// hostile, decides how much it sends; the client decides how much it reads,
// so its memory is proportional to the number of streams, never to what a
// server sends. A read past a limit fails with a *LimitError (errors.Is
// ErrOversized); a streamed request counts as an error of kind oversized
// (results.ErrOversized) and its connection is closed without being
// drained. Each limit is far above what a real server sends (a vLLM chunk
// is a few hundred bytes), so they are constants, not settings.
const (
	// MaxSSELine bounds one line of an event stream, its line ending
	// included.
	MaxSSELine = 1 << 20
	// MaxSSEEvent bounds one event's data (its data lines joined). A
	// stream's reader holds at most a line and an event: 2 MiB.
	MaxSSEEvent = 1 << 20
	// StreamBytesBase plus StreamBytesPerToken for each token of the
	// request's max_tokens bound a whole streamed response (Stream.
	// MaxTokens; the base alone when it is unknown): a chunk a token of a
	// few hundred bytes, the usage chunk and [DONE] fit many times over.
	StreamBytesBase     = 4 << 20
	StreamBytesPerToken = 4 << 10
	// MaxHeaderBytes bounds a response's status line and headers
	// (http.Transport.MaxResponseHeaderBytes, whose default is 10 MiB).
	MaxHeaderBytes = 64 << 10
	// MaxModelsBytes bounds the answer of GET /v1/models.
	MaxModelsBytes = 4 << 20
	// MaxTokenizeBytes bounds the answer of POST /tokenize (its tokens
	// list takes a few bytes a prompt token).
	MaxTokenizeBytes = 16 << 20
	// maxErrorBytes is what is read of a non-200 answer's body: its
	// message is shown clipped to 300 characters, so a longer body is cut,
	// not an error.
	maxErrorBytes = 64 << 10
)

// MaxEvents is the most events a stream asked for maxTokens tokens may send
// (Stream.MaxTokens): a chunk a token, a role, finish and usage chunk, and
// a slack of an eighth plus 16. A stream that goes on is cut with kind
// overlong (results.ErrOverlong).
func MaxEvents(maxTokens int) int { return maxTokens + maxTokens/8 + 16 }

// ErrOversized is what every *LimitError matches with errors.Is.
var ErrOversized = errors.New("oversized answer")

// LimitError: a server sent more than a limit allows.
type LimitError struct {
	// What went past its limit ("SSE line", "GET /v1/models answer").
	What  string
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s over the %s limit", e.What, byteSize(e.Limit))
}

// Unwrap makes a *LimitError match ErrOversized.
func (e *LimitError) Unwrap() error { return ErrOversized }

// byteSize writes n bytes in KiB or MiB when it is a whole number of them.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadLimited reads r to its end, or fails with a *LimitError naming what
// once more than limit bytes came.
func ReadLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		return nil, &LimitError{What: what, Limit: limit}
	}
	return b, err
}

// LimitReader reads r and fails with a *LimitError naming what once more
// than limit bytes came (io.LimitReader ends quietly instead, which a
// parser may take for a complete answer).
func LimitReader(r io.Reader, limit int64, what string) io.Reader {
	return &limitedReader{r: r, left: limit, limit: limit, what: what}
}

// limitedReader is LimitReader's reader; a Stream keeps one for its body,
// so bounding a stream allocates nothing.
type limitedReader struct {
	r           io.Reader
	left, limit int64
	what        string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a body that ends at the limit from a
		// longer one.
		var one [1]byte
		if n, err := l.r.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, &LimitError{What: l.what, Limit: l.limit}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// do sends req; headers past MaxHeaderBytes are a *LimitError (the
// transport names the limit only in its error's text).
func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil && isHeaderLimit(err) {
		return nil, &LimitError{What: "response headers", Limit: MaxHeaderBytes}
	}
	return resp, err
}

// isHeaderLimit tells an error of an http.Transport whose
// MaxResponseHeaderBytes a server's headers exceeded.
func isHeaderLimit(err error) bool {
	return strings.Contains(err.Error(), "server response headers exceeded")
}

var maxTokensKey = []byte(`"max_tokens":`)

// maxTokensOf reads a request body's max_tokens (0 when it has none): the
// last "max_tokens" key, which the Prompt's bodies write after the prompt's
// text (in JSON text a quote is escaped, so the key cannot appear in it).
func maxTokensOf(body []byte) int {
	i := bytes.LastIndex(body, maxTokensKey)
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range body[i+len(maxTokensKey):] {
		if c < '0' || c > '9' || n > 1<<40 {
			break
		}
		n = 10*n + int(c-'0')
	}
	return n
}
