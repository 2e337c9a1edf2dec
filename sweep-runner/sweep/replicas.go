package sweep

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// Replicas behind a target's name. On OpenShift AI 3.0 the predictor
// Service is headless: its name resolves to every replica's address, and a
// client dialling the name lands on whichever address the resolver lists
// first, which cluster DNS may change from one lookup to the next. So the
// name is resolved before each step and, when it gives several addresses,
// the load and the /metrics reads are pinned to one of them, the same one
// (client.Options.Addr, scrape.NewPinned): the answer is per replica, its
// gauges that replica's. A name that gives one address (a Service's
// virtual IP, a route) is measured as one server; several servers behind
// it show in /metrics (scrape's process start times) and are said.

// resolveTimeout bounds the lookup before a step.
const resolveTimeout = 5 * time.Second

// replicasOf resolves t's host: the addresses seen (sorted) and the one
// measured. The pin stays on the replica measured before while it is
// still there, so that a pair's steps measure one server; the event says
// when the replicas changed since the target's last step.
func (r *Runner) replicasOf(ctx context.Context, t v1alpha1.Target) (*results.Replicas, []results.Event) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, nil
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return &results.Replicas{Measured: []string{host}, Mode: results.ReplicasService}, nil
	}
	lctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	resolve := net.DefaultResolver.LookupHost
	if r.Resolve != nil {
		resolve = r.Resolve
	}
	addrs, err := resolve(lctx, host)
	if err != nil || len(addrs) == 0 {
		// The step's requests fail on their own; the pin, if any, stays.
		if p := r.pins[t.Name]; p != "" {
			return &results.Replicas{Measured: []string{p}, Mode: results.ReplicasPinned}, []results.Event{{Kind: results.EventReplicas,
				Detail: fmt.Sprintf("%s did not resolve before the step (%v); the load stayed on %s", host, err, p)}}
		}
		return nil, nil
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	var events []results.Event
	if prev, ok := r.seen[t.Name]; ok && !slices.Equal(prev, addrs) {
		events = append(events, results.Event{Kind: results.EventReplicas,
			Detail: fmt.Sprintf("%s resolved to %d replica(s) (%s), %d before (%s)", host, len(addrs), strings.Join(addrs, ", "), len(prev), strings.Join(prev, ", "))})
	}
	if r.seen == nil {
		r.seen = map[string][]string{}
	}
	r.seen[t.Name] = addrs
	if len(addrs) == 1 {
		r.pin(t, "")
		return &results.Replicas{Seen: addrs, Measured: addrs, Mode: results.ReplicasService}, events
	}
	p := r.pins[t.Name]
	if !slices.Contains(addrs, p) {
		if p != "" {
			events = append(events, results.Event{Kind: results.EventReplicas,
				Detail: fmt.Sprintf("the replica measured so far (%s) is gone; the load moved to %s", p, addrs[0])})
		}
		p = addrs[0]
		r.pin(t, p)
	}
	return &results.Replicas{Seen: addrs, Measured: []string{p}, Mode: results.ReplicasPinned}, events
}

// pin makes the target's load and /metrics go to addr ("": the name): the
// target's client is made anew when its address changes.
func (r *Runner) pin(t v1alpha1.Target, addr string) {
	if r.pins == nil {
		r.pins = map[string]string{}
	}
	if r.pins[t.Name] == addr {
		return
	}
	r.pins[t.Name] = addr
	r.endSession() // users on the old address do not run on
	if c := r.clients[t.Name]; c != nil {
		c.CloseIdle()
		delete(r.clients, t.Name)
	}
}

// metricsPin is the address t's /metrics is read at: the load's, when the
// metrics URL names the same host.
func (r *Runner) metricsPin(t v1alpha1.Target) string {
	a, errA := url.Parse(t.URL)
	m, errM := url.Parse(t.MetricsURL)
	if errA != nil || errM != nil || a.Hostname() != m.Hostname() {
		return ""
	}
	return r.pins[t.Name]
}
