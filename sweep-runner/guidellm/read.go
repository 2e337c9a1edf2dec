package guidellm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Problem is one thing wrong with a report, at its JSON path
// ("benchmarks[2].metrics.request_totals.successful").
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Error is a report that cannot be imported: malformed, of an unknown
// version, or missing a field the import needs. It lists every problem
// found (at most maxProblems).
type Error struct {
	File     string
	Problems []Problem
	// More counts the problems left out of Problems.
	More int
}

const maxProblems = 20

func (e *Error) Error() string {
	var b strings.Builder
	name := e.File
	if name == "" {
		name = "GuideLLM report"
	}
	if len(e.Problems) == 1 && e.More == 0 {
		return name + ": " + e.Problems[0].String()
	}
	fmt.Fprintf(&b, "%s: not a GuideLLM report this import can read:", name)
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", e.More)
	}
	return b.String()
}

// checker collects problems while walking a decoded report.
type checker struct {
	file string
	errs []Problem
	more int
	seen map[string]bool
}

func (c *checker) add(path, format string, args ...any) {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if c.seen[path] {
		return
	}
	c.seen[path] = true
	if len(c.errs) >= maxProblems {
		c.more++
		return
	}
	c.errs = append(c.errs, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &Error{File: c.file, Problems: c.errs, More: c.more}
}

// node is a value of the decoded tree and its JSON path. A node that is
// absent (or null) keeps the path of the first absent field, so that a
// missing object is reported once, at its own path, not at every field
// read below it; bad marks a node under a value of the wrong type (already
// reported).
type node struct {
	path    string
	v       any
	missing bool
	bad     bool
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// get returns the member k of an object node.
func (c *checker) get(n node, k string) node {
	if n.missing || n.bad {
		return n
	}
	m, ok := n.v.(map[string]any)
	if !ok {
		c.add(n.path, "must be an object, got %s", kindOf(n.v))
		return node{path: n.path, bad: true}
	}
	v, ok := m[k]
	p := joinPath(n.path, k)
	if !ok || v == nil {
		return node{path: p, missing: true}
	}
	return node{path: p, v: v}
}

// has reports whether n is present (not absent, not null, not under a bad value).
func (n node) has() bool { return !n.missing && !n.bad }

// num reads a required finite number.
func (c *checker) num(n node) float64 {
	v, ok := c.optNum(n)
	if !ok && n.missing {
		c.add(n.path, "missing")
	}
	return v
}

// optNum reads a number that may be absent; ok is false when it is absent
// or not a number (the latter reported).
func (c *checker) optNum(n node) (float64, bool) {
	if !n.has() {
		return 0, false
	}
	var f float64
	switch x := n.v.(type) {
	case json.Number:
		v, err := x.Float64()
		if err != nil {
			c.add(n.path, "must be a finite number, got %s", x)
			return 0, false
		}
		f = v
	case float64:
		f = x
	default:
		c.add(n.path, "must be a number, got %s", kindOf(n.v))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		c.add(n.path, "must be a finite number, got %v", f)
		return 0, false
	}
	return f, true
}

// integer reads a required non-negative whole number.
func (c *checker) integer(n node) int {
	v, ok := c.optInt(n)
	if !ok && n.missing {
		c.add(n.path, "missing")
	}
	return v
}

func (c *checker) optInt(n node) (int, bool) {
	f, ok := c.optNum(n)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		c.add(n.path, "must be a whole number of at least 0, got %v", f)
		return 0, false
	}
	return int(f), true
}

// optStr reads a string that may be absent.
func (c *checker) optStr(n node) (string, bool) {
	if !n.has() {
		return "", false
	}
	s, ok := n.v.(string)
	if !ok {
		c.add(n.path, "must be a string, got %s", kindOf(n.v))
		return "", false
	}
	return s, true
}

// str reads a required string.
func (c *checker) str(n node) string {
	s, ok := c.optStr(n)
	if !ok && n.missing {
		c.add(n.path, "missing")
	}
	return s
}

func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "string " + strconv.Quote(x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case json.Number:
		return "number " + x.String()
	case float64:
		return fmt.Sprintf("number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// MaxReportBytes bounds the report files read: GuideLLM's reports hold the
// (sampled) per-request records and can be large, but not this large.
const MaxReportBytes = 4 << 30

// ReadFile reads and parses a report file (JSON, or YAML when the file does
// not start with '{').
func ReadFile(path string) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		// GuideLLM's own loader takes a directory holding benchmarks.json.
		path = strings.TrimSuffix(path, "/") + "/benchmarks.json"
	} else if st.Size() > MaxReportBytes {
		return nil, &Error{File: path, Problems: []Problem{{Msg: fmt.Sprintf("is %d bytes, more than the %d-byte limit", st.Size(), int64(MaxReportBytes))}}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// decodeTop decodes the top level of a report, leaving the members as raw
// JSON: the per-request records (benchmarks[].requests) are never decoded.
func decodeTop(data []byte, file string) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &Error{File: file, Problems: []Problem{{Msg: "is empty"}}}
	}
	if trimmed[0] != '{' {
		// YAML (GuideLLM's --output-path benchmarks.yaml): the same tree.
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, &Error{File: file, Problems: []Problem{{Msg: "neither JSON nor valid YAML: " + oneLine(err.Error())}}}
		}
		trimmed = bytes.TrimSpace(js)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil || top == nil {
		var ute *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &ute) {
			return nil, &Error{File: file, Problems: []Problem{{Msg: "invalid JSON: " + oneLine(err.Error())}}}
		}
		return nil, &Error{File: file, Problems: []Problem{{Msg: "must be an object with metadata, config (or args) and benchmarks"}}}
	}
	return top, nil
}

// decodeValue decodes raw JSON into the generic tree (numbers as json.Number).
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
