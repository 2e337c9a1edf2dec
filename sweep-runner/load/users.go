package load

import (
	"context"
	"math"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/client"
)

// Users who are people. Without a population a user is a stream: a request
// in flight that starts the next the instant the previous ends. With one, a
// user thinks between an answer and the next request (reading, thinking,
// typing: not in flight), and may hold a conversation whose turns resend
// the history, answers included.
//
//   - Think time: after each answer (and after a failed request) the user
//     pauses for a draw from the distribution, deterministic per request
//     number, as the Desync and Spread draws are.
//   - Desynchronised start: each user's first request waits a uniform draw
//     over one mean think time (deterministic per user and the request
//     counter at the step's start), so the users do not
//     arrive in one wave and their think phases are spread as independent
//     people's would be; the warmup's "every user finished a request" then
//     also covers that spread.
//   - Conversations: each has a number of turns drawn uniformly between
//     TurnsMin and TurnsMax (per conversation, from its first request's
//     number); turn k sends turns 1..k-1 with the answers the server
//     streamed and a new user message. A failed turn, the last turn, or a
//     next turn that would not fit the server's context (Prompt.MaxModelLen)
//     ends the conversation and the user starts a new one.
//
// The worker makes requests; the tally adds up what the population needs
// (think times drawn, TTFT and prompt length by turn) from the outcomes.

// Think is a think-time distribution.
type Think struct {
	// Distribution: v1alpha1.DistFixed, DistExponential (the default) or
	// DistLognormal.
	Distribution string
	// Mean think time (> 0; the caller scales it with the run's time scale).
	Mean time.Duration
	// Spread is lognormal's coefficient of variation (std dev / mean).
	Spread float64
}

// Draw is the think time for seed n (a request number): deterministic.
func (t *Think) Draw(n uint64) time.Duration {
	if t == nil || t.Mean <= 0 {
		return 0
	}
	mean := float64(t.Mean)
	switch t.Distribution {
	case v1alpha1.DistFixed:
		return t.Mean
	case v1alpha1.DistLognormal:
		cv := t.Spread
		if cv <= 0 {
			cv = 1
		}
		s2 := math.Log1p(cv * cv)
		mu := math.Log(mean) - s2/2
		// Box-Muller from two uniforms in (0, 1].
		u1, u2 := open01(n^0x2545f4914f6cdd1d), open01(n^0x9e3779b97f4a7c15)
		z := math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
		return time.Duration(math.Exp(mu + math.Sqrt(s2)*z))
	default: // exponential
		return time.Duration(-mean * math.Log(open01(n^0x2545f4914f6cdd1d)))
	}
}

// open01 maps n to (0, 1] deterministically.
func open01(n uint64) float64 { return 1 - (unit(n)+1)/2*(1-0x1p-53) }

// Population makes the closed loop's users people: think time between
// requests and conversations of several turns. The zero value is streams.
type Population struct {
	Think *Think
	// TurnsMin..TurnsMax turns per conversation (uniform); 0 or 1: every
	// request is a conversation of its own.
	TurnsMin, TurnsMax int
}

func (p Population) conversations() bool { return max(p.TurnsMin, p.TurnsMax) > 1 }

// popOutcome is what the population adds to a request's outcome.
type popOutcome struct {
	// turn of the request in its conversation (1-based; 0: no conversation).
	turn int
	// think drawn after the request (0: none).
	think time.Duration
	// capped: the conversation ended after this request, before its last
	// turn, because the next would not fit the server's context.
	capped bool
}

// PopResult is what the tally adds up for the population, from the
// window's requests.
type PopResult struct {
	// ThinkSum and ThinkCount: think times drawn after window requests.
	ThinkSum   time.Duration
	ThinkCount int
	// TTFTByTurn[k-1]: TTFT of the window's turn-k requests (the values of
	// Result.TTFT); PromptByTurn[k-1]: prompt tokens of the successful ones.
	TTFTByTurn, PromptByTurn [][]float64
	// Capped: window conversations ended before their last turn because the
	// next would not fit the context.
	Capped int
}

// MeanThink is the mean of the think times drawn after window requests.
func (p *PopResult) MeanThink() time.Duration {
	if p.ThinkCount == 0 {
		return 0
	}
	return p.ThinkSum / time.Duration(p.ThinkCount)
}

// user is one worker's population state (nil for a stream).
type user struct {
	pop    *Population
	prompt *client.Prompt
	conv   client.Conversation
	start  time.Duration // first request's delay
}

// newUser returns worker idx's state; seed (the request counter at the
// step's start) varies the start draws from one step to the next.
func (cfg *Config) newUser(idx int, seed uint64, s *client.Stream) *user {
	p := &cfg.Population
	if p.Think == nil && !p.conversations() {
		return nil
	}
	u := &user{pop: p, prompt: cfg.Prompt}
	if p.Think != nil {
		u.start = time.Duration((unit(seed^uint64(idx)*0xd1342543de82ef95) + 1) / 2 * float64(p.Think.Mean))
	}
	s.Capture = p.conversations()
	return u
}

// arrive waits for the user's first request; false when ctx ended.
func (u *user) arrive(ctx context.Context) bool {
	return u == nil || u.start <= 0 || Pause(ctx, u.start)
}

// body builds request n's body: a plain request, or the conversation's
// next turn (a new conversation when none is open).
func (u *user) body(cfg *Config, n uint64, words, out int) ([]byte, int) {
	if u == nil || !u.pop.conversations() {
		return cfg.body(n, words, out), 0
	}
	if u.conv.Turns == 0 || u.conv.Done() {
		lo, hi := max(u.pop.TurnsMin, 1), max(u.pop.TurnsMax, u.pop.TurnsMin, 1)
		u.conv.Start(lo + int((unit(n^0x6a09e667f3bcc909)+1)/2*float64(hi-lo+1)*(1-0x1p-53)))
	}
	turn := u.conv.Turn
	return cfg.Prompt.AppendTurn(make([]byte, 0, 256+8*words), &u.conv, n, words, out), turn
}

// after records the request's answer in the conversation and draws the
// think time that follows it.
func (u *user) after(o *outcome, s *client.Stream, n uint64, words, out int) {
	if u == nil {
		return
	}
	if u.pop.conversations() {
		if o.r.ErrKind != "" || o.r.Incomplete {
			u.conv.Turns = 0 // the user gives up: a new conversation
		} else {
			u.conv.Answered(u.prompt, n, words, s.Text, o.prompt, o.r.OutputTokens())
			if !u.conv.Done() && !u.conv.NextFits(u.prompt, out) {
				o.pop.capped = true
				u.conv.Turns = 0
			}
		}
	}
	o.pop.think = u.pop.Think.Draw(n)
}

// think pauses for the think time drawn; false when ctx ended.
func (u *user) think(ctx context.Context, d time.Duration) bool {
	return u == nil || d <= 0 || Pause(ctx, d)
}

// addPop adds a window outcome to the population's figures; ttft0 is the
// length of Result.TTFT before the outcome was added.
func (t *tally) addPop(o *outcome, ttft0 int) {
	p := &t.res.Pop
	if o.pop.think > 0 {
		p.ThinkSum += o.pop.think
		p.ThinkCount++
	}
	if o.pop.capped {
		p.Capped++
	}
	if o.pop.turn < 1 {
		return
	}
	for len(p.TTFTByTurn) < o.pop.turn {
		p.TTFTByTurn = append(p.TTFTByTurn, nil)
		p.PromptByTurn = append(p.PromptByTurn, nil)
	}
	k := o.pop.turn - 1
	if len(t.res.TTFT) > ttft0 {
		p.TTFTByTurn[k] = append(p.TTFTByTurn[k], t.res.TTFT[ttft0])
	}
	if o.r.ErrKind == "" && !o.r.Incomplete {
		p.PromptByTurn[k] = append(p.PromptByTurn[k], float64(o.prompt))
	}
}
