package golden

import (
	"path/filepath"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestShardedSweep: with spec.sweep.shards N > 1 the sweep's Job is an
// Indexed Job of N pods (parallelism = completions = N, retries per
// index, the first index out of retries fails the Job, no replacement
// before the old pod is gone) in the subdomain of a headless Service that selects them
// and names the coordination port, published before they are ready; each
// pod learns its index and its Job's name from the downward API and shares
// the node of the ReadWriteOnce results PVC with the others. With one shard
// nothing of that exists: the Job is the single pod it always was.
func TestShardedSweep(t *testing.T) {
	sharded := 0
	for _, name := range configs(t, "valid") {
		if c, _ := load(t, filepath.Join("testdata", "valid", name+".yaml")); c.Spec.Sweep.ShardCount() > 1 {
			sharded++
		}
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			n := d.c.Spec.Sweep.ShardCount()
			cj := d.cronJobs[v1alpha1.SweepName]
			if cj == nil {
				t.Fatal("no sweep CronJob")
			}
			j := cj.Spec.JobTemplate.Spec
			pod := j.Template.Spec
			svc := d.services[v1alpha1.SweepShardsServiceName]
			if n == 1 {
				if j.CompletionMode != nil || j.Completions != nil || j.Parallelism != nil || j.BackoffLimitPerIndex != nil ||
					pod.Subdomain != "" || pod.Affinity != nil || len(pod.Containers[0].Env) != 0 || svc != nil {
					t.Errorf("one shard: Indexed Job, subdomain, affinity, env or the shards' Service generated")
				}
				if j.BackoffLimit == nil || *j.BackoffLimit < 1 {
					t.Errorf("one shard: backoffLimit %v, want a few retries", j.BackoffLimit)
				}
				return
			}
			i32 := func(p *int32) int32 {
				if p == nil {
					return -1
				}
				return *p
			}
			if j.CompletionMode == nil || *j.CompletionMode != batchv1.IndexedCompletion || i32(j.Completions) != int32(n) || i32(j.Parallelism) != int32(n) {
				t.Errorf("%d shards: completionMode %v completions %d parallelism %d", n, j.CompletionMode, i32(j.Completions), i32(j.Parallelism))
			}
			// backoffLimit counts every failed pod: at least one retry per
			// index, or it would fail the Job before backoffLimitPerIndex.
			if i32(j.BackoffLimitPerIndex) < 1 || i32(j.MaxFailedIndexes) != 0 || i32(j.BackoffLimit) < int32(n)*i32(j.BackoffLimitPerIndex) {
				t.Errorf("backoffLimitPerIndex %d maxFailedIndexes %d backoffLimit %d", i32(j.BackoffLimitPerIndex), i32(j.MaxFailedIndexes), i32(j.BackoffLimit))
			}
			if pod.RestartPolicy != corev1.RestartPolicyNever || j.PodReplacementPolicy == nil || *j.PodReplacementPolicy != batchv1.Failed {
				t.Errorf("restartPolicy %s podReplacementPolicy %v: want Never and Failed", pod.RestartPolicy, j.PodReplacementPolicy)
			}
			if svc == nil {
				t.Fatalf("no Service %s", v1alpha1.SweepShardsServiceName)
			}
			if pod.Subdomain != svc.Name || svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
				t.Errorf("subdomain %q, Service %s clusterIP %q publishNotReadyAddresses %v", pod.Subdomain, svc.Name, svc.Spec.ClusterIP, svc.Spec.PublishNotReadyAddresses)
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "coord" || svc.Spec.Ports[0].Port != 7070 || svc.Spec.Ports[0].TargetPort.IntValue() != 7070 {
				t.Errorf("Service ports %+v, want coord 7070", svc.Spec.Ports)
			}
			if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(j.Template.Labels)) {
				t.Errorf("Service selector %v does not select the sweep pods", svc.Spec.Selector)
			}
			for w, p := range d.podSpecs() {
				if w != v1alpha1.SweepName && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(p.Labels)) {
					t.Errorf("the shards' Service selects %s", w)
				}
			}
			env := map[string]string{}
			for _, e := range pod.Containers[0].Env {
				if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
					env[e.Name] = e.ValueFrom.FieldRef.FieldPath
				}
			}
			if env["JOB_COMPLETION_INDEX"] != "metadata.annotations['batch.kubernetes.io/job-completion-index']" ||
				env["JOB_NAME"] != "metadata.labels['batch.kubernetes.io/job-name']" || len(env) != 2 {
				t.Errorf("downward API env %v", env)
			}
			// Every shard mounts the ReadWriteOnce results PVC: all on one node.
			a := pod.Affinity
			if a == nil || a.PodAffinity == nil || len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 {
				t.Fatalf("no required pod affinity: %+v", a)
			}
			term := a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
			if term.TopologyKey != corev1.LabelHostname || term.LabelSelector == nil || len(term.LabelSelector.MatchExpressions) != 0 ||
				!labels.SelectorFromSet(term.LabelSelector.MatchLabels).Matches(labels.Set(j.Template.Labels)) {
				t.Errorf("pod affinity term %+v: want the sweep pods on one kubernetes.io/hostname", term)
			}
		})
	}
	if sharded == 0 {
		t.Error("no golden config with shards > 1")
	}
}
