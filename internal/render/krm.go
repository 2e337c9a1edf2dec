package render

import (
	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/internal/kit"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Process is the KRM function: it decodes the functionConfig with the strict
// loader (so errors keep their field paths), drops the items it generated
// before (label app.kubernetes.io/managed-by=step07gen), keeps every other
// item in its order and appends the generated objects. Feeding it its own
// output therefore changes nothing.
func Process(rl *framework.ResourceList) error {
	if rl.FunctionConfig == nil {
		var errs v1alpha1.Errors
		errs.Add("functionConfig", "missing: the ResourceList needs a %s functionConfig", v1alpha1.Kind)
		return errs
	}
	src, err := rl.FunctionConfig.String()
	if err != nil {
		return err
	}
	c, err := v1alpha1.LoadConfig([]byte(src))
	if err != nil {
		return err
	}
	objs, err := Objects(c)
	if err != nil {
		return err
	}
	var items []*kyaml.RNode
	for _, it := range rl.Items {
		if it.GetLabels()[kit.LabelManagedBy] == kit.ManagedBy {
			continue
		}
		items = append(items, it)
	}
	for _, o := range objs {
		b, err := Encode(o)
		if err != nil {
			return err
		}
		n, err := kyaml.Parse(string(b))
		if err != nil {
			return err
		}
		items = append(items, n)
	}
	rl.Items = items
	return nil
}
