package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
	"github.com/rhoai-demo/step07/sweep-runner/sweep"
)

// Answer compares the time to a breaking point of two sweeps of the same
// simulator (default profile, max-num-seqs N: the queue rule trips from
// N+1 streams, so the exact breaking point is N+1).
type Answer struct {
	MaxNumSeqs  int     `json:"max_num_seqs"`
	Expected    int     `json:"expected_breaking_point"`
	StepSeconds float64 `json:"step_seconds"`
	// Adaptive: doubling 1..32 that stops at the first broken step, then
	// bisection (sweep-runner's default).
	Adaptive *SweepTime `json:"adaptive"`
	// FixedGrid: every step of 1, 2, 4, ..., 32, no bisection.
	FixedGrid *SweepTime `json:"fixed_grid"`
}

// SweepTime is one sweep's cost and answer.
type SweepTime struct {
	Name        string  `json:"name"`
	Steps       int     `json:"steps"`
	WallSeconds float64 `json:"wall_seconds"`
	// SecondsToExact: from the start to the end of the step that pinned the
	// breaking point to adjacent integers (0: never).
	SecondsToExact float64 `json:"seconds_to_exact,omitempty"`
	// Low and High bracket the breaking point: Low is the highest step not
	// broken below High, the lowest broken step; exact when High = Low+1.
	Low         int    `json:"low"`
	High        int    `json:"high"`
	Exact       bool   `json:"exact"`
	Answer      string `json:"answer"`
	Concurrency []int  `json:"concurrency"`
}

func timeToAnswer(ctx context.Context, o *options, logw io.Writer) (*Answer, error) {
	s, err := startSim(ctx, o, "answer", "--max-num-seqs", strconv.Itoa(o.answerSeqs))
	if err != nil {
		return nil, err
	}
	defer s.stop()
	a := &Answer{MaxNumSeqs: o.answerSeqs, Expected: o.answerSeqs + 1, StepSeconds: o.answerStep.Seconds()}
	f := false
	for _, v := range []struct {
		name string
		dst  **SweepTime
		set  func(*v1alpha1.PlanSpec)
	}{
		{"doubling 1..32 + early stop + bisection", &a.Adaptive, func(*v1alpha1.PlanSpec) {}},
		{"fixed grid 1,2,4,8,16,32", &a.FixedGrid, func(p *v1alpha1.PlanSpec) {
			p.Concurrency = []int{1, 2, 4, 8, 16, 32}
			p.Bisect = &f
		}},
	} {
		fmt.Fprintf(logw, "bench: time to answer, %s ...\n", v.name)
		st, err := sweepOnce(ctx, o, s, v.name, v.set)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(logw, "bench: %s: %.1f s, %d steps, %s\n", v.name, st.WallSeconds, st.Steps, st.Answer)
		*v.dst = st
	}
	return a, nil
}

func sweepOnce(ctx context.Context, o *options, s *sim, name string, set func(*v1alpha1.PlanSpec)) (*SweepTime, error) {
	plan := &v1alpha1.SweepPlan{Spec: v1alpha1.PlanSpec{
		Targets: []v1alpha1.Target{{Name: "sim", URL: s.URL, Model: s.Model}},
		SweepSettings: v1alpha1.SweepSettings{
			Scenarios:        []v1alpha1.Scenario{{Name: "S", InputTokens: 64, OutputTokens: 24}},
			StartConcurrency: v1alpha1.Ptr(1), MaxConcurrency: v1alpha1.Ptr(32),
			StepDuration: v1alpha1.DP(o.answerStep), Warmup: v1alpha1.DP(o.answerStep / 5),
			RequestTimeout: v1alpha1.DP(20 * time.Second),
		},
	}}
	set(&plan.Spec)
	if err := plan.Default(); err != nil {
		return nil, err
	}
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-sweep-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r := sweep.New(plan)
	start := time.Now()
	if err := r.Check(ctx); err != nil {
		return nil, err
	}
	if err := r.Create(dir, "bench"); err != nil {
		return nil, err
	}
	if err := r.Run(ctx); err != nil {
		return nil, err
	}
	wall := time.Since(start)
	st := &SweepTime{Name: name, WallSeconds: wall.Seconds()}
	steps := r.Steps()
	st.Steps = len(steps)
	for i, s := range steps {
		st.Concurrency = append(st.Concurrency, s.Concurrency)
		lo, hi := bracket(steps[:i+1])
		if hi > 0 && hi == lo+1 && st.SecondsToExact == 0 {
			st.SecondsToExact = s.EndedAt.Sub(start).Seconds()
		}
	}
	st.Low, st.High = bracket(steps)
	st.Exact = st.High > 0 && st.High == st.Low+1
	switch {
	case st.High == 0:
		st.Answer = "no step broke"
	case st.Exact:
		st.Answer = fmt.Sprintf("breaking point %d (exact)", st.High)
	default:
		st.Answer = fmt.Sprintf("breaking point within %d..%d (bracket only)", st.Low+1, st.High)
	}
	return st, nil
}

// bracket: the lowest broken step and the highest step below it that did
// not break.
func bracket(steps []results.Step) (lo, hi int) {
	ss := append([]results.Step(nil), steps...)
	sort.Slice(ss, func(i, j int) bool { return ss[i].Concurrency < ss[j].Concurrency })
	for _, s := range ss {
		if s.Broken {
			hi = s.Concurrency
			break
		}
	}
	for _, s := range ss {
		if !s.Broken && (hi == 0 || s.Concurrency < hi) {
			lo = s.Concurrency
		}
	}
	return lo, hi
}
