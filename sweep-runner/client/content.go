package client

// AppendContent appends the generated text a streamed chunk carries
// (choices[0].text, or choices[0].delta.content of a chat chunk) to dst,
// still JSON-escaped: the text goes back, unchanged, into the JSON body of a
// conversation's next turn. A chunk without text appends nothing. It reads
// only what ParseChunk already accepted, so it does not judge the syntax.
func AppendContent(dst, data []byte) []byte {
	p := scanner{b: data}
	if !p.peek('{') {
		return dst
	}
	text := func() error {
		if !p.peek('"') {
			return p.skip()
		}
		s, err := p.str()
		if err == nil {
			dst = append(dst, s...)
		}
		return err
	}
	_ = p.object(func(key []byte) error {
		if string(key) != "choices" || !p.peek('[') {
			return p.skip()
		}
		return p.array(func(n int) error {
			if n > 0 || !p.peek('{') {
				return p.skip()
			}
			return p.object(func(k []byte) error {
				switch string(k) {
				case "text":
					return text()
				case "delta":
					if !p.peek('{') {
						return p.skip()
					}
					return p.object(func(k []byte) error {
						if string(k) == "content" {
							return text()
						}
						return p.skip()
					})
				}
				return p.skip()
			})
		})
	})
	return dst
}
