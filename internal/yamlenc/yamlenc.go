package yamlenc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Encode writes a map/list/scalar tree as YAML: two-space indent, mapping
// keys apiVersion, kind, metadata, name, namespace first and the others
// sorted, multi-line strings as literal blocks.
func Encode(v any) ([]byte, error) {
	return encodeValue(v, true)
}

// Marshal writes any JSON-serializable value (a typed struct, say) the same
// way as Encode: through its JSON form, so json tags and omitempty decide the
// fields, as they do for Kubernetes objects.
func Marshal(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return Encode(numbers(tree))
}

// numbers turns json.Number into int64 or float64, which Encode writes.
func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// encodeValue encodes v; with fast set, large multi-line mapping values (the
// dashboards' JSON) are written as literal blocks directly instead of through
// the YAML emitter, which inspects every character of a scalar and was half
// of the tree's generation time. The output is byte-identical either way
// (TestLiteralFastPathIsIdentical).
func encodeValue(v any, fast bool) ([]byte, error) {
	e := &encoder{fast: fast}
	n, err := e.node(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if len(e.literals) == 0 {
		return buf.Bytes(), nil
	}
	return e.expand(buf.Bytes())
}

// literalMin is the size from which a literal block takes the fast path.
const literalMin = 1024

// encoder holds the literal blocks set aside during one encoding.
type encoder struct {
	fast     bool
	literals []string
}

// placeholder names literal block i; plain, so the emitter writes it as is.
func placeholder(i int) string { return "step07gen-literal-block-" + strconv.Itoa(i) }

// literalSafe reports whether the YAML emitter would write s as a literal
// block with no indentation indicator and clip or strip chomping: printable
// ASCII lines without trailing spaces or tabs, not starting with a space or
// a line break, ending in at most one line break.
func literalSafe(s string) bool {
	if len(s) < literalMin || s[0] == ' ' || s[0] == '\n' || strings.HasSuffix(s, "\n\n") || strings.HasSuffix(s, " ") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			if i > 0 && s[i-1] == ' ' {
				return false
			}
			continue
		}
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// expand replaces each "key: <placeholder>" line with the literal block.
func (e *encoder) expand(out []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(out) + len(e.literals)*literalMin)
	rest := out
	for i, lit := range e.literals {
		ph := []byte(": " + placeholder(i) + "\n")
		at := bytes.Index(rest, ph)
		if at < 0 {
			return nil, fmt.Errorf("render: literal block %d lost in encoding", i)
		}
		lineStart := bytes.LastIndexByte(rest[:at], '\n') + 1
		// The mapping's indentation: leading spaces, and "- " of a sequence
		// item whose first key this is.
		indent := 0
		for indent < at-lineStart {
			c := rest[lineStart+indent]
			if c == ' ' || c == '-' && rest[lineStart+indent+1] == ' ' {
				indent++
				continue
			}
			break
		}
		buf.Write(rest[:at])
		buf.WriteString(": |")
		body := lit
		if strings.HasSuffix(lit, "\n") {
			body = lit[:len(lit)-1]
		} else {
			buf.WriteByte('-')
		}
		buf.WriteByte('\n')
		pad := strings.Repeat(" ", indent+2)
		for line := range strings.SplitSeq(body, "\n") {
			if line != "" {
				buf.WriteString(pad)
				buf.WriteString(line)
			}
			buf.WriteByte('\n')
		}
		rest = rest[at+len(ph):]
	}
	buf.Write(rest)
	return buf.Bytes(), nil
}

// first are keys written before the others, in this order; the rest sorted.
var first = []string{"apiVersion", "kind", "metadata", "name", "namespace"}

func keyLess(a, b string) bool {
	ia, ib := index(a), index(b)
	if ia != ib {
		return ia < ib
	}
	return a < b
}

func index(k string) int {
	for i, f := range first {
		if f == k {
			return i
		}
	}
	return len(first)
}

func (e *encoder) node(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
		for _, k := range keys {
			if str, ok := x[k].(string); ok && e.fast && literalSafe(str) {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
					&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: placeholder(len(e.literals))})
				e.literals = append(e.literals, str)
				continue
			}
			vn, err := e.node(x[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, vn)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, el := range x {
			en, err := e.node(el)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, en)
		}
		return n, nil
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return e.node(l)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return e.node(m)
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
		if strings.Contains(x, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}, nil
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(x)}, nil
	case int32:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(x), 10)}, nil
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(x, 10)}, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(x), 10)}, nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	}
	return nil, fmt.Errorf("cannot encode %T", v)
}
