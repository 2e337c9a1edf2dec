// Package yamlenc is the project's one YAML writer: deterministic key order,
// two-space indentation, literal blocks for multi-line strings.
// internal/manifest writes every manifest with it and the generators write
// the files they embed in ConfigMaps (prometheus.yml, the rules file, the
// sweep plan, Grafana provisioning) with it, so the whole tree reads alike.
package yamlenc
