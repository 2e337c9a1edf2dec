package report

import (
	"regexp"
	"strings"
	"testing"
)

// TestStepsTablesOneShape: closed-loop and open-loop steps are one table in
// report.md and report.html: the same columns, the open loop's load first
// and its send delay after the requests; every row (notes included) has
// its header's cells.
func TestStepsTablesOneShape(t *testing.T) {
	sum := openLoopSummary()
	sum.Results[0].Steps[0].Errors = map[string]int{"timeout": 2}
	md, err := MarkdownOpts(sum, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := md[strings.Index(md, "## Steps"):strings.Index(md, "## Definitions")]
	var heads [][]string
	var rows int
	for _, table := range strings.Split(steps, "### ")[1:] {
		var head []string
		for _, line := range strings.Split(table, "\n") {
			if !strings.HasPrefix(line, "|") {
				continue
			}
			cells := strings.Split(strings.Trim(line, "|"), " | ")
			if head == nil {
				head = cells
				heads = append(heads, head)
				continue
			}
			rows++
			if len(cells) != len(head) {
				t.Errorf("report.md row with %d cells under a %d-column head: %s", len(cells), len(head), line)
			}
		}
	}
	if len(heads) != 2 {
		t.Fatalf("%d steps tables in report.md, want 2:\n%s", len(heads), steps)
	}
	closed, open := heads[0], heads[1]
	if strings.TrimSpace(closed[0]) != "conc." || open[0] != " offered req/s (achieved), in flight" {
		t.Errorf("load columns %q and %q", closed[0], open[0])
	}
	// The open loop's columns are the closed loop's with the send delay
	// after the requests.
	want := append(append(append([]string{}, closed[1:5]...), "send delay p95"), closed[5:]...)
	if strings.Join(open[1:], "|") != strings.Join(want, "|") {
		t.Errorf("open-loop columns\n%q\nwant the closed loop's with the send delay\n%q", open[1:], want)
	}
	// 2 aligns + 3 steps + the error note + the client-bound step's and the
	// other open step's arrival notes.
	if rows != 2+3+1+2 {
		t.Errorf("%d rows under the heads, want 8:\n%s", rows, steps)
	}
	html, err := HTML(sum, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tables := regexp.MustCompile(`(?s)<h3>t · scenario [AP].*?</table>`).FindAllString(string(html), -1)
	if len(tables) != 2 {
		t.Fatalf("%d steps tables in report.html, want 2", len(tables))
	}
	for _, tb := range tables {
		trs := regexp.MustCompile(`(?s)<tr>.*?</tr>`).FindAllString(tb, -1)
		n := strings.Count(trs[0], "<th")
		for _, tr := range trs[1:] {
			if c := strings.Count(tr, "<td"); c != n {
				t.Errorf("report.html row with %d cells under %d heads: %s", c, n, tr)
			}
		}
	}
	if !strings.Contains(tables[1], "<th>send delay p95</th>") || strings.Contains(tables[0], "send delay") {
		t.Errorf("send delay column: only the open loop's table has it")
	}
}
