package client

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// SSEReader reads Server-Sent Events and returns each event's data. The
// returned slice is valid until the next call; no allocation happens per
// event once the internal buffer has grown to the largest event.
//
// A line longer than MaxLine or an event whose data is longer than
// MaxEvent ends the stream with a *LimitError (errors.Is ErrOversized), so
// the reader never holds more than MaxLine + MaxEvent bytes besides its
// buffer, whatever a server sends.
type SSEReader struct {
	// MaxLine bounds a line, its line ending included, and MaxEvent an
	// event's data; 0 means MaxSSELine and MaxSSEEvent. Set them before
	// reading.
	MaxLine, MaxEvent int

	br   *bufio.Reader
	data []byte
	line []byte // long lines that overflow the bufio buffer
}

// NewSSEReader returns a reader with a buffer of size bytes (at least 4 KiB).
func NewSSEReader(size int) *SSEReader {
	if size < 4096 {
		size = 4096
	}
	return &SSEReader{br: bufio.NewReaderSize(nil, size), data: make([]byte, 0, 1024)}
}

// keepBytes: buffers grown past this by a long line or event are let go
// at Reset, so a stream keeps its memory for the next request only when
// its events are of a usual size.
const keepBytes = 64 << 10

// Reset points the reader at a new stream, keeping its buffers.
func (r *SSEReader) Reset(rd io.Reader) {
	r.br.Reset(rd)
	if cap(r.data) > keepBytes {
		r.data = make([]byte, 0, 1024)
	}
	if cap(r.line) > keepBytes {
		r.line = nil
	}
	r.data = r.data[:0]
}

var dataPrefix = []byte("data:")

// Next returns the data of the next event (multi-line data joined with
// "\n"). It returns io.EOF at a clean end of stream with no pending event,
// a *LimitError for a line or event over its limit, and the errors of the
// underlying reader as is.
func (r *SSEReader) Next() ([]byte, error) {
	r.data = r.data[:0]
	have := false
	maxEvent := r.MaxEvent
	if maxEvent <= 0 {
		maxEvent = MaxSSEEvent
	}
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && have {
				return r.data, nil // last event without its blank line
			}
			return nil, err
		}
		if len(line) == 0 { // blank line: dispatch
			if have {
				return r.data, nil
			}
			continue
		}
		if line[0] == ':' { // comment
			continue
		}
		if bytes.HasPrefix(line, dataPrefix) {
			v := line[len(dataPrefix):]
			if len(v) > 0 && v[0] == ' ' {
				v = v[1:]
			}
			n := len(r.data) + len(v)
			if have {
				n++
			}
			if n > maxEvent {
				return nil, &LimitError{What: "SSE event", Limit: int64(maxEvent)}
			}
			if have {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, v...)
			have = true
		}
		// event:, id:, retry: and unknown fields are ignored.
	}
}

// readLine returns one line without its line ending.
func (r *SSEReader) readLine() ([]byte, error) {
	maxLine := r.MaxLine
	if maxLine <= 0 {
		maxLine = MaxSSELine
	}
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.line = append(r.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(r.line) > maxLine {
				return nil, errLine(maxLine)
			}
			line, err = r.br.ReadSlice('\n')
			if len(r.line)+len(line) > maxLine {
				return nil, errLine(maxLine)
			}
			r.line = append(r.line, line...)
		}
		line = r.line
	}
	if len(line) > maxLine {
		return nil, errLine(maxLine)
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return trimEOL(line), nil
		}
		return nil, err
	}
	return trimEOL(line), nil
}

func errLine(maxLine int) error { return &LimitError{What: "SSE line", Limit: int64(maxLine)} }

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
