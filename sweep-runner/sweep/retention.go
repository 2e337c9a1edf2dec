package sweep

import (
	"path/filepath"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// KeepRuns is the number of run directories the plan keeps (its default
// when unset, e.g. in a plan written before keepRuns existed).
func KeepRuns(p *v1alpha1.SweepPlan) int {
	if p.Spec.KeepRuns == nil || *p.Spec.KeepRuns < 1 {
		return v1alpha1.DefaultKeepRuns
	}
	return *p.Spec.KeepRuns
}

// PruneRuns removes the run directories beside this one beyond the plan's
// keepRuns, oldest first, once this run is complete; after a run that
// failed or was interrupted (it may be resumed) it removes nothing. This
// run is never removed, whatever its age (results.Prune).
func (r *Runner) PruneRuns() ([]string, error) {
	if r.RunDir == "" || r.State.Status != results.StatusComplete {
		return nil, nil
	}
	return results.Prune(filepath.Dir(r.RunDir), KeepRuns(r.Plan), r.RunDir)
}
