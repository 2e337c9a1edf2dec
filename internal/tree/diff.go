package tree

import (
	"fmt"
	"strings"
)

// Unified renders changes as a unified diff (a/ and b/ prefixes, three lines
// of context), the way `git diff` shows them.
func Unified(changes []Change) string {
	var b strings.Builder
	for _, ch := range changes {
		from, to := "a/"+ch.Path, "b/"+ch.Path
		if ch.Old == nil {
			from = "/dev/null"
		}
		if ch.New == nil {
			to = "/dev/null"
		}
		fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
		b.WriteString(diffLines(splitLines(string(ch.Old)), splitLines(string(ch.New))))
		if ch.Old != nil && ch.New != nil && string(ch.Old) == string(ch.New) {
			fmt.Fprintf(&b, "(file mode changes to %o)\n", ch.Mode)
		}
	}
	return b.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.SplitAfter(s, "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

type op struct {
	kind byte // ' ', '-', '+'
	line string
}

// edits is a longest-common-subsequence edit script; past a size limit it
// degrades to "remove all, add all", still a correct diff.
func edits(a, b []string) []op {
	// Trim the common prefix and suffix: most regenerations touch a few lines.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []op
	for _, l := range a[:pre] {
		out = append(out, op{' ', l})
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(am), len(bm)
	if n*m > 16<<20 {
		for _, l := range am {
			out = append(out, op{'-', l})
		}
		for _, l := range bm {
			out = append(out, op{'+', l})
		}
	} else {
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else if lcs[i+1][j] >= lcs[i][j+1] {
					lcs[i][j] = lcs[i+1][j]
				} else {
					lcs[i][j] = lcs[i][j+1]
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && am[i] == bm[j]:
				out = append(out, op{' ', am[i]})
				i++
				j++
			case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
				// Deletions before insertions, as git shows them.
				out = append(out, op{'-', am[i]})
				i++
			default:
				out = append(out, op{'+', bm[j]})
				j++
			}
		}
	}
	for _, l := range a[len(a)-suf:] {
		out = append(out, op{' ', l})
	}
	return out
}

const context = 3

func diffLines(a, b []string) string {
	ops := edits(a, b)
	var sb strings.Builder
	// Group changes into hunks with up to `context` lines around them.
	for start := 0; start < len(ops); {
		for start < len(ops) && ops[start].kind == ' ' {
			start++
		}
		if start == len(ops) {
			break
		}
		lo := max(start-context, 0)
		end := start
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				break
			}
			end = run
		}
		hi := min(end+context, len(ops))
		// Line numbers of the hunk's first line in a and b.
		aStart, bStart := 1, 1
		for _, o := range ops[:lo] {
			if o.kind != '+' {
				aStart++
			}
			if o.kind != '-' {
				bStart++
			}
		}
		aLen, bLen := 0, 0
		for _, o := range ops[lo:hi] {
			if o.kind != '+' {
				aLen++
			}
			if o.kind != '-' {
				bLen++
			}
		}
		if aLen == 0 {
			aStart--
		}
		if bLen == 0 {
			bStart--
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
		for _, o := range ops[lo:hi] {
			sb.WriteByte(o.kind)
			sb.WriteString(o.line)
			if !strings.HasSuffix(o.line, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
		start = hi
	}
	return sb.String()
}
