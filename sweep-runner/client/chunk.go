package client

import (
	"errors"
	"math"
)

// Chunk is what the load engine needs from one streamed chunk. ParseChunk
// fills it without allocating.
type Chunk struct {
	// Content: the chunk carries generated text (choices[0].text or
	// choices[0].delta.content is a non-empty string).
	Content bool
	// RoleOnly: a chat delta with a role and no content.
	RoleOnly bool
	// Usage is set by the final usage chunk.
	HasUsage                       bool
	PromptTokens, CompletionTokens int64
	// ServerTTFTSeconds: usage.server_ttft_seconds (vllm-sim extension).
	HasServerTTFT     bool
	ServerTTFTSeconds float64
	// SimTNs: sim_t_ns (vllm-sim extension): ns from the server's arrival of
	// the request to the write of this chunk.
	HasSimT bool
	SimTNs  int64
	// Error: the chunk is an error object ({"error": ...}).
	Error bool
	// Finish: choices[0].finish_reason is a string.
	Finish bool
}

// ErrMalformed is returned for a chunk that is not a JSON object of the
// OpenAI streaming shape.
var ErrMalformed = errors.New("malformed chunk")

// ParseChunk scans one chunk in a single pass: it checks the JSON syntax
// strictly (whatever encoding/json rejects is malformed, and objects or
// arrays nested deeper than maxDepth too) while it reads only the fields
// it needs.
func ParseChunk(b []byte, c *Chunk) error {
	*c = Chunk{}
	p := scanner{b: b}
	p.ws()
	if !p.peek('{') {
		return ErrMalformed
	}
	known := false
	err := p.object(func(key []byte) error {
		switch string(key) {
		case "choices":
			known = true
			return p.choices(c)
		case "usage":
			known = true
			if p.peek('{') {
				return p.usage(c)
			}
			return p.skip()
		case "error":
			known = true
			c.Error = true
			return p.skip()
		case "sim_t_ns":
			return p.intInto(&c.SimTNs, &c.HasSimT)
		case "server_ttft_seconds":
			return p.floatInto(&c.ServerTTFTSeconds, &c.HasServerTTFT)
		}
		return p.skip()
	})
	if err != nil {
		return ErrMalformed
	}
	if p.ws(); p.i != len(p.b) || !known {
		return ErrMalformed
	}
	return nil
}

type scanner struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds the nesting of objects and arrays (a chunk has 4 levels;
// encoding/json allows 10000).
const maxDepth = 1000

var errSyntax = errors.New("syntax")

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) peek(c byte) bool { p.ws(); return p.i < len(p.b) && p.b[p.i] == c }

// object calls f for each member key with the scanner at the value; f must
// consume the value.
func (p *scanner) object(f func(key []byte) error) error {
	if p.depth++; p.depth > maxDepth {
		return errSyntax
	}
	err := p.members(f)
	p.depth--
	return err
}

func (p *scanner) members(f func(key []byte) error) error {
	if !p.peek('{') {
		return errSyntax
	}
	p.i++
	if p.peek('}') {
		p.i++
		return nil
	}
	for {
		k, err := p.str()
		if err != nil {
			return err
		}
		if !p.peek(':') {
			return errSyntax
		}
		p.i++
		p.ws()
		if err := f(k); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// str reads a string and returns its raw (still escaped) content.
func (p *scanner) str() ([]byte, error) {
	if !p.peek('"') {
		return nil, errSyntax
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return nil, errSyntax
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.b) || !hex4(p.b[p.i+2:p.i+6]) {
					return nil, errSyntax
				}
				p.i += 6
			default:
				return nil, errSyntax
			}
		case c < 0x20: // control characters must be escaped
			return nil, errSyntax
		default:
			p.i++
		}
	}
	return nil, errSyntax
}

func hex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// numberEnd: whether a number starts at p.i (a minus sign or a digit) and,
// if so, the index just after it; err for a malformed number (JSON's
// grammar: no leading zeros, digits after the point and the exponent).
func (p *scanner) numberEnd() (end int, num bool, err error) {
	b, i := p.b, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) || !isDigit(b[i]) {
		if i > p.i {
			return 0, true, errSyntax
		}
		return 0, false, nil
	}
	if b[i] == '0' {
		i++
	} else {
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, true, errSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, true, errSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, true, nil
}

// literal consumes word (true, false, null).
func (p *scanner) literal(word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return errSyntax
	}
	p.i += len(word)
	return nil
}

// skip consumes any value.
func (p *scanner) skip() error {
	p.ws()
	if p.i >= len(p.b) {
		return errSyntax
	}
	switch p.b[p.i] {
	case '"':
		_, err := p.str()
		return err
	case '{':
		return p.object(func([]byte) error { return p.skip() })
	case '[':
		return p.array(func(int) error { return p.skip() })
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	}
	end, num, err := p.numberEnd()
	if err != nil || !num {
		return errSyntax
	}
	p.i = end
	return nil
}

func (p *scanner) array(f func(i int) error) error {
	if p.depth++; p.depth > maxDepth {
		return errSyntax
	}
	err := p.elements(f)
	p.depth--
	return err
}

func (p *scanner) elements(f func(i int) error) error {
	if !p.peek('[') {
		return errSyntax
	}
	p.i++
	if p.peek(']') {
		p.i++
		return nil
	}
	for n := 0; ; n++ {
		p.ws()
		if err := f(n); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (p *scanner) choices(c *Chunk) error {
	if !p.peek('[') {
		return p.skip() // null
	}
	return p.array(func(n int) error {
		if n > 0 || !p.peek('{') {
			return p.skip()
		}
		return p.object(func(key []byte) error {
			switch string(key) {
			case "text":
				return p.textInto(&c.Content)
			case "delta":
				if !p.peek('{') {
					return p.skip()
				}
				role := false
				err := p.object(func(k []byte) error {
					switch string(k) {
					case "content":
						return p.textInto(&c.Content)
					case "role":
						role = p.peek('"')
					}
					return p.skip()
				})
				c.RoleOnly = role && !c.Content
				return err
			case "finish_reason":
				c.Finish = p.peek('"')
				return p.skip()
			case "sim_t_ns":
				return p.intInto(&c.SimTNs, &c.HasSimT)
			}
			return p.skip()
		})
	})
}

// textInto sets *set when the value is a non-empty string.
func (p *scanner) textInto(set *bool) error {
	if !p.peek('"') {
		return p.skip()
	}
	s, err := p.str()
	if err != nil {
		return err
	}
	if len(s) > 0 {
		*set = true
	}
	return nil
}

func (p *scanner) usage(c *Chunk) error {
	c.HasUsage = true
	var has bool
	return p.object(func(key []byte) error {
		switch string(key) {
		case "prompt_tokens":
			return p.intInto(&c.PromptTokens, &has)
		case "completion_tokens":
			return p.intInto(&c.CompletionTokens, &has)
		case "server_ttft_seconds":
			return p.floatInto(&c.ServerTTFTSeconds, &c.HasServerTTFT)
		}
		return p.skip()
	})
}

// intInto parses a non-negative integer (or skips another value).
func (p *scanner) intInto(v *int64, has *bool) error {
	p.ws()
	end, num, err := p.numberEnd()
	if err != nil {
		return err
	}
	if !num {
		return p.skip()
	}
	if p.b[p.i] == '-' { // not a count
		p.i = end
		return nil
	}
	start := p.i
	var n int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := int64(p.b[p.i] - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64 // saturate: a hostile count must not wrap negative
		} else {
			n = n*10 + d
		}
		p.i++
	}
	if p.i == start {
		return p.skip()
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i = start
		var f float64
		var h bool
		if err := p.floatInto(&f, &h); err != nil {
			return err
		}
		n = math.MaxInt64
		if f < math.MaxInt64 { // also false for NaN and Inf: no wrap to negative
			n = int64(f)
		}
	}
	*v, *has = n, true
	p.i = end
	return nil
}

// floatInto parses a plain decimal number (digits, point, exponent).
func (p *scanner) floatInto(v *float64, has *bool) error {
	p.ws()
	end, num, err := p.numberEnd()
	if err != nil {
		return err
	}
	if !num {
		return p.skip()
	}
	neg := false
	if p.i < len(p.b) && p.b[p.i] == '-' {
		neg = true
		p.i++
	}
	start := p.i
	var mant float64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		mant = mant*10 + float64(p.b[p.i]-'0')
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		scale := 0.1
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			mant += float64(p.b[p.i]-'0') * scale
			scale /= 10
			p.i++
		}
	}
	if p.i == start {
		return p.skip()
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		eneg := false
		if p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] == '+') {
			eneg = p.b[p.i] == '-'
			p.i++
		}
		e := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			if e < 1000 { // beyond, float64 is 0 or Inf anyway; keeps the loop below short
				e = e*10 + int(p.b[p.i]-'0')
			}
			p.i++
		}
		for ; e > 0; e-- {
			if eneg {
				mant /= 10
			} else {
				mant *= 10
			}
		}
	}
	if neg {
		mant = -mant
	}
	*v, *has = mant, true
	p.i = end
	return nil
}
