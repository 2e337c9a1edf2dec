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
//
// Every string goes through the YAML emitter, the dashboards' JSON too. A
// fast path that wrote large literal blocks directly was measured and
// removed: with it `go test -bench GenerateTree ./cmd/step07gen/tree` took 8.1 to
// 8.5 ms per tree, without it 9.1 to 9.6 ms (6 runs each, 2 cores), and a
// `step07gen diff` of the committed tree 32 ms against 33 ms. One
// millisecond of a 33 ms command did not pay for a second way to write YAML.
func Encode(v any) ([]byte, error) {
	n, err := node(v)
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
	return buf.Bytes(), nil
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

// yaml11Bool are the plain scalars YAML 1.1 reads as booleans and YAML 1.2
// as strings: the emitter (1.2) writes them plain, but kubectl, the API
// server's YAML decoding and sigs.k8s.io/yaml (1.1) would read a model or
// namespace named "y" or "no" as true or false, so they are quoted.
var yaml11Bool = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

func node(v any) (*yaml.Node, error) {
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
			vn, err := node(x[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, vn)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, el := range x {
			en, err := node(el)
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
		return node(l)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return node(m)
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
		if strings.Contains(x, "\n") {
			n.Style = yaml.LiteralStyle
		} else if yaml11Bool[x] {
			n.Style = yaml.DoubleQuotedStyle
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
