package tree

import (
	"bytes"
	_ "embed"
	"strings"
	"text/template"

	"github.com/rhoai-demo/step07/api/v1alpha1"
)

// ManagedByLabel on a namespace lets an OpenShift GitOps (argocd-operator)
// instance, named by the label's value (its namespace), write most kinds
// there; without it the default openshift-gitops application controller
// may only read them. deploy.sh --argocd sets it: the tree must not own the
// namespace, or pruning the Application would delete it.
const ManagedByLabel = "argocd.argoproj.io/managed-by"

//go:embed deploy.sh.tmpl
var deployText string

var deployTemplate = template.Must(template.New("deploy.sh").Option("missingkey=error").Parse(deployText))

// deployData is what deploy.sh.tmpl fills in: the names come from the
// config and package v1alpha1, so the script always matches the objects.
type deployData struct {
	Marker            string
	Namespace         string
	ArgoCDNamespace   string
	Application       string
	AdminSecret       string
	CronJob           string
	OnDemand          string
	ManagedBy         string
	ManagedByJSONPath string // ManagedBy with its dots escaped for a kubectl jsonpath
	// ProxyCookieSecret is the OAuth proxy's cookie Secret, empty when the
	// proxy is off: deploy.sh then does not remind the user of it.
	ProxyCookieSecret string
}

// deployScript applies the tree with oc or kubectl.
func deployScript(c *v1alpha1.ModelPerformanceMetrics) ([]byte, error) {
	d := deployData{
		Marker:            Marker,
		Namespace:         c.Spec.Namespace,
		ArgoCDNamespace:   c.Spec.ArgoCD.Namespace,
		Application:       v1alpha1.ArgoCDApplicationName,
		AdminSecret:       c.Spec.Grafana.AdminSecret,
		CronJob:           v1alpha1.SweepName,
		OnDemand:          v1alpha1.OnDemandCommand,
		ManagedBy:         ManagedByLabel,
		ManagedByJSONPath: strings.ReplaceAll(ManagedByLabel, ".", `\.`),
	}
	if c.Spec.Grafana.OAuthProxy {
		d.ProxyCookieSecret = v1alpha1.GrafanaProxyCookieSecret
	}
	var b bytes.Buffer
	if err := deployTemplate.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
