package v1alpha1

import (
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// A dataset is a file of recorded prompts (Scenario.Dataset). Where the
// sweep reads it, and how a ConfigMap holding it reaches the Job, is
// decided here once: the generator mounts what DatasetConfigMaps lists,
// and Plan() points each scenario at JobPath, so the two cannot disagree.

// DatasetFormatOf is the format a dataset file is read as: format when it
// is given, else guessed from the path's extension: ".json" is ShareGPT's
// (one JSON document, as ShareGPT dumps are published), anything else JSON
// Lines.
func DatasetFormatOf(file, format string) string {
	if format != "" {
		return format
	}
	if strings.EqualFold(path.Ext(file), ".json") {
		return DatasetShareGPT
	}
	return DatasetJSONL
}

// JobPath is where the generated Job reads the dataset: with ConfigMap the
// key of Path's base name in the ConfigMap mounted at
// DatasetMountPath/<configMap>; without, Path as given (a file on the
// results PVC, under /results/).
func (d Dataset) JobPath() string {
	if d.ConfigMap == "" {
		return d.Path
	}
	return DatasetMountPath + "/" + d.ConfigMap + "/" + path.Base(d.Path)
}

// DatasetConfigMaps lists the ConfigMaps the scenarios' datasets come from,
// each once, in the scenarios' order: the volumes of the sweep Job.
func (s SweepSettings) DatasetConfigMaps() []string {
	var out []string
	seen := map[string]bool{}
	for _, sc := range s.Scenarios {
		if d := sc.Dataset; d != nil && d.ConfigMap != "" && !seen[d.ConfigMap] {
			seen[d.ConfigMap] = true
			out = append(out, d.ConfigMap)
		}
	}
	return out
}

// datasetsInJob points the plan's datasets (scenarios already cloned from
// the config, and the shapes of their mixes) at where the Job reads them;
// the ConfigMap is then mounted, so the plan no longer names it.
func datasetsInJob(sc []Scenario) {
	for i := range sc {
		inJob(sc[i].Dataset)
		for _, p := range sc[i].Mix {
			if p.Shape != nil {
				inJob(p.Shape.Dataset)
			}
		}
	}
}

func inJob(d *Dataset) {
	if d != nil {
		d.Path, d.ConfigMap = d.JobPath(), ""
	}
}

// validateDataset reports the problems of a scenario's dataset at p (e.g.
// spec.sweep.scenarios[1]); the file itself is read, and checked, by the
// sweep.
func validateDataset(errs *Errors, p string, d *Dataset) {
	if d == nil {
		return
	}
	f := p + ".dataset"
	switch {
	case d.Path == "":
		errs.Add(f+".path", "is required: the file of recorded prompts (with configMap, its key in the ConfigMap)")
	case strings.HasSuffix(d.Path, "/") || strings.ContainsAny(d.Path, "\x00\n"):
		errs.Add(f+".path", "%q is not a file path", d.Path)
	case d.ConfigMap != "":
		if msgs := validation.IsConfigMapKey(path.Base(d.Path)); len(msgs) > 0 {
			errs.Add(f+".path", "with configMap the base name %q is the file's key in the ConfigMap, which takes letters, digits, '-', '_' and '.' only", path.Base(d.Path))
		}
	}
	switch d.Format {
	case "", DatasetJSONL, DatasetShareGPT:
	default:
		errs.Add(f+".format", "must be %q or %q (or unset: %q for a .json file, else %q), got %q", DatasetJSONL, DatasetShareGPT, DatasetShareGPT, DatasetJSONL, d.Format)
	}
	if d.ConfigMap != "" {
		dns1123sub(errs, f+".configMap", d.ConfigMap)
	}
}
