// Package sweepjob emits the scheduled concurrency sweep: the results PVC
// (guidellm-results), the ConfigMap holding plan.yaml (the SweepPlan that
// sweep-runner reads, derived from the config by Plan()), and the CronJob
// (concurrencyPolicy Forbid, history limits, activeDeadlineSeconds, a
// podFailurePolicy: disruptions are not counted, bad input fails the Job at
// once, other failures are retried a few times and resume the run) whose
// container runs `sweep-runner run --plan ... --out /results`, sized from
// the plan with requests equal to limits (Guaranteed QoS; resources.go).
// The ConfigMaps of the scenarios' recorded prompts (dataset.configMap) are
// mounted read-only under /datasets, where the plan's dataset paths point.
// With spec.sweep.shards > 1 the Job is an Indexed Job of that many shards
// (index 0 coordinates), in the subdomain of a headless Service
// (guidellm-sweep-shards, port coord 7070); see shard in shards.go.
//
// It emits no Job: a committed Job would be re-created or reported OutOfSync
// by ArgoCD on every sync. An on-demand sweep is started from the CronJob
// (v1alpha1.OnDemandCommand; deploy.sh --sweep-now):
//
//	oc create job --from=cronjob/guidellm-sweep guidellm-sweep-manual-$(date +%s)
//
// Its objects keep the names, labels and folder (base/guidellm) of the
// component "guidellm", the name clusters already run it under.
package sweepjob
