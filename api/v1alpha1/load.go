package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// MaxConfigBytes bounds what the loaders read: a config is a few KiB, so a
// larger file is a mistake, not a config.
const MaxConfigBytes = 1 << 20

// LoadConfig decodes a ModelPerformanceMetrics strictly (unknown fields and
// wrong types are errors with their paths), applies defaults and validates.
// The error, when not nil, is an Errors listing every problem.
func LoadConfig(data []byte) (*ModelPerformanceMetrics, error) {
	var c ModelPerformanceMetrics
	if err := DecodeStrict(data, &c); err != nil {
		return nil, err
	}
	if err := c.Default(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadPlan is LoadConfig for a SweepPlan.
func LoadPlan(data []byte) (*SweepPlan, error) {
	var p SweepPlan
	if err := DecodeStrict(data, &p); err != nil {
		return nil, err
	}
	if err := p.Default(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// DecodeStrict decodes one YAML or JSON document into out (a pointer to a
// struct), reporting every unknown field and type mismatch with its path.
func DecodeStrict(data []byte, out any) error {
	var errs Errors
	if len(data) > MaxConfigBytes {
		errs.Add("(file)", "is %d bytes, more than the %d-byte limit for a config", len(data), MaxConfigBytes)
		return errs
	}
	if bytes.IndexByte(data, 0) >= 0 {
		errs.Add("(file)", "is binary, not YAML or JSON")
		return errs
	}
	if len(bytes.TrimSpace(data)) == 0 {
		errs.Add("(file)", "is empty: it needs at least apiVersion and kind")
		return errs
	}
	if n := multiDoc(data); n > 1 {
		errs.Add("(file)", "holds %d YAML documents; a config is exactly one", n)
		return errs
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		errs.Add("(file)", "invalid YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
		return errs
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		errs.Add("(file)", "invalid document: %v", err)
		return errs
	}
	if _, ok := generic.(map[string]any); !ok {
		errs.Add("(file)", "must be a mapping with apiVersion, kind and spec, got %s", jsonKind(generic))
		return errs
	}
	checkValue(&errs, "", generic, reflect.TypeOf(out).Elem(), 0)
	if len(errs) > 0 {
		return errs
	}
	if err := json.Unmarshal(js, out); err != nil {
		errs.Add("(file)", "%v", err)
		return errs
	}
	return nil
}

// multiDoc counts the non-empty documents of a YAML stream.
func multiDoc(data []byte) int {
	n := 0
	for _, part := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		body := part
		if i := bytes.IndexByte(body, '\n'); i >= 0 && !bytes.HasPrefix(part, []byte("\n")) {
			body = body[i:] // drop the rest of the separator line
		}
		trimmed := bytes.TrimSpace(stripComments(body))
		if len(trimmed) > 0 {
			n++
		}
	}
	return n
}

func stripComments(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

var (
	durationType = reflect.TypeOf(Duration{})
	maxDepth     = 32
)

// join appends a mapping key to a field path, quoting keys that would make
// the path ambiguous (empty, or holding dots, brackets or spaces).
func join(path, key string) string {
	if key == "" || strings.ContainsAny(key, ".[] \t\n\"") {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkValue walks a decoded JSON value against the Go type it must fill.
func checkValue(errs *Errors, path string, v any, t reflect.Type, depth int) {
	if v == nil {
		return // null: unset
	}
	if depth > maxDepth {
		errs.Add(path, "nested too deeply")
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		s, ok := v.(string)
		if !ok {
			errs.Add(path, "must be a duration string such as \"30s\", got %s", jsonKind(v))
			return
		}
		var d Duration
		if err := d.UnmarshalJSON([]byte(fmt.Sprintf("%q", s))); err != nil {
			errs.Add(path, "%v", err)
		} else if d.Duration < 0 {
			errs.Add(path, "must not be negative, got %q", s)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			errs.Add(path, "must be a mapping, got %s", jsonKind(v))
			return
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name != "" && name != "-" {
				fields[name] = f
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				errs.Add(join(path, k), "unknown field; known fields here: %s", strings.Join(sortedKeys(fields), ", "))
				continue
			}
			checkValue(errs, join(path, k), m[k], f.Type, depth+1)
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			errs.Add(path, "must be a list, got %s", jsonKind(v))
			return
		}
		for i, e := range l {
			checkValue(errs, fmt.Sprintf("%s[%d]", path, i), e, t.Elem(), depth+1)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			errs.Add(path, "must be a mapping, got %s", jsonKind(v))
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			checkValue(errs, path+"["+strconv.Quote(k)+"]", m[k], t.Elem(), depth+1)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			errs.Add(path, "must be a string, got %s", jsonKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			errs.Add(path, "must be true or false, got %s", jsonKind(v))
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			errs.Add(path, "must be an integer, got %s", jsonKind(v))
			return
		}
		i, err := n.Int64()
		if err != nil {
			errs.Add(path, "must be an integer, got %s", n)
		} else if i > math.MaxInt32 || i < math.MinInt32 {
			errs.Add(path, "integer %s is out of range", n)
		}
	case reflect.Float64, reflect.Float32:
		n, ok := v.(json.Number)
		if !ok {
			errs.Add(path, "must be a number, got %s", jsonKind(v))
			return
		}
		if f, err := n.Float64(); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			errs.Add(path, "must be a finite number, got %s", n)
		}
	}
}

func sortedKeys(m map[string]reflect.StructField) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", truncate(x))
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case json.Number:
		return "number " + x.String()
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
