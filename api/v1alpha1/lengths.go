package v1alpha1

import (
	"fmt"
	"math"
	"strings"
)

// Request lengths: what a scenario sends, defined once here so that the
// sweep's load and the simulator's ground truth draw the same lengths for
// the same request number. A scenario sends its nominal inputTokens and
// outputTokens, varies them uniformly by +-spread, draws them from a
// distribution (the *Stdev, *Min, *Max and lengthDistribution fields,
// GuideLLM's names), or draws its shape from a mix of scenarios. A
// dataset's recorded prompts replace the draw (the sweep reads the file).

// Salts of the draws of one request number, so that its prompt length,
// output length and mix part are independent.
const (
	saltIn  = 0x9e3779b97f4a7c15
	saltOut = 0xc2b2ae3d27d4eb4f
	saltMix = 0x165667b19e3779f9
	saltZ   = 0x27d4eb2f165667c5
)

// unit maps n to a uniform value in [0, 1) (splitmix64): deterministic,
// so two runs draw the same lengths.
func unit(n uint64) float64 {
	z := n + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / float64(1<<53)
}

// Varies says whether the scenario's requests differ in length.
func (s Scenario) Varies() bool {
	return s.Spread > 0 || s.InputTokensStdev > 0 || s.OutputTokensStdev > 0 || len(s.Mix) > 0 || s.Dataset != nil
}

// Draw returns request n's prompt and output tokens.
func (s Scenario) Draw(n uint64) (in, out int) {
	if len(s.Mix) > 0 {
		if p := s.part(n); p != nil && p.Shape != nil {
			return p.Shape.Draw(n)
		}
	}
	return s.draw(s.InputTokens, s.InputTokensStdev, s.InputTokensMin, s.InputTokensMax, n^saltIn),
		s.draw(s.OutputTokens, s.OutputTokensStdev, s.OutputTokensMin, s.OutputTokensMax, n^saltOut)
}

// part picks request n's part of a mix by weight.
func (s Scenario) part(n uint64) *MixPart {
	total := 0.0
	for _, p := range s.Mix {
		total += p.Weight
	}
	u := unit(n^saltMix) * total
	for i := range s.Mix {
		if u < s.Mix[i].Weight {
			return &s.Mix[i]
		}
		u -= s.Mix[i].Weight
	}
	return &s.Mix[len(s.Mix)-1]
}

// draw is one length around mean: uniform +-spread, or from the
// distribution with stdev clipped to [lo, hi], or mean itself.
func (s Scenario) draw(mean, stdev, lo, hi int, n uint64) int {
	u := unit(n)
	switch {
	case s.Spread > 0:
		return max(1, int(float64(mean)*(1+s.Spread*(2*u-1))+0.5))
	case stdev <= 0:
		return mean
	}
	m, sd := float64(mean), float64(stdev)
	var v float64
	switch s.LengthDistribution {
	case LengthUniform:
		// a uniform of this mean and standard deviation: +-sqrt(3) sd
		v = m + sd*math.Sqrt(3)*(2*u-1)
	case LengthLognormal:
		sigma2 := math.Log(1 + sd*sd/(m*m))
		v = math.Exp(math.Log(m) - sigma2/2 + math.Sqrt(sigma2)*normal(u, unit(n^saltZ)))
	default:
		v = m + sd*normal(u, unit(n^saltZ))
	}
	lo, hi = lengthBounds(mean, stdev, lo, hi)
	return min(hi, max(lo, int(math.Round(v))))
}

// normal is a standard normal draw from two uniforms (Box-Muller).
func normal(u1, u2 float64) float64 {
	return math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
}

// lengthBounds are a distribution's clip bounds: the given ones, else 1
// and max(4 x mean, mean + 4 x stdev).
func lengthBounds(mean, stdev, lo, hi int) (int, int) {
	if lo <= 0 {
		lo = 1
	}
	if hi <= 0 {
		hi = max(4*mean, mean+4*stdev)
	}
	return lo, hi
}

// MaxLengths are the longest prompt and output a scenario may send: what
// the sweep probes the server with before any step.
func (s Scenario) MaxLengths() (in, out int) {
	if len(s.Mix) > 0 {
		for _, p := range s.Mix {
			if p.Shape != nil {
				i, o := p.Shape.MaxLengths()
				in, out = max(in, i), max(out, o)
			}
		}
		return in, out
	}
	bound := func(mean, stdev, lo, hi int) int {
		switch {
		case s.Spread > 0:
			return int(float64(mean)*(1+s.Spread) + 0.5)
		case stdev > 0:
			_, h := lengthBounds(mean, stdev, lo, hi)
			return h
		}
		return mean
	}
	return bound(s.InputTokens, s.InputTokensStdev, s.InputTokensMin, s.InputTokensMax),
		max(1, bound(s.OutputTokens, s.OutputTokensStdev, s.OutputTokensMin, s.OutputTokensMax))
}

// defaultLengths fills a distribution's name.
func (s *Scenario) defaultLengths() {
	if (s.InputTokensStdev > 0 || s.OutputTokensStdev > 0) && s.LengthDistribution == "" {
		s.LengthDistribution = LengthNormal
	}
}

// ResolveMixes copies into each mix scenario of all the shapes of the
// scenarios it names, and sets its inputTokens and outputTokens to their
// weighted means, so that the plan as run holds what it sends even when
// the named scenarios are not run themselves (--scenario AC). Names that
// match nothing are left for Validate.
func ResolveMixes(all []Scenario) {
	for i := range all {
		m := &all[i]
		if len(m.Mix) == 0 {
			continue
		}
		var in, out, w float64
		for j := range m.Mix {
			p := &m.Mix[j]
			for _, sc := range all {
				if strings.EqualFold(sc.Name, p.Scenario) && len(sc.Mix) == 0 {
					shape := sc.clone()
					shape.Description, shape.ThinkTime, shape.Turns, shape.Arrival, shape.SharedPrefixTokens = "", nil, nil, nil, 0
					p.Shape = &shape
				}
			}
			if p.Shape != nil && p.Weight > 0 {
				in += p.Weight * float64(p.Shape.InputTokens)
				out += p.Weight * float64(p.Shape.OutputTokens)
				w += p.Weight
			}
		}
		if w > 0 {
			m.InputTokens, m.OutputTokens = int(math.Round(in/w)), int(math.Round(out/w))
		}
	}
}

// validateLengths reports the problems of a scenario's lengths at p.
func (s Scenario) validateLengths(errs *Errors, p string) {
	for _, d := range []struct {
		name               string
		mean, sd, min, max int
	}{
		{"inputTokens", s.InputTokens, s.InputTokensStdev, s.InputTokensMin, s.InputTokensMax},
		{"outputTokens", s.OutputTokens, s.OutputTokensStdev, s.OutputTokensMin, s.OutputTokensMax},
	} {
		if d.sd < 0 || d.min < 0 || d.max < 0 {
			errs.Add(p+"."+d.name+"Stdev", "%sStdev, Min and Max must not be negative", d.name)
			continue
		}
		if d.sd == 0 && (d.min > 0 || d.max > 0) {
			errs.Add(p+"."+d.name+"Min", "%sMin and %sMax bound a distribution: set %sStdev too", d.name, d.name, d.name)
		}
		if d.sd > 0 && s.Spread > 0 {
			errs.Add(p+".spread", "is a uniform distribution of its own: use it or %sStdev, not both", d.name)
		}
		lo, hi := lengthBounds(d.mean, d.sd, d.min, d.max)
		if d.sd > 0 && d.mean > 0 && !(lo <= d.mean && d.mean <= hi) {
			errs.Add(p+"."+d.name+"Min", "need %sMin (%d) <= %s (%d) <= %sMax (%d)", d.name, lo, d.name, d.mean, d.name, hi)
		}
		if hi > 1<<20 {
			errs.Add(p+"."+d.name+"Max", "must be at most 1048576, got %d", hi)
		}
	}
	switch s.LengthDistribution {
	case "", LengthNormal, LengthLognormal, LengthUniform:
	default:
		errs.Add(p+".lengthDistribution", "must be %q, %q or %q, got %q", LengthNormal, LengthLognormal, LengthUniform, s.LengthDistribution)
	}
	if len(s.Mix) == 0 {
		return
	}
	if s.Dataset != nil {
		errs.Add(p+".mix", "and dataset exclude each other: a mix draws from synthetic scenarios")
	}
	for i, part := range s.Mix {
		f := fmt.Sprintf("%s.mix[%d]", p, i)
		if part.Weight <= 0 {
			errs.Add(f+".weight", "must be positive, got %g", part.Weight)
		}
		if part.Shape == nil {
			errs.Add(f+".scenario", "%q names no scenario of the plan without a mix of its own", part.Scenario)
		}
	}
}
