package golden

import (
	"slices"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestSweepJobRetries: the sweep's Job retries a pod that failed for a
// reason other than the sweep (backoffLimit > 0, per index when sharded),
// does not count a disruption (an Ignore rule on the DisruptionTarget
// condition, ahead of any rule that could fail the Job: a disrupted pod may
// exit with any code), fails at once on sweep-runner's exit 2 (bad input:
// FailJob, the whole Job even when sharded), and meets what a
// podFailurePolicy needs: restartPolicy Never and podReplacementPolicy
// Failed (also what keeps two pods off one run directory). Every golden
// config, the default (demo) and the sharded one among them.
func TestSweepJobRetries(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range configs(t, "valid") {
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			cj := d.cronJobs[v1alpha1.SweepName]
			if cj == nil {
				t.Fatal("no sweep CronJob")
			}
			j := cj.Spec.JobTemplate.Spec
			pod := j.Template.Spec
			if j.BackoffLimit == nil || *j.BackoffLimit < 1 {
				t.Errorf("backoffLimit %v: want retries", j.BackoffLimit)
			}
			if d.c.Spec.Sweep.ShardCount() > 1 && (j.BackoffLimitPerIndex == nil || *j.BackoffLimitPerIndex < 1) {
				t.Errorf("sharded: backoffLimitPerIndex %v: want retries", j.BackoffLimitPerIndex)
			}
			if pod.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("restartPolicy %s: a podFailurePolicy needs Never", pod.RestartPolicy)
			}
			if j.PodReplacementPolicy == nil || *j.PodReplacementPolicy != batchv1.Failed {
				t.Errorf("podReplacementPolicy %v: want Failed", j.PodReplacementPolicy)
			}
			if j.PodFailurePolicy == nil {
				t.Fatal("no podFailurePolicy")
			}
			ignore, failJob := -1, -1
			for i, r := range j.PodFailurePolicy.Rules {
				switch {
				case r.Action == batchv1.PodFailurePolicyActionIgnore && r.OnExitCodes == nil && len(r.OnPodConditions) == 1 &&
					r.OnPodConditions[0].Type == corev1.DisruptionTarget && r.OnPodConditions[0].Status == corev1.ConditionTrue:
					ignore = i
				case r.Action == batchv1.PodFailurePolicyActionFailJob && len(r.OnPodConditions) == 0 && r.OnExitCodes != nil &&
					r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Equal(r.OnExitCodes.Values, []int32{2}) &&
					r.OnExitCodes.ContainerName != nil && *r.OnExitCodes.ContainerName == pod.Containers[0].Name:
					failJob = i
				case r.Action == batchv1.PodFailurePolicyActionFailJob || r.Action == batchv1.PodFailurePolicyActionFailIndex:
					t.Errorf("rule %d: %s %+v: only exit 2 may fail at once", i, r.Action, r)
				}
			}
			if ignore < 0 {
				t.Errorf("no Ignore rule on DisruptionTarget: %+v", j.PodFailurePolicy.Rules)
			}
			if failJob < 0 {
				t.Errorf("no FailJob rule on %s's exit code 2: %+v", pod.Containers[0].Name, j.PodFailurePolicy.Rules)
			}
			if ignore > failJob {
				t.Errorf("the DisruptionTarget rule (%d) comes after the FailJob rule (%d)", ignore, failJob)
			}
		})
	}
	for _, name := range []string{"demo", "sharded"} {
		if !seen[name] {
			t.Errorf("golden config %s missing", name)
		}
	}
}

// TestSweepPodGuaranteed: the sweep pod is in the Guaranteed QoS class:
// every container, init containers included, has CPU and memory requests
// and limits, each request equal to its limit. The size follows the plan
// (generators/sweepjob/resources.go); the default plan (doubling to 32
// users, one pod) and the sharded golden config (32 users over 3 pods: 11
// on index 0) get the sizes docs/measuring.md states.
func TestSweepPodGuaranteed(t *testing.T) {
	want := map[string][2]string{"demo": {"2", "1088Mi"}, "sharded": {"2", "1046Mi"}}
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			cj := d.cronJobs[v1alpha1.SweepName]
			if cj == nil {
				t.Fatal("no sweep CronJob")
			}
			pod := cj.Spec.JobTemplate.Spec.Template.Spec
			for _, ctr := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					req, okReq := ctr.Resources.Requests[r]
					lim, okLim := ctr.Resources.Limits[r]
					if !okReq || !okLim || req.IsZero() {
						t.Errorf("%s: %s request %v limit %v: want both set", ctr.Name, r, req.String(), lim.String())
					} else if req.Cmp(lim) != 0 {
						t.Errorf("%s: %s request %s, limit %s: want equal (Guaranteed)", ctr.Name, r, req.String(), lim.String())
					}
				}
			}
			if w, ok := want[name]; ok {
				res := pod.Containers[0].Resources.Limits
				if cpu, mem := res[corev1.ResourceCPU], res[corev1.ResourceMemory]; cpu.String() != w[0] || mem.String() != w[1] {
					t.Errorf("cpu %s memory %s, want %s and %s", cpu.String(), mem.String(), w[0], w[1])
				}
			}
		})
	}
}
