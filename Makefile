# Targets: build, generate, verify-generated, test, demo, bench, fuzz, tools.
SHELL := /bin/bash
GO ?= go
export GOTOOLCHAIN := local
export GOFLAGS := -mod=readonly -buildvcs=false
TOOLS := $(CURDIR)/.tools/bin
KUSTOMIZE_VERSION := v5.8.2
DEADCODE_VERSION := v0.52.0
TREE := gitops/step-07-model-performance-metrics
CONFIG := $(TREE)/step07.yaml
FUZZTIME ?= 30s
VERSION ?= 0.1.0
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build generate verify-generated test tools demo bench fuzz fmt vet check clean

all: build

build:
	@mkdir -p bin
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ ./cmd/... ./sweep-runner

generate: build
	bin/step07gen generate --config $(CONFIG) --out $(TREE)

verify-generated: build
	bin/step07gen diff --config $(CONFIG) --out $(TREE)

# tools installs what the tests need: pinned kustomize always, the pinned
# kube-apiserver, kubectl and etcd (built from hack/kubetools: ~5 min once,
# then skipped) and the CRDs the trees use (.tools/crds, hack/kube-tools.sh),
# Debian's prometheus (promtool) and chromium when running as root.
tools:
	@mkdir -p $(TOOLS)
	@test -x $(TOOLS)/kustomize || GOBIN=$(TOOLS) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@GO=$(GO) hack/kube-tools.sh
	@$(GO) version -m $(TOOLS)/deadcode 2>/dev/null | grep -q "golang.org/x/tools	$(DEADCODE_VERSION)" || \
		GOBIN=$(TOOLS) GOFLAGS= $(GO) install golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION)
	@if [ "$$(id -u)" = 0 ] && { ! command -v prometheus >/dev/null || ! command -v chromium >/dev/null; }; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus chromium >/dev/null; \
	fi

test: tools build
	PATH=$(TOOLS):$$PATH $(GO) test -count=1 -timeout 15m ./...

vet:
	$(GO) vet ./...

# check is CI's hygiene: go vet, a tidy module (go.mod and go.sum as
# `go mod tidy` would write them) and no unreachable function (deadcode,
# with the tests as roots: a helper only tests use is not dead).
check: tools
	$(GO) vet ./...
	$(GO) mod tidy -diff
	@out=$$($(TOOLS)/deadcode -test ./...); if [ -n "$$out" ]; then echo "deadcode: unreachable functions:"; echo "$$out"; exit 1; fi; echo "deadcode: none unreachable"

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf bin .tools/bin

# demo: two simulated vLLM servers (BF16 on 4 GPUs, INT4 on 1), the generated
# plan's sweep of scenarios A, B and C against both, time-scaled, the sizing
# table and a capacity plan (about two minutes).
demo: build
	hack/demo.sh

# fuzz runs each fuzz target for FUZZTIME, one after another, and fails on
# the first finding (the failing input is written under the package's
# testdata/fuzz/<target>/, ready to commit as a regression seed); see
# hack/fuzz.sh for Go 1.26's spurious "context deadline exceeded".
FUZZ_TARGETS := \
	./api/v1alpha1:FuzzLoadConfig \
	./api/v1alpha1:FuzzLoadPlan \
	./sweep-runner/client:FuzzSSEReader \
	./sweep-runner/client:FuzzParseChunk \
	./sweep-runner/client:FuzzStreamDo \
	./sweep-runner/scrape:FuzzParse

fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) hack/fuzz.sh $(FUZZ_TARGETS)

# bench: the Go benchmarks (SSE chunk parser, percentiles, whole-tree
# generation, histograms), then bin/bench: the load engine against bin/vllm-sim
# (a separate process on the same CPUs) at 1, 64, 512 and 2048 streams
# (fidelity, cost), higher stream counts until one is not sustained, and the
# time to answer of an adaptive sweep against a fixed grid. Prints a table and
# writes bench.json (git-ignored); about 4 minutes on 2 cores.
# BENCH_ARGS passes flags to bin/bench (bin/bench -h).
BENCH_PKGS := ./sweep-runner/client ./sweep-runner/histogram ./sweep-runner/load ./sweep-runner/analysis ./cmd/step07gen/tree
BENCH_ARGS ?=
bench: build
	@set -o pipefail; f=$$(mktemp); \
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS) | tee $$f && \
	bin/bench --go-bench $$f --out bench.json $(BENCH_ARGS); rc=$$?; rm -f $$f; exit $$rc

# image builds the sweep and plugin image (Containerfile) with podman or
# buildah, whichever is installed. IMAGE names it; the default is the
# placeholder the generated tree refers to: push it somewhere the cluster
# can pull from and set spec.sweep.image and spec.argocd.pluginImage.
IMAGE ?= quay.io/rhoai-demo/step07:v$(VERSION)
.PHONY: image
image:
	@if command -v podman >/dev/null; then podman build --build-arg VERSION=$(VERSION) -t $(IMAGE) -f Containerfile .; \
	elif command -v buildah >/dev/null; then buildah build --build-arg VERSION=$(VERSION) -t $(IMAGE) -f Containerfile .; \
	else echo "make image: neither podman nor buildah is installed" >&2; exit 1; fi
