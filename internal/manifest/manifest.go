package manifest

import (
	"bytes"
	"fmt"

	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/yamlenc"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// ToMap converts an object to its plain map form, with the fields a
// serialized typed object carries but a manifest must not: creationTimestamp
// null (anywhere, pod templates included) and an empty status.
func ToMap(o kit.Object) (map[string]any, error) {
	var m map[string]any
	if u, ok := o.(*unstructured.Unstructured); ok {
		m = runtime.DeepCopyJSON(u.Object)
	} else {
		var err error
		m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kit.ID(o), err)
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
func Encode(o kit.Object) ([]byte, error) {
	m, err := ToMap(o)
	if err != nil {
		return nil, err
	}
	return EncodeValue(m)
}

// EncodeValue writes a map/list/scalar tree as YAML with the stable order.
func EncodeValue(v any) ([]byte, error) { return yamlenc.Encode(v) }

// Stream writes objects as one multi-document YAML stream.
func Stream(objs []kit.Object) ([]byte, error) {
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
