package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// GoBenchmark is one line of `go test -bench -benchmem` output.
type GoBenchmark struct {
	Package string `json:"package"`
	Name    string `json:"name"`
	N       int64  `json:"n"`
	// Metrics by unit: "ns/op", "B/op", "allocs/op" and the benchmark's
	// own (e.g. "ns/chunk", "allocs/chunk", "ms/tree").
	Metrics map[string]float64 `json:"metrics"`
}

// parseGoBench reads `go test -bench` output (pkg: lines name the package
// of the Benchmark lines after them).
func parseGoBench(r io.Reader) []GoBenchmark {
	var out []GoBenchmark
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // GOMAXPROCS suffix
			}
		}
		b := GoBenchmark{Package: pkg, Name: name, N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			b.Metrics[f[i+1]] = v
		}
		out = append(out, b)
	}
	return out
}
