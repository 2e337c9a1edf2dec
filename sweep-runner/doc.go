// Command sweep-runner runs the concurrency sweep that finds each model's
// breaking point and sizes it, and rebuilds its reports offline.
//
//	sweep-runner run --plan F --out DIR [overrides]
//	sweep-runner run --target NAME=URL[,gpus=N][,model=M] --scenario A,B --max-concurrency 32 --out DIR
//	sweep-runner run --resume RUN_DIR        (or --resume --out DIR: the latest run there)
//	sweep-runner report RUN_DIR
//	sweep-runner plan --users N [--gpu-hour-cost MODEL=PRICE ...] RUN_DIR
//
// Exit codes: 0 done, 1 runtime failure, 2 bad input (invalid plan or flags,
// unreachable or non-OpenAI target), 3 interrupted (SIGTERM/SIGINT; finished
// steps are kept, continue with --resume).
//
// One file per subcommand: run.go (its flags are bound to
// v1alpha1.PlanOverrides and merged by SweepPlan.Apply), report.go, plan.go;
// main.go dispatches and maps errors to exit codes.
package main
