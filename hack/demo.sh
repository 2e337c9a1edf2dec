#!/usr/bin/env bash
# make demo: two simulated vLLM servers (Mistral BF16 on 4 GPUs, INT4 on 1),
# a short sweep of scenarios A, B and C against both, the sizing table.
# Needs bin/vllm-sim and bin/sweep-runner (make build). 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${DEMO_OUT:-out/demo}
# The demo runs the generated plan's sweep (scenarios A, B, C; 1 to 32 users;
# 60 s steps, 10 s warmup, 5 m maximum window, 2 m request timeout, 20..200
# requests) against simulators twenty times faster than the GPUs they model
# (vllm-sim --time-scale 0.05), with every duration of the plan scaled by the
# same 0.05, and sweep-runner judging them by an SLA scaled the same way
# (--time-scale 0.05: TTFT thresholds x 0.05, reading speeds x 20). So its
# steps and verdicts are those the nightly plan would reach on such GPUs, in
# a twentieth of the time (see docs/measuring.md: "How a step is measured").
SCALE=${DEMO_TIME_SCALE:-0.05}
STEP=${DEMO_STEP:-3s}
MAXREQ=${DEMO_MAX_REQUESTS:-200}
MAXWIN=${DEMO_MAX_WINDOW:-15s}
TIMEOUT=${DEMO_REQUEST_TIMEOUT:-6s}
# An illustrative price of one GPU hour, the same for both variants, so the
# capacity plan can say what each user costs.
COST=${DEMO_GPU_HOUR_COST:-4.00}
USERS=${DEMO_USERS:-100}
WARMUP=${DEMO_WARMUP:-500ms}
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
pids=()
logs=$(mktemp -d)
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$logs"; }
trap cleanup EXIT INT TERM
# start NAME PROFILE MODEL: a simulator on a free port, stored in $NAME. Not
# called in $(...): the pid must reach this shell's pids for cleanup.
start() {
  local port; port=$(freeport)
  bin/vllm-sim --listen "127.0.0.1:$port" --profile "$2" --model "$3" --time-scale "$SCALE" >"$logs/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && { printf -v "$1" '%s' "$port"; return 0; }
    sleep 0.1
  done
  echo "vllm-sim $1 did not start:" >&2; cat "$logs/$1.log" >&2; return 1
}
start bf16 mistral-bf16-tp4 mistral-3-bf16
start int4 mistral-int4-tp1 mistral-3-int4
echo "vllm-sim: mistral-3-bf16 (4 GPUs) on 127.0.0.1:$bf16, mistral-3-int4 (1 GPU) on 127.0.0.1:$int4, time scale $SCALE" >&2
bin/sweep-runner run \
  --target "mistral-3-bf16=http://127.0.0.1:$bf16,gpus=4,model=mistral-3-bf16,precision=bf16,cost=$COST" \
  --target "mistral-3-int4=http://127.0.0.1:$int4,gpus=1,model=mistral-3-int4,precision=int4,cost=$COST" \
  --scenario A,B,C --start-concurrency "${DEMO_START:-1}" --max-concurrency "${DEMO_MAX:-32}" \
  --step-duration "$STEP" --warmup "$WARMUP" --request-timeout "$TIMEOUT" --max-window "$MAXWIN" \
  --min-requests 20 --max-requests "$MAXREQ" --time-scale "$SCALE" --out "$OUT"
run=$(ls -td "$OUT"/*/ | head -1)
echo
bin/sweep-runner plan --users "$USERS" "$run"
