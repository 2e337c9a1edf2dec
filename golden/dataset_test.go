package golden

import (
	"path"
	"strings"
	"testing"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// TestSweepJobDatasets: every dataset the plan reads from a ConfigMap is in
// a volume of the sweep Job, that ConfigMap mounted read-only at the
// directory the plan's path names (the file is its key: the path's base
// name); a dataset without configMap is read where the config says. At
// least one golden config has each kind.
func TestSweepJobDatasets(t *testing.T) {
	kinds := map[string]bool{}
	for _, name := range configs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, name)
			c := d.c
			cm := d.configMaps[c.Spec.Namespace+"/"+v1alpha1.SweepPlanName]
			if cm == nil {
				t.Fatal("no plan ConfigMap")
			}
			plan, err := v1alpha1.LoadPlan([]byte(cm.Data[v1alpha1.PlanFileName]))
			if err != nil {
				t.Fatal(err)
			}
			pod := d.cronJobs[v1alpha1.SweepName].Spec.JobTemplate.Spec.Template.Spec
			mounted := map[string]string{} // mount path -> ConfigMap
			for _, m := range pod.Containers[0].VolumeMounts {
				for _, v := range pod.Volumes {
					if v.Name == m.Name && v.ConfigMap != nil && strings.HasPrefix(m.MountPath, v1alpha1.DatasetMountPath+"/") {
						if !m.ReadOnly || len(v.ConfigMap.Items) > 0 {
							t.Errorf("dataset volume %s: want the whole ConfigMap read-only, got %+v %+v", v.Name, m, v.ConfigMap)
						}
						mounted[m.MountPath] = v.ConfigMap.Name
					}
				}
			}
			read := map[string]bool{}
			for i, s := range c.Spec.Sweep.Scenarios {
				ds := s.Dataset
				if ds == nil {
					continue
				}
				got := plan.Spec.Scenarios[i].Dataset
				if got == nil || got.ConfigMap != "" {
					t.Errorf("scenario %s: plan dataset %+v", s.Name, got)
					continue
				}
				if ds.ConfigMap == "" {
					kinds["path"] = true
					if got.Path != ds.Path {
						t.Errorf("scenario %s: plan reads %s, the config names %s", s.Name, got.Path, ds.Path)
					}
					continue
				}
				kinds["configMap"] = true
				dir, file := path.Split(got.Path)
				if mounted[strings.TrimSuffix(dir, "/")] != ds.ConfigMap || file != path.Base(ds.Path) {
					t.Errorf("scenario %s: plan reads %s, but ConfigMap %s (key %s) is mounted at %v", s.Name, got.Path, ds.ConfigMap, path.Base(ds.Path), mounted)
				}
				read[strings.TrimSuffix(dir, "/")] = true
			}
			for p, name := range mounted {
				if !read[p] {
					t.Errorf("ConfigMap %s mounted at %s, which no scenario reads", name, p)
				}
			}
		})
	}
	if !kinds["path"] || !kinds["configMap"] {
		t.Errorf("the golden configs have datasets of kinds %v: want one in a ConfigMap and one on a path", kinds)
	}
}
