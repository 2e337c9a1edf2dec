package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
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
		return nil, withValidation(data, err)
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
	if n := expandedSize(data); n > MaxConfigBytes {
		errs.Add("(file)", "YAML aliases expand the document to more than %d bytes (an alias bomb?): write the values out", MaxConfigBytes)
		return errs
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		// One line: the library lists several problems on indented lines.
		msg := strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")), " ")
		errs.Add("(file)", "invalid YAML: %s", msg)
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

// expandedSize is roughly how many bytes the document takes once its
// aliases are expanded, computed on the parsed node tree without expanding
// anything (each anchor's size is computed once). The YAML-to-JSON step
// expands aliases, and the library's own guard looks at the ratio of alias
// to plain nodes only: one 100 KiB anchor referenced a few thousand times
// among enough plain nodes passes it and costs gigabytes. A syntax error
// returns 0 and is reported by the decoder itself.
func expandedSize(data []byte) int64 {
	if !bytes.Contains(data, []byte("*")) {
		return 0 // no alias
	}
	var doc yamlv3.Node
	if yamlv3.Unmarshal(data, &doc) != nil {
		return 0
	}
	const limit = math.MaxInt64 / 4
	memo := map[*yamlv3.Node]int64{}
	var size func(n *yamlv3.Node, depth int) int64
	size = func(n *yamlv3.Node, depth int) int64 {
		if n == nil {
			return 0
		}
		if v, ok := memo[n]; ok {
			return v // also ends a cycle: an anchor being sized counts as limit
		}
		if depth > 10000 {
			return limit
		}
		memo[n] = limit
		var total int64
		switch n.Kind {
		case yamlv3.AliasNode:
			total = size(n.Alias, depth+1)
		case yamlv3.ScalarNode:
			total = int64(len(n.Value)) + 2
		default:
			total = 2
			for _, c := range n.Content {
				total += size(c, depth+1)
				if total >= limit {
					total = limit
					break
				}
			}
		}
		memo[n] = total
		return total
	}
	return size(&doc, 0)
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
//
// It is written by hand on purpose. sigs.k8s.io/json's UnmarshalStrict
// (with field.ErrorList for the paths) was evaluated and cannot report what
// the bad-config corpus (golden/testdata/invalid) expects:
//   - encoding/json keeps only the first type mismatch, so two wrong values
//     are reported one run at a time, not together;
//   - an error from a field's UnmarshalJSON (Duration's "5 minutes") ends
//     the decoding without a path, and the unknown fields found so far are
//     lost with it;
//   - its type-error paths have no list index ("spec.models.gpus", not
//     "spec.models[0].gpus") and its messages are Go's ("cannot unmarshal
//     string into Go struct field Model.spec.models.gpus of type int", not
//     `must be an integer, got string "2"`);
//   - an unknown field does not list the fields known at its place, and
//     an integer beyond int32 or a negative duration decodes without a
//     complaint (this walk reports both at their paths).
//
// field.ErrorList formats "path: Invalid value: v: detail", which the
// corpus does not use either. So the YAML protections (size, binary, empty,
// multi-document, alias bomb, duplicate keys) run first, then this walk,
// then encoding/json on a document known to fit.
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
		fields := jsonFields(t)
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

// jsonFields maps the JSON names of struct type t to their fields, as
// encoding/json sees them: the fields of an embedded struct without a JSON
// name (SweepSettings, `json:",inline"`) are the outer struct's own, and an
// outer field wins over an embedded one of the same name.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			for et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if name != "" && f.IsExported() {
			fields[name] = f
		}
	}
	for _, et := range embedded {
		for name, f := range jsonFields(et) {
			if _, ok := fields[name]; !ok {
				fields[name] = f
			}
		}
	}
	return fields
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

// withValidation adds, to the decoding errors of a config, the validation
// errors of the rest of it: the offending fields are dropped, the remainder
// is decoded, defaulted and validated, and every problem not at (or under,
// or above) an already reported path is appended. So a user sees a wrong
// type and an out-of-order threshold in one pass, not one after the other.
func withValidation(data []byte, err error) error {
	var errs Errors
	if !errors.As(err, &errs) {
		return err
	}
	for _, e := range errs {
		if e.Path == "(file)" {
			return errs
		}
	}
	js, jerr := yaml.YAMLToJSONStrict(data)
	if jerr != nil {
		return errs
	}
	var generic any
	if json.Unmarshal(js, &generic) != nil {
		return errs
	}
	for _, e := range errs {
		generic = drop(generic, splitPath(e.Path))
	}
	b, merr := json.Marshal(generic)
	if merr != nil {
		return errs
	}
	var c ModelPerformanceMetrics
	if json.Unmarshal(b, &c) != nil || c.Default() != nil {
		return errs
	}
	var more Errors
	if verr := c.Validate(); !errors.As(verr, &more) {
		return errs
	}
	out := append(Errors(nil), errs...)
	for _, v := range more {
		related := false
		for _, e := range errs {
			if v.Path == e.Path || strings.HasPrefix(v.Path, e.Path+".") || strings.HasPrefix(v.Path, e.Path+"[") ||
				strings.HasPrefix(e.Path, v.Path+".") || strings.HasPrefix(e.Path, v.Path+"[") {
				related = true
			}
		}
		if !related {
			out = append(out, v)
		}
	}
	return out
}

// splitPath turns "spec.models[1].gpus" into ["spec", "models", "[1]", "gpus"].
func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, ".") {
		for {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				break
			}
			j := strings.IndexByte(part[i:], ']')
			if j < 0 {
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			out = append(out, part[i:i+j+1])
			part = part[i+j+1:]
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// drop removes the value at path from a decoded JSON tree (a list element
// becomes null, which decodes as unset).
func drop(v any, path []string) any {
	if len(path) == 0 {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		k := path[0]
		if strings.HasPrefix(k, "[") {
			k = strings.TrimSuffix(strings.TrimPrefix(k, "["), "]")
		}
		if len(path) == 1 {
			delete(x, k)
		} else if e, ok := x[k]; ok {
			x[k] = drop(e, path[1:])
		}
	case []any:
		var i int
		if _, err := fmt.Sscanf(path[0], "[%d]", &i); err == nil && i >= 0 && i < len(x) {
			x[i] = drop(x[i], path[1:])
		}
	}
	return v
}
