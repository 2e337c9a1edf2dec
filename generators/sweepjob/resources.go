package sweepjob

import (
	"math"
	"slices"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The sweep pod's size. Its container's requests equal its limits
// (Guaranteed QoS): such a pod is the last the kubelet evicts under node
// pressure, a kubelet with the static CPU manager policy gives its whole
// cores to it alone, and no neighbour's burst takes the CPU the client
// needs to send requests and read tokens on time: a starved client adds
// latency the sweep would blame on the model. The size follows the plan,
// since streams are what a pod pays for (podStreams).
//
// CPU: one core for the runner itself (scraping, the coordinator's merges
// and analysis, the reports at the end, the garbage collector), so that
// its bursts never hold the streams up, plus a core per streamsPerCore
// streams. A stream costs about 2 millicores at worst: the load engine
// spends 6-7 CPU seconds per million output tokens on loopback
// (docs/performance.md: 0.61 cores carried 2,048 streams at 50 tokens/s),
// say 20 µs a token once TLS and an auth proxy's framing are added, at 100
// tokens/s a stream (a small model at low concurrency; streams slow down
// as the batch grows). 128 streams a core is four times that: a container
// that spent its CPU quota is stopped, every stream with it, until the
// next 100 ms period, so the steady load must stay well below the limit.
// Whole cores: Go sets GOMAXPROCS from the CPU limit, and the static CPU
// manager only pins whole cores.
//
// Memory: 1 GiB for the runner (Go runtime, plan, scraped pages, a step's
// per-request records, the reports and charts), plus 2 MiB a stream: what
// a stream may hold against a server at the client's read limits (an SSE
// line and an event of 1 MiB each; docs/security.md), far above the
// ~70 KiB a stream holds in practice, so that no server's answers get the
// pod OOM-killed (make demo's sweep, 1..32 users at up to 22,000 tokens/s,
// peaked at 36 MiB resident, reports included).
const (
	baseCores          = 1
	streamsPerCore     = 128
	baseMemoryMiB      = 1024
	memoryPerStreamMiB = 2
)

// podResources are the sweep container's requests and limits, equal
// (Guaranteed QoS), for the plan's heaviest step on one pod.
func podResources(s v1alpha1.SweepSettings) corev1.ResourceRequirements {
	n := podStreams(s)
	cores := baseCores + (n+streamsPerCore-1)/streamsPerCore
	mem := int64(baseMemoryMiB+memoryPerStreamMiB*n) << 20
	list := func() corev1.ResourceList {
		return corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(int64(cores), resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI),
		}
	}
	return corev1.ResourceRequirements{Requests: list(), Limits: list()}
}

// podStreams is the most requests in flight one sweep pod carries: the
// largest closed-loop step's users over the shards (index 0 takes the
// remainder: rounded up), or an open-loop scenario's requests in flight,
// which the coordinator carries alone (only closed-loop steps are
// sharded): at most its maxInFlight, and at most its highest rate times
// the request timeout (Little's law; no request outlives the timeout).
func podStreams(s v1alpha1.SweepSettings) int {
	timeout := v1alpha1.DefaultRequestTimeout
	if s.RequestTimeout != nil {
		timeout = s.RequestTimeout.Duration
	}
	n := 1
	closed := len(s.Scenarios) == 0 // the default scenarios are closed-loop
	for _, sc := range s.Scenarios {
		if sc.ClosedLoop() {
			closed = true
			continue
		}
		a := sc.Arrival
		top := a.MaxRate
		if len(a.Rates) > 0 {
			top = slices.Max(a.Rates)
		}
		inFlight := a.MaxInFlight
		if inFlight <= 0 {
			inFlight = v1alpha1.DefaultMaxInFlight
		}
		if l := math.Ceil(top * timeout.Seconds()); l >= 1 && l < float64(inFlight) {
			inFlight = int(l)
		}
		n = max(n, inFlight)
	}
	if steps := s.Steps(); closed && len(steps) > 0 {
		k := max(s.ShardCount(), 1)
		n = max(n, (slices.Max(steps)+k-1)/k)
	}
	return n
}
