package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// TestGradeColumnsFollowTheSLA: the grade columns of summary.csv and
// report.md are the KPIs the run's SLA grades, ITL p99 among them once set.
func TestGradeColumnsFollowTheSLA(t *testing.T) {
	var sla v1alpha1.SLA
	sla.Default()
	if h := CSVHeader(sla); slices.Contains(h, "grade_itl_p99") || !slices.Contains(h, "grade_ttft") {
		t.Errorf("default SLA columns %v", h)
	}
	sla.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(50 * time.Millisecond), Acceptable: v1alpha1.D(100 * time.Millisecond), Degraded: v1alpha1.D(200 * time.Millisecond)}
	sum := &results.Summary{SLA: sla, Results: []results.Result{{Target: "m", Scenario: "A", Steps: []results.Step{{
		Target: "m", Scenario: "A", Concurrency: 4, Grades: results.Grades{"ttft": "excellent", "itl_p99": "degraded"},
	}}}}}
	rows, err := csv.NewReader(bytes.NewReader(CSV(sum))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(rows[0], "grade_itl_p99")
	if i < 0 || rows[1][i] != "degraded" {
		t.Errorf("summary.csv: columns %v, row %v", rows[0], rows[1])
	}
	if h := GradesHead(sla); !strings.Contains(h, "ITL99") {
		t.Errorf("report.md grades head %q", h)
	}
}

// TestHTMLSLATableFollowsTheSLA: report.html's SLA table has a row per
// graded KPI, ITL p99 once the SLA grades it, and the breaking rules in words.
func TestHTMLSLATableFollowsTheSLA(t *testing.T) {
	var sla v1alpha1.SLA
	sla.Default()
	sla.ITLP99 = v1alpha1.DurationThresholds{Excellent: v1alpha1.D(50 * time.Millisecond), Acceptable: v1alpha1.D(100 * time.Millisecond), Degraded: v1alpha1.D(200 * time.Millisecond)}
	html, err := HTML(&results.Summary{SLA: sla}, nil, Options{NoPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<td>ITL p99</td><td class="n">50ms</td><td class="n">100ms</td><td class="n">200ms</td>`, "A step breaks when TTFT p95 &gt; 2s"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}
