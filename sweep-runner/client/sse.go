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
type SSEReader struct {
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

// Reset points the reader at a new stream, keeping its buffers.
func (r *SSEReader) Reset(rd io.Reader) {
	r.br.Reset(rd)
	r.data = r.data[:0]
}

var dataPrefix = []byte("data:")

// Next returns the data of the next event (multi-line data joined with
// "\n"). It returns io.EOF at a clean end of stream with no pending event,
// and io.ErrUnexpectedEOF-wrapping errors from the underlying reader as is.
func (r *SSEReader) Next() ([]byte, error) {
	r.data = r.data[:0]
	have := false
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
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.line = append(r.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice('\n')
			r.line = append(r.line, line...)
		}
		line = r.line
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return trimEOL(line), nil
		}
		return nil, err
	}
	return trimEOL(line), nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
