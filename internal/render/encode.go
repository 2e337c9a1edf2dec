package render

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/rhoai-demo/step07/generators"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// ToMap converts an object to its plain map form, with the fields a
// serialized typed object carries but a manifest must not: creationTimestamp
// null (anywhere, pod templates included) and an empty status.
func ToMap(o generators.Object) (map[string]any, error) {
	var m map[string]any
	if u, ok := o.(*unstructured.Unstructured); ok {
		m = runtime.DeepCopyJSON(u.Object)
	} else {
		var err error
		m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ID(o), err)
		}
	}
	if m["apiVersion"] == nil || m["kind"] == nil || m["apiVersion"] == "" || m["kind"] == "" {
		return nil, fmt.Errorf("object %q has no apiVersion or kind: generators must set TypeMeta", o.GetName())
	}
	clean(m)
	if s, ok := m["status"]; ok && empty(s) {
		delete(m, "status")
	}
	return m, nil
}

// empty reports whether v holds nothing but empty maps and lists (a typed
// Service's status is {loadBalancer: {}}).
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range x {
			if !empty(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

func clean(v any) {
	switch x := v.(type) {
	case map[string]any:
		if ts, ok := x["creationTimestamp"]; ok && ts == nil {
			delete(x, "creationTimestamp")
		}
		for k, e := range x {
			clean(e)
			if mm, ok := e.(map[string]any); ok && len(mm) == 0 && k == "metadata" {
				delete(x, k)
			}
		}
	case []any:
		for _, e := range x {
			clean(e)
		}
	}
}

// Encode writes one object as a YAML document (no leading "---").
func Encode(o generators.Object) ([]byte, error) {
	m, err := ToMap(o)
	if err != nil {
		return nil, err
	}
	return EncodeValue(m)
}

// EncodeValue writes a map/list/scalar tree as YAML with the stable order.
func EncodeValue(v any) ([]byte, error) {
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

// Stream writes objects as one multi-document YAML stream.
func Stream(objs []generators.Object) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		b, err := Encode(o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
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
		for _, e := range x {
			en, err := node(e)
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
