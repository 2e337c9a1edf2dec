package generators

import (
	"sort"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// rollout stamps every generated pod template with a checksum of the
// generated ConfigMaps it mounts, so that a change to any of them (the
// Prometheus rules as much as prometheus.yml) changes the template and
// rolls the pods: Prometheus and Grafana read their files at start-up.
// One pass over the whole set, after every generator ran, so no generator
// has to know which other one writes the files its pods read.
//
// Dashboard ConfigMaps are left out: Grafana's file provider reloads them
// by itself, and a dashboard edit should not restart Grafana.
func rollout(objs []kit.Object) {
	data := map[string]string{} // namespace/name -> checksum of a ConfigMap's data
	for _, o := range objs {
		cm, ok := o.(*corev1.ConfigMap)
		if !ok || cm.Labels[v1alpha1.DashboardLabel] != "" {
			continue
		}
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := []string{cm.Name}
		for _, k := range keys {
			parts = append(parts, k, cm.Data[k])
		}
		data[cm.Namespace+"/"+cm.Name] = kit.Checksum(parts...)
	}
	for _, o := range objs {
		var t *corev1.PodTemplateSpec
		switch w := o.(type) {
		case *appsv1.Deployment:
			t = &w.Spec.Template
		case *batchv1.CronJob:
			t = &w.Spec.JobTemplate.Spec.Template
		default:
			continue
		}
		var sums []string
		for _, name := range mountedConfigMaps(t.Spec.Volumes) {
			if s, ok := data[o.GetNamespace()+"/"+name]; ok {
				sums = append(sums, s)
			}
		}
		if len(sums) == 0 {
			continue
		}
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[kit.ChecksumAnnotation] = kit.Checksum(sums...)
	}
}

// mountedConfigMaps lists, sorted and once each, the ConfigMaps a pod's
// volumes read, directly or projected.
func mountedConfigMaps(vols []corev1.Volume) []string {
	seen := map[string]bool{}
	for _, v := range vols {
		if v.ConfigMap != nil {
			seen[v.ConfigMap.Name] = true
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					seen[s.ConfigMap.Name] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
