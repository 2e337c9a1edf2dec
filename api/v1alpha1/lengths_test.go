package v1alpha1

import (
	"math"
	"strings"
	"testing"
)

// Draw: each distribution keeps its mean and standard deviation (within
// the clip), stays inside its bounds, and gives the same lengths for the
// same request numbers.
func TestDrawDistributions(t *testing.T) {
	for _, dist := range []string{LengthNormal, LengthLognormal, LengthUniform} {
		s := Scenario{InputTokens: 500, OutputTokens: 300, OutputTokensStdev: 100, OutputTokensMin: 16, OutputTokensMax: 2000, LengthDistribution: dist}
		const n = 20000
		var sum, sq float64
		for i := uint64(1); i <= n; i++ {
			in, out := s.Draw(i)
			if in != 500 {
				t.Fatalf("%s: prompt %d, want the nominal 500 (no stdev)", dist, in)
			}
			if out < 16 || out > 2000 {
				t.Fatalf("%s: output %d outside [16, 2000]", dist, out)
			}
			if _, again := s.Draw(i); again != out {
				t.Fatalf("%s: request %d drew %d then %d", dist, i, out, again)
			}
			sum += float64(out)
			sq += float64(out) * float64(out)
		}
		mean := sum / n
		sd := math.Sqrt(sq/n - mean*mean)
		if math.Abs(mean-300) > 6 || math.Abs(sd-100) > 6 {
			t.Errorf("%s: mean %.1f sd %.1f, want 300 and 100", dist, mean, sd)
		}
	}
	// lognormal's long tail: a share far above the mean that normal lacks
	ln := Scenario{OutputTokens: 300, OutputTokensStdev: 200, LengthDistribution: LengthLognormal}
	ln.defaultLengths()
	tail := 0
	for i := uint64(1); i <= 10000; i++ {
		if _, out := ln.Draw(i); out > 900 {
			tail++
		}
	}
	if tail < 50 {
		t.Errorf("lognormal: %d of 10000 outputs above 3 x the mean, want a tail", tail)
	}
}

// A spread stays the uniform +-spread it always was.
func TestDrawSpread(t *testing.T) {
	s := Scenario{InputTokens: 200, OutputTokens: 100, Spread: 0.2}
	lo, hi := 1000, 0
	for i := uint64(1); i < 2000; i++ {
		_, out := s.Draw(i)
		lo, hi = min(lo, out), max(hi, out)
	}
	if lo < 80 || hi > 120 || hi-lo < 30 {
		t.Errorf("spread 0.2 of 100: outputs %d..%d", lo, hi)
	}
	if in, out := s.MaxLengths(); in != 240 || out != 120 {
		t.Errorf("max lengths %d %d, want 240 120", in, out)
	}
}

// A mix draws its parts' shapes by weight, resolved from the plan's
// scenarios, also when --scenario keeps only the mix.
func TestMix(t *testing.T) {
	p := &SweepPlan{Spec: PlanSpec{SweepSettings: SweepSettings{Scenarios: []Scenario{
		{Name: "A", InputTokens: 256, OutputTokens: 128},
		{Name: "C", InputTokens: 256, OutputTokens: 1024},
		{Name: "AC", Mix: []MixPart{{Scenario: "A", Weight: 70}, {Scenario: "C", Weight: 30}}},
	}}, Targets: []Target{{Name: "m", URL: "http://127.0.0.1:1"}}}}
	if err := p.Apply(PlanOverrides{Scenarios: []string{"AC"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Default(); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	sc := p.Spec.Scenarios
	if len(sc) != 1 || sc[0].Name != "AC" || sc[0].OutputTokens != 397 || sc[0].InputTokens != 256 {
		t.Fatalf("scenarios %+v, want AC alone with the weighted means 256/397", sc)
	}
	short := 0
	for i := uint64(1); i <= 10000; i++ {
		switch _, out := sc[0].Draw(i); out {
		case 128:
			short++
		case 1024:
		default:
			t.Fatalf("request %d: output %d, neither part's", i, out)
		}
	}
	if math.Abs(float64(short)/10000-0.7) > 0.02 {
		t.Errorf("%d of 10000 short, want 70 %%", short)
	}
	if in, out := sc[0].MaxLengths(); in != 256 || out != 1024 {
		t.Errorf("max lengths %d %d", in, out)
	}
}

// Bad lengths are reported at their field paths, all at once.
func TestValidateLengths(t *testing.T) {
	p := &SweepPlan{Spec: PlanSpec{SweepSettings: SweepSettings{Scenarios: []Scenario{
		{Name: "a", InputTokens: 100, OutputTokens: 100, OutputTokensStdev: 10, Spread: 0.1},
		{Name: "b", InputTokens: 100, OutputTokens: 100, OutputTokensStdev: 10, OutputTokensMin: 200},
		{Name: "c", InputTokens: 100, OutputTokens: 100, LengthDistribution: "zipf", InputTokensMax: 300},
		{Name: "d", Mix: []MixPart{{Scenario: "nope", Weight: 1}, {Scenario: "a", Weight: 0}}},
	}}, Targets: []Target{{Name: "m", URL: "http://127.0.0.1:1"}}}}
	if err := p.Default(); err != nil {
		t.Fatal(err)
	}
	err := p.Validate()
	for _, want := range []string{
		"spec.scenarios[0].spread", "spec.scenarios[1].outputTokensMin", "spec.scenarios[2].lengthDistribution",
		"spec.scenarios[2].inputTokensMin", "spec.scenarios[3].mix[0].scenario", "spec.scenarios[3].mix[1].weight",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no error at %s: %v", want, err)
		}
	}
}

// Any short run of consecutive request numbers sends the asked
// distribution: the mean of 150 lognormal outputs is within 3 % of the
// mean wherever the run starts (a random draw's would wander by 5 %).
func TestDrawShortRunsMatch(t *testing.T) {
	s := Scenario{OutputTokens: 300, OutputTokensStdev: 200, OutputTokensMin: 16, OutputTokensMax: 2000, LengthDistribution: LengthLognormal}
	for _, start := range []uint64{1, 1000, 123457, 1 << 33} {
		sum := 0
		for n := start; n < start+150; n++ {
			_, out := s.Draw(n)
			sum += out
		}
		if mean := float64(sum) / 150; math.Abs(mean-300) > 9 {
			t.Errorf("requests %d..%d: mean output %.1f, want 300 +- 9", start, start+149, mean)
		}
	}
}
