package tree

import (
	"strings"

	"github.com/rhoai-demo/step07/generators/grafana"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators/argocd"
	"github.com/rhoai-demo/step07/generators/guidellm"
)

// deployScript applies the tree with oc or kubectl. It is generated so the
// namespace, Secret and ArgoCD names in it always match the objects.
func deployScript(c *v1alpha1.ModelPerformanceMetrics) []byte {
	r := strings.NewReplacer(
		"@MARKER@", Marker,
		"@NS@", c.Spec.Namespace,
		"@ARGONS@", c.Spec.ArgoCD.Namespace,
		"@APP@", argocd.ApplicationName,
		"@ADMIN@", c.Spec.Grafana.AdminSecret,
		"@CRON@", v1alpha1.SweepName,
		"@ONDEMAND@", guidellm.OnDemandCommand,
		"@PROXYCHECK@", proxyCheck(c),
		"@MANAGEDBYJP@", strings.ReplaceAll(ManagedByLabel, ".", `\.`),
		"@MANAGEDBY@", ManagedByLabel,
	)
	return []byte(r.Replace(deployTemplate))
}

// ManagedByLabel on a namespace lets an OpenShift GitOps (argocd-operator)
// instance, named by the label's value (its namespace), write most kinds
// there; without it the default openshift-gitops application controller
// may only read them. deploy.sh --argocd sets it: the tree must not own the
// namespace, or pruning the Application would delete it.
const ManagedByLabel = "argocd.argoproj.io/managed-by"

// proxyCheck reminds the user of the OAuth proxy's cookie Secret.
func proxyCheck(c *v1alpha1.ModelPerformanceMetrics) string {
	if !c.Spec.Grafana.OAuthProxy {
		return ""
	}
	n := grafana.ProxyCookieSecret(c)
	return strings.ReplaceAll(`if [ "$mode" = tree ] && ! "$CLI" -n @NS@ get secret `+n+` >/dev/null 2>&1; then
  echo "note: Secret @NS@/`+n+` (key session_secret) does not exist; the OAuth proxy waits for it:" >&2
  echo "  $CLI -n @NS@ create secret generic `+n+` --from-literal=session_secret=\"\$(openssl rand -hex 16)\"" >&2
fi
`, "@NS@", c.Spec.Namespace)
}

const deployTemplate = `#!/usr/bin/env bash
@MARKER@
# deploy.sh: apply the step-07 tree to the current cluster and say what was applied.
#
#   ./deploy.sh [--dry-run]          kubectl/oc apply -k . (the committed base/ objects)
#   ./deploy.sh --argocd [--dry-run] apply argocd/ instead: the Application (ArgoCD then
#                                    syncs the tree) and the plugin ConfigMap; first
#                                    labels namespace @NS@ @MANAGEDBY@=@ARGONS@
#   ./deploy.sh --sweep-now          start an on-demand sweep from the CronJob
#
# --dry-run renders locally (kubectl/oc kustomize) and lists what would be applied;
# nothing is sent to the cluster. Set CLI=kubectl to force kubectl over oc.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'; }
dry=0; mode=tree
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --argocd) mode=argocd ;;
    --sweep-now) mode=sweep ;;
    -h|--help) usage; exit 0 ;;
    *) echo "deploy.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

CLI=${CLI:-$(command -v oc || command -v kubectl || true)}
[ -n "$CLI" ] || { echo "deploy.sh: neither oc nor kubectl is on PATH" >&2; exit 1; }

dir=.
[ "$mode" = argocd ] && dir=argocd

if [ "$mode" = sweep ]; then
  if [ "$dry" = 1 ]; then
    echo "dry run: would run: @ONDEMAND@ -n @NS@"
    exit 0
  fi
  "$CLI" -n @NS@ create job --from=cronjob/@CRON@ "@CRON@-manual-$(date +%s)"
  exit 0
fi

# ArgoCD may only write in a namespace labelled for its instance. The namespace
# is created here, never by the tree: pruning the Application must not delete it.
managed_by() {
  "$CLI" get namespace @NS@ -o "jsonpath={.metadata.labels.@MANAGEDBYJP@}" 2>/dev/null || true
}
if [ "$mode" = argocd ] && [ "$dry" = 1 ]; then
  echo "dry run: would create namespace @NS@ if missing and label it @MANAGEDBY@=@ARGONS@"
elif [ "$mode" = argocd ]; then
  cur=$(managed_by)
  if [ -n "$cur" ] && [ "$cur" != "@ARGONS@" ]; then
    echo "deploy.sh: namespace @NS@ is labelled @MANAGEDBY@=$cur: another ArgoCD instance manages it; set spec.argocd.namespace to $cur or relabel it yourself" >&2
    exit 1
  fi
  "$CLI" get namespace @NS@ >/dev/null 2>&1 || "$CLI" create namespace @NS@
  "$CLI" label namespace @NS@ @MANAGEDBY@=@ARGONS@ --overwrite >/dev/null
  [ "$(managed_by)" = "@ARGONS@" ] || { echo "deploy.sh: namespace @NS@ does not carry @MANAGEDBY@=@ARGONS@ after labelling it; ArgoCD could not write there" >&2; exit 1; }
  echo "namespace @NS@ labelled @MANAGEDBY@=@ARGONS@ (ArgoCD @ARGONS@ may write there)"
fi

if [ "$dry" = 1 ]; then
  objs=$("$CLI" kustomize "$dir" | awk '
    /^---/ { if (k != "") print k "/" n; k = ""; n = ""; inmeta = 0; next }
    /^kind:/ { k = $2 }
    /^metadata:/ { inmeta = 1; next }
    inmeta && /^  name:/ { n = $2; inmeta = 0 }
    /^[^ ]/ && !/^metadata:/ { inmeta = 0 }
    END { if (k != "") print k "/" n }')
  echo "dry run: would apply $(printf '%s\n' "$objs" | grep -c .) objects from $dir:"
  printf '  %s\n' $objs
  exit 0
fi

if [ "$mode" = tree ] && ! "$CLI" -n @NS@ get secret @ADMIN@ >/dev/null 2>&1; then
  echo "note: Secret @NS@/@ADMIN@ (keys admin-user, admin-password) does not exist; Grafana waits for it:" >&2
  echo "  $CLI -n @NS@ create secret generic @ADMIN@ --from-literal=admin-user=admin --from-literal=admin-password=\"\$(openssl rand -base64 18)\"" >&2
fi
@PROXYCHECK@out=$("$CLI" apply -k "$dir")
printf '%s\n' "$out"
echo "applied $(printf '%s\n' "$out" | grep -c .) objects from $dir"
if [ "$mode" = argocd ]; then
  echo "ArgoCD Application @ARGONS@/@APP@ now syncs the tree; for the plugin path see argocd/patches/repo-server-sidecar.yaml"
fi
`
