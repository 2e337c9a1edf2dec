package krm

import (
	"errors"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/manifest"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Process is the KRM function: it decodes the functionConfig with the strict
// loader (so errors keep their field paths), drops the items it generated
// before (label app.kubernetes.io/managed-by=step07gen), keeps every other
// item in its order and appends the generated objects. Feeding it its own
// output therefore changes nothing.
//
// A failure leaves the items as they came and is reported twice: as the
// returned error (the caller prints it and sets the exit status) and, kpt
// style, in rl.Results, one error result per problem with its field path.
func Process(rl *framework.ResourceList) error {
	err := process(rl)
	if err != nil {
		rl.Results = append(rl.Results, results(rl.FunctionConfig, err)...)
	}
	return err
}

func process(rl *framework.ResourceList) error {
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
	objs, err := generators.Objects(c)
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
		b, err := manifest.Encode(o)
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

// results turns an error into error results: one per config problem, with
// its field path (none for a problem of the whole file) and the
// functionConfig as the resource; one for any other error.
func results(fc *kyaml.RNode, err error) framework.Results {
	var ref *kyaml.ResourceIdentifier
	if fc != nil {
		id := kyaml.ResourceIdentifier{
			TypeMeta: kyaml.TypeMeta{APIVersion: fc.GetApiVersion(), Kind: fc.GetKind()},
			NameMeta: kyaml.NameMeta{Name: fc.GetName(), Namespace: fc.GetNamespace()},
		}
		ref = &id
	}
	var errs v1alpha1.Errors
	if !errors.As(err, &errs) {
		return framework.Results{{Message: err.Error(), Severity: framework.Error, ResourceRef: ref}}
	}
	out := make(framework.Results, 0, len(errs))
	for _, e := range errs {
		r := &framework.Result{Message: e.Msg, Severity: framework.Error, ResourceRef: ref}
		switch e.Path {
		case "", "(file)":
			r.Message = e.Error()
		case "functionConfig":
			r.ResourceRef = nil
			r.Message = e.Error()
		default:
			r.Field = &framework.Field{Path: e.Path}
		}
		out = append(out, r)
	}
	return out
}
