package tree

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// context is the number of unchanged lines shown around a change.
const context = 3

// Unified renders changes as a unified diff (a/ and b/ prefixes, three lines
// of context, deletions before insertions), the way `git diff` shows them.
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
		hunks(&b, splitLines(string(ch.Old)), splitLines(string(ch.New)))
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

// hunks writes the hunks turning a into b. difflib finds the matching
// lines (without its "popular line" heuristic, which would make the diffs
// of YAML files, full of repeated lines, larger than they need be) and
// groups the changes; the hunk format is git's, every range with its length.
func hunks(w *strings.Builder, a, b []string) {
	m := difflib.NewMatcherWithJunk(a, b, false, nil)
	for _, g := range m.GetGroupedOpCodes(context) {
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(w, "@@ -%s +%s @@\n", span(first.I1, last.I2), span(first.J1, last.J2))
		for _, op := range g {
			if op.Tag == 'e' {
				lines(w, ' ', a[op.I1:op.I2])
				continue
			}
			lines(w, '-', a[op.I1:op.I2])
			lines(w, '+', b[op.J1:op.J2])
		}
	}
}

// span is a hunk range: the first line (1-based; the line before, for an
// empty range) and the number of lines.
func span(start, stop int) string {
	if stop == start {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, stop-start)
}

func lines(w *strings.Builder, kind byte, ls []string) {
	for _, l := range ls {
		w.WriteByte(kind)
		w.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			w.WriteString("\n\\ No newline at end of file\n")
		}
	}
}
