package sweepjob

import (
	"fmt"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/yamlenc"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Component is the base/ folder of these objects.
const Component = "guidellm"

// containerName is the sweep container's, which the podFailurePolicy's
// exit-code rule names.
const containerName = "sweep-runner"

// sweepRetries is how many failed sweep pods the Job starts again (per
// index when sharded) before it fails: enough for an OOM kill, a crash or
// a killed pod to be resumed without anyone looking, few enough that a
// fault that repeats ends in a failed Job to look at instead of loading
// the models again and again until the deadline. Disruptions do not count
// (podFailurePolicy), and a retried pod resumes the run from the results
// PVC, so a retry repeats no finished step.
const sweepRetries = 3

// exitBadInput is sweep-runner's exit code for bad input (a usage error, a
// refused target, a server that keeps breaking the protocol;
// sweep-runner/main.go): running the same plan again changes nothing.
const exitBadInput = 2

// podFailurePolicy decides what a failed sweep pod means. A disruption
// (eviction, preemption, a node drained, shut down or lost: the pod's
// DisruptionTarget condition) is nobody's fault: the pod is replaced
// without counting against the retries (activeDeadlineSeconds still
// bounds the Job). Bad input (exit 2) fails the whole Job at once, every
// shard with it. Anything else (exit 1, an OOM kill's 137, exit 3 after a
// SIGTERM) counts against backoffLimit, or backoffLimitPerIndex when
// sharded. The disruption rule comes first (the first matching rule
// decides): a pod stopped by a disruption may exit with any code, an
// interrupted pre-flight looking like a refused target included.
func podFailurePolicy() *batchv1.PodFailurePolicy {
	return &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
		Action:          batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
	}, {
		Action: batchv1.PodFailurePolicyActionFailJob,
		OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
			ContainerName: ptr.To(containerName),
			Operator:      batchv1.PodFailurePolicyOnExitCodesOpIn,
			Values:        []int32{exitBadInput},
		},
	}}}
}

// Objects returns the results PVC, the plan ConfigMap and the CronJob, and
// with spec.sweep.shards > 1 the shards' headless Service.
func Objects(c *v1alpha1.ModelPerformanceMetrics) ([]kit.Object, error) {
	plan, err := PlanYAML(c)
	if err != nil {
		return nil, err
	}
	sw := c.Spec.Sweep
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, v1alpha1.ResultsPVCName),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(sw.Results.Size)}},
		},
	}
	if sw.Results.StorageClassName != "" {
		pvc.Spec.StorageClassName = ptr.To(sw.Results.StorageClassName)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, v1alpha1.SweepPlanName),
		Data:       map[string]string{v1alpha1.PlanFileName: plan},
	}
	out := []kit.Object{pvc, cm, CronJob(c)}
	if sw.ShardCount() > 1 {
		out = append(out, shardsService(c))
	}
	return out, nil
}

// PlanYAML is the SweepPlan sweep-runner reads, as YAML.
func PlanYAML(c *v1alpha1.ModelPerformanceMetrics) (string, error) {
	b, err := yamlenc.Marshal(c.Plan())
	return string(b), err
}

// CronJob runs the sweep on the schedule. The registry's plan checksum on
// the template records which plan a Job was created for.
func CronJob(c *v1alpha1.ModelPerformanceMetrics) *batchv1.CronJob {
	sw := c.Spec.Sweep
	name := v1alpha1.SweepName
	mounts := []corev1.VolumeMount{
		{Name: "plan", MountPath: v1alpha1.PlanMountPath, ReadOnly: true},
		{Name: "results", MountPath: v1alpha1.ResultsMountPath},
		{Name: "tmp", MountPath: "/tmp"},
	}
	volumes := []corev1.Volume{
		{Name: "plan", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: v1alpha1.SweepPlanName}}}},
		{Name: "results", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v1alpha1.ResultsPVCName}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if sw.APIKeySecret != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: "api-key", MountPath: v1alpha1.APIKeyMountPath, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "api-key", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: sw.APIKeySecret,
			Items:      []corev1.KeyToPath{{Key: v1alpha1.APIKeyFileName, Path: v1alpha1.APIKeyFileName}},
		}}})
	}
	if c.NeedsServiceCA() {
		// The service CA signs the model auth proxies' serving
		// certificates. (GPU power comes from the local Prometheus: the
		// Job holds no monitoring token.)
		mounts = append(mounts, corev1.VolumeMount{Name: "service-ca", MountPath: v1alpha1.ServiceCAMountPath, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "service-ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: v1alpha1.GrafanaServiceCAName}, Optional: ptr.To(true),
			Items: []corev1.KeyToPath{{Key: "service-ca.crt", Path: "service-ca.crt"}},
		}}})
	}
	// The ConfigMaps of recorded prompts (spec.sweep.scenarios[].dataset),
	// each read-only at DatasetMountPath/<name>, where the plan's
	// dataset paths point (Dataset.JobPath). Optional: a missing ConfigMap
	// is then the sweep's error naming the file, at once, not a pod that
	// waits for its volume until the deadline.
	for i, name := range sw.DatasetConfigMaps() {
		vol := fmt.Sprintf("dataset-%d", i)
		mounts = append(mounts, corev1.VolumeMount{Name: vol, MountPath: v1alpha1.DatasetMountPath + "/" + name, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: ptr.To(true),
		}}})
	}
	deadline := int64(sw.ActiveDeadline.Seconds())
	cj := &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: kit.Meta(c.Spec.Namespace, Component, name),
		Spec: batchv1.CronJobSpec{
			Schedule: sw.Schedule,
			TimeZone: ptr.To(sw.TimeZone),
			// Two sweeps at once would load the models twice and spoil both.
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			StartingDeadlineSeconds:    ptr.To(int64(3600)),
			SuccessfulJobsHistoryLimit: ptr.To(int32(3)),
			FailedJobsHistoryLimit:     ptr.To(int32(3)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: kit.Labels(Component, name)},
				Spec: batchv1.JobSpec{
					ActiveDeadlineSeconds: &deadline,
					BackoffLimit:          ptr.To(int32(sweepRetries)),
					PodFailurePolicy:      podFailurePolicy(),
					// With a podFailurePolicy the only value the API
					// takes (and its default): a replacement starts once
					// the pod it replaces is gone, never beside it.
					PodReplacementPolicy: ptr.To(batchv1.Failed),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: kit.Labels(Component, name)},
						Spec: corev1.PodSpec{
							// Never: the Job, not the kubelet, retries
							// (podFailurePolicy requires it).
							RestartPolicy:                corev1.RestartPolicyNever,
							AutomountServiceAccountToken: ptr.To(false),
							SecurityContext:              kit.PodSecurity(c.PinsUIDs(), kit.SweepUID),
							Containers: []corev1.Container{{
								Name:    containerName,
								Image:   sw.Image,
								Command: []string{"sweep-runner"},
								Args: []string{"run",
									"--plan", v1alpha1.PlanMountPath + "/" + v1alpha1.PlanFileName,
									"--out", v1alpha1.ResultsMountPath},
								Resources:       podResources(sw.SweepSettings),
								SecurityContext: kit.ContainerSecurity(true),
								VolumeMounts:    mounts,
							}},
							Volumes: volumes,
						},
					},
				},
			},
		},
	}
	if n := sw.ShardCount(); n > 1 {
		shard(&cj.Spec.JobTemplate.Spec, n)
	}
	return cj
}
