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
	)
	return []byte(r.Replace(deployTemplate))
}

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
#                                    syncs the tree) and the plugin ConfigMap
#   ./deploy.sh --sweep-now          start an on-demand sweep from the CronJob
#
# --dry-run renders locally (kubectl/oc kustomize) and lists what would be applied;
# nothing is sent to the cluster. Set CLI=kubectl to force kubectl over oc.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; }
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
