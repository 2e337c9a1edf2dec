#!/usr/bin/env bash
# kube-tools.sh: the pinned Kubernetes pieces the API-server tests need.
#
#   .tools/bin/{kube-apiserver,kubectl,etcd}  built from hack/kubetools (its own
#       go.mod: k8s.io/kubernetes and the etcd server at the versions pinned
#       there, plus the 31 staging replaces), stamped with the Kubernetes version;
#   .tools/crds/*.yaml  the CRDs of the kinds the generated trees use, and
#   .tools/manifests/*.yaml  Argo CD's own repo-server Deployment (what the
#       Kubernetes sidecar patch applies to), both copied from the manifests
#       shipped in pinned Go modules (go mod download).
#
# Each part is skipped when it is already there at the pinned version (a warm
# run takes about 0.1 s). Cold, on 2 cores: about 6 minutes with empty Go
# caches (~1 GB of modules, ~2.4 GB of build cache, 1.8 GB peak RSS), about
# 4 minutes with the modules already downloaded, about 10 s to relink from a
# warm build cache. The binaries are reproducible.
# Run by `make tools`; FORCE=1 rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=local GOWORK=off
GO=${GO:-go}
BIN=$root/.tools/bin
CRDS=$root/.tools/crds
MANIFESTS=$root/.tools/manifests
MOD=$root/hack/kubetools

# Manifest sources: module@version, the file's path inside the module, and
# crd (into .tools/crds, named after the CRD) or manifest (.tools/manifests).
# prometheus-operator: v0.95.x (the product's pkg/apis/monitoring v0.95.2) is
# not on the proxy; v0.94.1 is the nearest release there.
# argo-cd: v3.6.x needs Go 1.27; v3.5.8 is the newest release that Go 1.26 takes.
# argocd-operator (the ArgoCD CR that OpenShift GitOps also serves): v0.18.0.
SOURCES=(
	"github.com/prometheus-operator/prometheus-operator@v0.94.1 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml crd"
	"github.com/prometheus-operator/prometheus-operator@v0.94.1 example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml crd"
	"github.com/openshift/api@v0.0.0-20260813212709-d4bb0b443cb8 route/v1/zz_generated.crd-manifests/routes.crd.yaml crd"
	"github.com/argoproj/argo-cd/v3@v3.5.8 manifests/crds/application-crd.yaml crd"
	"github.com/argoproj-labs/argocd-operator@v0.18.0 config/crd/bases/argoproj.io_argocds.yaml crd"
	"github.com/argoproj/argo-cd/v3@v3.5.8 manifests/base/repo-server/argocd-repo-server-deployment.yaml manifest"
)

log() { echo "kube-tools: $*" >&2; }

# --- binaries ---------------------------------------------------------------

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$MOD/go.mod")
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ { print $2; exit }' "$MOD/go.mod")
if [ -z "$k8s_version" ] || [ -z "$etcd_version" ]; then
	log "cannot read the pinned versions from $MOD/go.mod"
	exit 1
fi
major=${k8s_version#v}
major=${major%%.*}
minor=${k8s_version#v*.}
minor=${minor%%.*}
ldflags="-s -w"
# kube-apiserver reads component-base's version, kubectl also client-go's.
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
# The stamp changes with the pins (go.mod, go.sum) and the flags.
stamp=$(cat "$MOD/go.mod" "$MOD/go.sum" <(echo "$ldflags") | sha256sum | cut -c1-16)

binaries_ok() {
	[ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kubectl" ] && [ -x "$BIN/etcd" ] || return 1
	[ "$(cat "$BIN/.kubetools-stamp" 2>/dev/null)" = "$stamp" ] || return 1
	[ "$("$BIN/kube-apiserver" --version 2>/dev/null)" = "Kubernetes $k8s_version" ] || return 1
	# Captured first: grep -q would close the pipe early (SIGPIPE under pipefail).
	local out
	out=$("$BIN/kubectl" version --client 2>/dev/null) && grep -qx "Client Version: $k8s_version" <<<"$out" || return 1
	out=$("$BIN/etcd" --version 2>/dev/null) && grep -qx "etcd Version: ${etcd_version#v}" <<<"$out" || return 1
}

if [ "${FORCE:-}" != 1 ] && binaries_ok; then
	log "kube-apiserver, kubectl $k8s_version and etcd $etcd_version already in .tools/bin"
else
	log "building kube-apiserver, kubectl $k8s_version and etcd $etcd_version (cold: ~4-6 min on 2 cores)"
	start=$SECONDS
	mkdir -p "$BIN"
	tmp=$(mktemp -d "$root/.tools/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# -mod=readonly: the tools module's go.sum is committed; never tidy here.
	GOFLAGS="-mod=readonly -buildvcs=false" "$GO" build -C "$MOD" -trimpath -ldflags "$ldflags" -o "$tmp/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3
	# The etcd server's main package is named after its module path (server).
	mv "$tmp/server" "$tmp/etcd"
	for b in kube-apiserver kubectl etcd; do mv -f "$tmp/$b" "$BIN/$b"; done
	echo "$stamp" >"$BIN/.kubetools-stamp"
	binaries_ok || { log "built binaries do not report the pinned versions"; exit 1; }
	log "built in $((SECONDS - start)) s"
fi

# --- CRDs and manifests -----------------------------------------------------

sources=$(printf '%s\n' "${SOURCES[@]}")
if [ "${FORCE:-}" != 1 ] && [ "$(cat "$CRDS/SOURCES" 2>/dev/null)" = "$sources" ]; then
	log "CRDs already in .tools/crds, manifests in .tools/manifests"
	exit 0
fi
log "fetching CRDs into .tools/crds, manifests into .tools/manifests"
rm -rf "$CRDS" "$MANIFESTS"
mkdir -p "$CRDS" "$MANIFESTS"
# Outside any module, so nothing touches a go.mod or go.sum; the download is
# checked against the checksum database as usual.
dl=$(mktemp -d)
for src in "${SOURCES[@]}"; do
	read -r modver path kind <<<"$src"
	json=$(cd "$dl" && GOFLAGS='' "$GO" mod download -json "$modver")
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
	if [ -z "$dir" ] || [ ! -f "$dir/$path" ]; then
		log "cannot fetch $modver $path:"
		echo "$json" >&2
		rm -rf "$dl"
		exit 1
	fi
	if [ "$kind" = crd ]; then
		name=$(awk '/^metadata:/ { m = 1; next } m && /^  name:/ { print $2; exit }' "$dir/$path")
		[ -n "$name" ] || { log "$modver $path: no CRD name"; exit 1; }
		dst=$CRDS/$name.yaml
	else
		dst=$MANIFESTS/$(basename "$path")
	fi
	cp "$dir/$path" "$dst"
	chmod 0644 "$dst"
done
rm -rf "$dl"
# Written last: an interrupted fetch is redone on the next run.
echo "$sources" >"$CRDS/SOURCES"
log "CRDs: $(cd "$CRDS" && echo ./*.yaml)"
log "manifests: $(cd "$MANIFESTS" && echo ./*.yaml)"
