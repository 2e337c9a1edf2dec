package sweepjob

import (
	"fmt"
	"strconv"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Environment variables of a shard's container (downward API): its
// completion index (the variable Kubernetes itself adds to Indexed Jobs'
// containers, declared here so that the args can rely on it) and its Job's
// name (a CronJob's Jobs are named guidellm-sweep-<minutes>, a manual one
// as its creator likes).
const (
	envShardIndex = "JOB_COMPLETION_INDEX"
	envJobName    = "JOB_NAME"
)

// shard turns the sweep's Job into an Indexed Job of n load shards
// (spec.sweep.shards > 1), one sweep-runner process per index:
//
//	sweep-runner run --plan ... --out /results --shards N
//	  --shard-index $(JOB_COMPLETION_INDEX) --coordinator $(JOB_NAME)-0.guidellm-sweep-shards:7070
//
// Index 0 is the coordinator: it listens on the coordination port, hands
// the steps out, gathers the shards' requests and alone writes the run
// directory. The others generate their share of the load and report to it.
// Every pod's hostname is <job>-<index> (Indexed Job) in the subdomain of
// the headless Service, so index 0 is <job>-0.guidellm-sweep-shards whatever
// the Job is called; the Job's name comes from its pods' job-name label.
//
// Failures: the Job's podFailurePolicy applies to every index (a
// disruption is not counted, exit 2 fails the whole Job at once: FailJob,
// not FailIndex, since a sweep missing a shard's load measures nothing).
// Any other failure is retried per index (backoffLimitPerIndex
// sweepRetries), so a coordinator that dies is started again, under the
// same DNS name, and resumes the run from the results PVC; an index whose
// retries are spent fails the whole Job (maxFailedIndexes 0). backoffLimit
// still counts every failed pod of the Job (the controller fails the Job
// once .status.failed exceeds it; unset, it would be 2147483647 here): n
// times the per-index retries, so that it never binds before the
// per-index limit. A replacement pod is created only once the one it
// replaces has terminated (podReplacementPolicy Failed, as for one shard):
// two coordinators must never write the same run directory.
//
// The results PVC: one pod template serves every index, so every shard
// mounts it, and ReadWriteOnce (the PVC's access mode) is one node. The
// shards are therefore required to share a node (pod affinity on the sweep
// pods' labels, topology kubernetes.io/hostname; the scheduler sees no
// finished pod, and the first shard, matching its own term, may go
// anywhere): a shard on another node would wait for the volume until the
// deadline. Only index 0 writes to /results; the workers leave it alone.
// The cost: all shards must fit on one node (each pod sized for its share
// of the users, podResources); with ReadWriteMany storage they could
// spread, which this generator does not offer yet.
func shard(j *batchv1.JobSpec, n int) {
	j.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	j.Completions = ptr.To(int32(n))
	j.Parallelism = ptr.To(int32(n))
	j.BackoffLimitPerIndex = ptr.To(int32(sweepRetries))
	j.MaxFailedIndexes = ptr.To(int32(0))
	j.BackoffLimit = ptr.To(int32(n * sweepRetries))
	pod := &j.Template.Spec
	pod.Subdomain = v1alpha1.SweepShardsServiceName
	pod.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: kit.Selector(v1alpha1.SweepName)},
			TopologyKey:   corev1.LabelHostname,
		}},
	}}
	ctr := &pod.Containers[0]
	ctr.Env = append(ctr.Env,
		corev1.EnvVar{Name: envShardIndex, ValueFrom: fieldRef("metadata.annotations['" + batchv1.JobCompletionIndexAnnotation + "']")},
		corev1.EnvVar{Name: envJobName, ValueFrom: fieldRef("metadata.labels['" + batchv1.JobNameLabel + "']")},
	)
	ctr.Args = append(ctr.Args,
		"--shards", strconv.Itoa(n),
		"--shard-index", "$("+envShardIndex+")",
		// index 0's host:port, whatever the Job is called
		"--coordinator", fmt.Sprintf("$(%s)-0.%s:%d", envJobName, v1alpha1.SweepShardsServiceName, v1alpha1.SweepCoordPort))
}

func fieldRef(path string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
}

// shardsService is the headless Service whose subdomain the shards' pods
// are in: no cluster IP, a DNS A record per pod (<job>-<index>.<service>),
// published before the pods are ready (they have no readiness probe, and
// the workers dial the coordinator as soon as they start). The port names
// the coordination port; the sweep's NetworkPolicy lets the shards, and
// only they, reach each other on it.
func shardsService(c *v1alpha1.ModelPerformanceMetrics) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, v1alpha1.SweepShardsServiceName),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Selector:                 kit.Selector(v1alpha1.SweepName),
			PublishNotReadyAddresses: true,
			Ports: []corev1.ServicePort{{
				Name: v1alpha1.SweepCoordPortName, Port: v1alpha1.SweepCoordPort,
				TargetPort: intstr.FromInt32(v1alpha1.SweepCoordPort), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}
