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

// Draws of one request number: a point of the Kronecker (R3) sequence
// u(n) = frac(1/2 + n * alpha_d), alpha_d = 1/phi3^(d+1), with phi3 the
// root of x^4 = x + 1, one dimension for the mix part, the prompt and the
// output. A low-discrepancy sequence rather than a random one: any run of
// consecutive request numbers (a step's, a run's) covers each dimension
// evenly, so the lengths a server is sent match the asked distribution
// within a few requests (a random draw's mean wanders by stdev/sqrt(n)),
// the dimensions stay independent, and the same numbers draw the same
// lengths in every run.
const phi3 = 1.2207440846057594754

var alpha = [3]float64{1 / phi3, 1 / (phi3 * phi3), 1 / (phi3 * phi3 * phi3)}

const (
	dimMix = iota
	dimIn
	dimOut
)

// kron is request n's coordinate d in [0, 1).
func kron(n uint64, d int) float64 {
	_, f := math.Modf(0.5 + float64(n%(1<<40))*alpha[d])
	return f
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
	return s.draw(s.InputTokens, s.InputTokensStdev, s.InputTokensMin, s.InputTokensMax, kron(n, dimIn)),
		s.draw(s.OutputTokens, s.OutputTokensStdev, s.OutputTokensMin, s.OutputTokensMax, kron(n, dimOut))
}

// part picks request n's part of a mix by weight.
func (s Scenario) part(n uint64) *MixPart {
	total := 0.0
	for _, p := range s.Mix {
		total += p.Weight
	}
	u := kron(n, dimMix) * total
	for i := range s.Mix {
		if u < s.Mix[i].Weight {
			return &s.Mix[i]
		}
		u -= s.Mix[i].Weight
	}
	return &s.Mix[len(s.Mix)-1]
}

// draw is one length around mean for the uniform coordinate u: uniform
// +-spread, or from the distribution with stdev (by its inverse CDF)
// clipped to [lo, hi], or mean itself.
func (s Scenario) draw(mean, stdev, lo, hi int, u float64) int {
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
		v = math.Exp(math.Log(m) - sigma2/2 + math.Sqrt(sigma2)*normal(u))
	default:
		v = m + sd*normal(u)
	}
	lo, hi = lengthBounds(mean, stdev, lo, hi)
	return min(hi, max(lo, int(math.Round(v))))
}

// normal is the standard normal quantile of u in (0, 1).
func normal(u float64) float64 {
	u = min(max(u, 1e-12), 1-1e-12)
	return math.Sqrt2 * math.Erfinv(2*u-1)
}

// lengthBounds are a distribution's clip bounds: the given ones, else 1
// and max(4 x mean, mean + 4 x stdev), within the 1048576 tokens a length
// may be.
func lengthBounds(mean, stdev, lo, hi int) (int, int) {
	if lo <= 0 {
		lo = 1
	}
	if hi <= 0 {
		hi = min(max(4*mean, mean+4*stdev), max(mean, 1<<20))
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
