// Package argocd emits what lets ArgoCD deploy the step-07 tree: the
// Application (unstructured: the project does not depend on ArgoCD's Go
// module), the Config Management Plugin definition (ConfigMap step07gen-cmp
// with plugin.yaml) and the repo-server sidecar patch that runs the plugin
// (the ArgoCD CR on OpenShift GitOps, the argocd-repo-server Deployment on
// upstream Argo CD).
//
// These objects live in the tree's argocd/ folder, which the tree's own
// kustomization does not render: an Application must not deploy itself.
package argocd
