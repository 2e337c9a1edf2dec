package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/api/v1alpha1"
	"github.com/rhoai-demo/step07/generators"
	"github.com/rhoai-demo/step07/internal/kit"
	"github.com/rhoai-demo/step07/internal/manifest"
	"github.com/rhoai-demo/step07/internal/testenv"
	"sigs.k8s.io/yaml"
)

var (
	propertySeed    = flag.Int64("seed", 0, "TestPropertyAPIServer: seed of the first random config (0: $STEP07_PROPERTY_SEED, else the clock); config i has seed+i")
	propertyConfigs = flag.Int("property-configs", 200, "TestPropertyAPIServer: how many random configs to try")
)

// propertyBatch configs go to the API server in one kubectl call, and
// propertyWorkers calls run at once: kubectl's start-up, not the server,
// is most of the cost of a small stream.
const (
	propertyBatch   = 10
	propertyWorkers = 2
)

// TestPropertyAPIServer: every config that validation accepts gives objects
// the API server accepts. A seeded generator makes random valid configs
// reaching the limits of each field Validate accepts (names at their
// maximum length, namespaces up to 63 characters, both platforms, one to
// six models, the OAuth proxy, models behind the auth proxy, own or
// platform ServiceMonitors, NetworkPolicies on or off with API server
// CIDRs, the ArgoCD plugin, sweep settings, storage types, time zones,
// ports at 1 and 65535); each goes through LoadConfig and the generator
// registry, then the Kubernetes-limit checks of TestKubernetesLimits, then
// kubectl apply --server-side --dry-run=server against the real
// kube-apiserver (CRDs installed, every namespace the objects use created
// with Pod Security restricted). No error and no warning is allowed. A
// failure names the config's seed; replay it alone with
//
//	STEP07_PROPERTY_SEED=<seed> go test ./golden -run TestPropertyAPIServer -property-configs 1
//
// (or -seed <seed>). The two configs of issue 18 run first, by name.
func TestPropertyAPIServer(t *testing.T) {
	crdDir := testenv.CRDDir(t)
	begin := time.Now()
	seed := *propertySeed
	if seed == 0 {
		if env := os.Getenv("STEP07_PROPERTY_SEED"); env != "" {
			v, err := strconv.ParseInt(env, 10, 64)
			if err != nil {
				t.Fatalf("STEP07_PROPERTY_SEED=%q: %v", env, err)
			}
			seed = v
		} else {
			seed = time.Now().UnixNano() % 1e9
		}
	}
	n := *propertyConfigs
	t.Logf("seeds %d..%d (replay one: STEP07_PROPERTY_SEED=<seed> go test ./golden -run TestPropertyAPIServer -property-configs 1)", seed, seed+int64(n)-1)

	cases := edgeConfigs()
	for i := range n {
		s := seed + int64(i)
		cases = append(cases, propertyCase{name: fmt.Sprintf("seed %d", s), seed: s, config: randomConfig(s)})
	}
	// Generate and check in process first: a config validation refuses is
	// a bug of the generator below; a limit broken is reported by field
	// (and the API server is asked all the same).
	start := time.Now()
	nsSet := map[string]bool{}
	objects := 0
	var ready []*propertyCase
	for i := range cases {
		pc := &cases[i]
		if err := pc.generate(); err != nil {
			t.Errorf("%s: %v\n%s", pc.what(), err, pc.config)
			continue
		}
		if len(pc.problems) > 0 {
			// Reported, and still sent to the API server below.
			t.Errorf("%s: outside Kubernetes' limits:\n  %s\n%s", pc.what(), strings.Join(pc.problems, "\n  "), pc.config)
		}
		for _, ns := range pc.namespaces {
			nsSet[ns] = true
		}
		objects += pc.objects
		ready = append(ready, pc)
	}
	t.Logf("%d configs generated and checked in process (%d objects) in %v", len(cases), objects, time.Since(start).Round(time.Millisecond))
	if len(ready) == 0 {
		t.Fatal("no config to apply")
	}

	s := testenv.StartAPIServer(t)
	s.MustKubectl(t, nil, "apply", "--server-side", "--field-manager=step07-test", "-f", crdDir)
	s.WaitCRDsEstablished(t)
	var nss []string
	for ns := range nsSet {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	s.MustKubectl(t, []byte(restrictedNamespaces(nss)), "apply", "--server-side", "--field-manager=step07-test", "-f", "-")
	t.Logf("API server, CRDs and %d namespaces (Pod Security restricted) ready in %v", len(nss), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	batches := make(chan []*propertyCase)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range propertyWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if len(applyConfigs(s, b)) == 0 {
					continue
				}
				// Find the configs at fault, one by one.
				for _, pc := range b {
					if problems := applyConfigs(s, []*propertyCase{pc}); len(problems) > 0 {
						mu.Lock()
						t.Errorf("%s: the API server refused or warned (want neither):\n  %s\n%s", pc.what(), strings.Join(problems, "\n  "), pc.config)
						mu.Unlock()
					}
				}
			}
		}()
	}
	for i := 0; i < len(ready); i += propertyBatch {
		batches <- ready[i:min(i+propertyBatch, len(ready))]
	}
	close(batches)
	wg.Wait()
	t.Logf("%d configs (%d objects) server-side applied with --dry-run=server in %v; total %v",
		len(ready), objects, time.Since(start).Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
}

// propertyCase is one config and what it generates.
type propertyCase struct {
	name   string
	seed   int64 // 0 for the named cases
	config []byte

	stream     []byte
	objects    int
	namespaces []string
	problems   []string
}

func (pc *propertyCase) what() string {
	if pc.seed != 0 {
		return fmt.Sprintf("config of seed %d (replay: STEP07_PROPERTY_SEED=%d go test ./golden -run TestPropertyAPIServer -property-configs 1)", pc.seed, pc.seed)
	}
	return pc.name
}

// generate loads the config as step07gen does and makes every object of
// the tree (the deployed ones and the ArgoCD ones), as one YAML stream.
func (pc *propertyCase) generate() error {
	c, err := v1alpha1.LoadConfig(pc.config)
	if err != nil {
		return fmt.Errorf("the generator of random configs made one validation refuses: %w", err)
	}
	objs, err := generators.Objects(c)
	if err != nil {
		return err
	}
	app, err := generators.ArgoCD(c)
	if err != nil {
		return err
	}
	objs = append(objs, app...)
	var b bytes.Buffer
	seen := map[string]bool{}
	for _, o := range objs {
		doc, err := manifest.Encode(o)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(doc)
		if ns := o.GetNamespace(); ns != "" && !seen[ns] {
			seen[ns] = true
			pc.namespaces = append(pc.namespaces, ns)
		}
		// The YAML as kubectl reads it (YAML 1.1) must be the object.
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return fmt.Errorf("%s: %w", kit.ID(o), err)
		}
		want, err := manifest.ToMap(o)
		if err != nil {
			return err
		}
		if a, b := mustJSON(want), mustJSON(m); !bytes.Equal(a, b) {
			pc.problems = append(pc.problems, fmt.Sprintf("%s: its YAML reads back as another object (a string a YAML 1.1 reader takes for a bool or number?):\n%s", kit.ID(o), diffText(string(a), string(b))))
		}
		pc.problems = append(pc.problems, kubeLimits(m)...)
	}
	patch, err := generators.SidecarPatch(c)
	if err != nil {
		return err
	}
	pc.problems = append(pc.problems, kubeLimits(patch.Object)...)
	pc.stream, pc.objects = b.Bytes(), len(objs)
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		panic(err)
	}
	return b
}

// applyConfigs server-side applies the configs' streams in one dry run and
// returns every problem: a refusal, any line on stderr (warnings), or fewer
// objects applied than sent.
func applyConfigs(s *testenv.APIServer, cases []*propertyCase) []string {
	var stream bytes.Buffer
	want := 0
	for _, pc := range cases {
		stream.Write(pc.stream)
		want += pc.objects
	}
	out, errOut, err := s.Kubectl(stream.Bytes(), "apply", "--server-side", "--dry-run=server", "--field-manager=step07gen", "-f", "-")
	var problems []string
	if err != nil {
		problems = append(problems, "kubectl apply: "+err.Error())
	}
	for _, l := range strings.Split(errOut, "\n") {
		if strings.TrimSpace(l) != "" {
			problems = append(problems, l)
		}
	}
	if got := strings.Count(out, "serverside-applied (server dry run)"); err == nil && got != want {
		problems = append(problems, fmt.Sprintf("%d objects sent, %d applied", want, got))
	}
	return problems
}

// edgeConfigs are the configs of issue 18, each at the edge it names.
func edgeConfigs() []propertyCase {
	model := "mistral-small-3-2-24b-instruct-2506-fp8-dynamic-tp4-a"  // 53, the documented maximum
	ns := "team-llm-serving-performance-benchmarks-for-mistral-3-mod" // 57
	if len(model) != 53 || len(ns) != 57 {
		panic("edge names have the wrong length")
	}
	return []propertyCase{
		{
			name: "issue 18: a 53-character model name with own ServiceMonitors (a 66-character ServiceMonitor name)",
			config: []byte(`apiVersion: step07.rhoai-demo.io/v1alpha1
kind: ModelPerformanceMetrics
spec:
  platform: kubernetes
  models:
    - name: ` + model + `
  monitoring:
    serviceMonitor: own
`),
		},
		{
			name: "issue 18: a 57-character namespace on OpenShift (a 94-character ClusterRoleBinding name)",
			config: []byte(`apiVersion: step07.rhoai-demo.io/v1alpha1
kind: ModelPerformanceMetrics
spec:
  namespace: ` + ns + `
`),
		},
	}
}

// gen draws the parts of a random config.
type gen struct{ r *rand.Rand }

// chance is true with probability p.
func (g gen) chance(p float64) bool { return g.r.Float64() < p }

func (g gen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

// length is max a third of the time, min a tenth, otherwise in between.
func (g gen) length(min, max int) int {
	switch f := g.r.Float64(); {
	case f < 0.35:
		return max
	case f < 0.45:
		return min
	}
	return min + g.r.IntN(max-min+1)
}

const (
	alnum     = "abcdefghijklmnopqrstuvwxyz0123456789"
	labelBody = alnum + "-"
)

// label is a DNS-1123 label of n characters.
func (g gen) label(n int) string {
	b := make([]byte, n)
	for i := range b {
		set := labelBody
		if i == 0 || i == n-1 {
			set = alnum
		}
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

// name is a DNS-1123 label of min..max characters that starts with a
// letter, so it is never a number.
func (g gen) name(min, max int) string {
	s := []byte(g.label(g.length(min, max)))
	s[0] = byte('a' + g.r.IntN(26))
	return string(s)
}

// subdomain is a DNS-1123 subdomain of at most max characters (its parts at
// most 63), ending in a part that starts with a letter.
func (g gen) subdomain(max int) string {
	total := g.length(1, max)
	var parts []string
	left := total
	for left > 0 {
		n := min(left, 1+g.r.IntN(63))
		if g.chance(0.5) {
			n = min(left, 63)
		}
		parts = append(parts, g.label(n))
		left -= n + 1
	}
	last := []byte(parts[len(parts)-1])
	last[0] = byte('a' + g.r.IntN(26))
	parts[len(parts)-1] = string(last)
	return strings.Join(parts, ".")
}

func (g gen) port() int {
	switch g.r.IntN(4) {
	case 0:
		return 1
	case 1:
		return 65535
	}
	return 1 + g.r.IntN(65535)
}

func (g gen) image() string {
	switch g.r.IntN(3) {
	case 0:
		return ""
	case 1:
		return "registry.example.com/" + g.label(1+g.r.IntN(30)) + "/" + g.name(1, 60) + ":v" + strconv.Itoa(g.r.IntN(100))
	}
	var sum [32]byte
	for i := range sum {
		sum[i] = byte(g.r.IntN(256))
	}
	return fmt.Sprintf("quay.io/%s/%s@sha256:%x", g.name(1, 30), g.name(1, 30), sum)
}

// cidr is a network address in canonical form, IPv4 or IPv6.
func (g gen) cidr() string {
	if g.chance(0.7) {
		bits := g.r.IntN(33)
		ip := g.r.Uint32()
		if bits < 32 {
			ip &^= (1 << (32 - bits)) - 1
		}
		return fmt.Sprintf("%d.%d.%d.%d/%d", ip>>24, ip>>16&255, ip>>8&255, ip&255, bits)
	}
	bits := 16 * (1 + g.r.IntN(8))
	var groups []string
	for i := range 8 {
		v := 0
		if i*16 < bits {
			v = g.r.IntN(65536)
		}
		groups = append(groups, fmt.Sprintf("%x", v))
	}
	// Canonical (RFC 5952) form via net/netip is what Validate compares
	// against; let the standard library write it.
	return canonicalCIDR(strings.Join(groups, ":") + "/" + strconv.Itoa(bits))
}

// canonicalCIDR is a CIDR's network address in RFC 5952 form.
func canonicalCIDR(s string) string { return netip.MustParsePrefix(s).Masked().String() }

// randomConfig is a valid config drawn from seed.
func randomConfig(seed int64) []byte {
	g := gen{r: rand.New(rand.NewPCG(uint64(seed), 0x5eed))}
	openshift := g.chance(0.5)
	platform := v1alpha1.PlatformKubernetes
	if openshift {
		platform = v1alpha1.PlatformOpenShift
	}
	ns := g.name(1, 63)
	npOn := g.chance(0.7)
	spec := map[string]any{"namespace": ns, "platform": platform}

	sweep := map[string]any{}
	apiKeySecret := ""
	if g.chance(0.4) {
		apiKeySecret = g.subdomain(253)
		sweep["apiKeySecret"] = apiKeySecret
	}

	// Models: one to six, names up to 53 characters, unique.
	var models []any
	seen := map[string]bool{}
	for range 1 + g.r.IntN(6) {
		name := g.name(1, 53)
		if seen[name] {
			continue
		}
		seen[name] = true
		m := map[string]any{"name": name}
		if g.chance(0.5) {
			m["precision"] = g.pick("bf16", "fp16", "fp32", "fp8", "int8", "int4", "w4a16", "w8a8", "awq", "gptq", "BF16", "Int4")
		}
		if g.chance(0.5) {
			m["gpus"] = []int{1, 64, 1 + g.r.IntN(64)}[g.r.IntN(3)]
		}
		if g.chance(0.4) {
			m["metricsPort"] = g.port()
		}
		if g.chance(0.3) {
			m["gpuHourCost"] = float64(g.r.IntN(10000)) / 100
		}
		authProxy := openshift && apiKeySecret != "" && g.chance(0.5)
		if authProxy {
			m["authProxy"] = true
		}
		scheme := "http"
		if authProxy {
			scheme = "https"
		}
		portPart := func() string {
			if g.chance(0.3) {
				return ""
			}
			return ":" + strconv.Itoa(g.port())
		}
		switch g.r.IntN(5) {
		case 1:
			m["endpoint"] = fmt.Sprintf("%s://%s.%s.svc.cluster.local%s", scheme, g.name(1, 63), g.pick(ns, g.name(1, 63)), portPart())
		case 2:
			m["endpoint"] = fmt.Sprintf("%s://%s.%s.svc%s/v1", scheme, g.name(1, 63), g.pick(ns, g.name(1, 63)), portPart())
		case 3:
			m["endpoint"] = fmt.Sprintf("%s://%s%s", scheme, g.name(1, 63), portPart())
		case 4:
			if !npOn {
				m["endpoint"] = fmt.Sprintf("https://%s%s/v1", g.subdomain(200)+".example.com", portPart())
			}
		}
		models = append(models, m)
	}
	spec["models"] = models

	// Prometheus.
	prom := map[string]any{}
	if img := g.image(); img != "" {
		prom["image"] = img
	}
	if g.chance(0.5) {
		prom["scrapeInterval"] = g.pick("1s", "1.5s", "5s", "30s", "1m30s", "10m")
	}
	if g.chance(0.5) {
		prom["retention"] = g.pick("15d", "12h", "1y", "90d", "2w")
	}
	storage := map[string]any{}
	if g.chance(0.5) {
		storage["type"] = v1alpha1.StorageEmptyDir
		if g.chance(0.5) {
			storage["size"] = g.pick("1Gi", "500M", "64Mi")
		}
	} else {
		if g.chance(0.5) {
			storage["size"] = g.pick("1Gi", "20Gi", "1Ti", "500M", "1.5Gi")
		}
		if g.chance(0.5) {
			storage["storageClassName"] = g.subdomain(253)
		}
	}
	prom["storage"] = storage
	spec["prometheus"] = prom

	// Grafana.
	graf := map[string]any{}
	if img := g.image(); img != "" {
		graf["image"] = img
	}
	if g.chance(0.4) {
		// A host name: parts of up to 63 characters, at most 253 in all.
		graf["routeHost"] = g.subdomain(253-len(".example.com")) + ".example.com"
	}
	if g.chance(0.4) {
		graf["adminSecret"] = g.subdomain(253)
	}
	if openshift && g.chance(0.5) {
		graf["oauthProxy"] = true
		if img := g.image(); img != "" {
			graf["oauthProxyImage"] = img
		}
	}
	spec["grafana"] = graf

	// Monitoring.
	mon := map[string]any{}
	if openshift {
		mon["serviceMonitor"] = g.pick(v1alpha1.ServiceMonitorOwn, v1alpha1.ServiceMonitorPlatform)
		if g.chance(0.4) {
			mon["thanosQuerierURL"] = "https://thanos-querier.openshift-monitoring.svc.cluster.local:" + g.pick("9091", "9092")
		}
	} else {
		if g.chance(0.5) {
			mon["serviceMonitor"] = v1alpha1.ServiceMonitorOwn
		}
		if g.chance(0.2) {
			mon["thanosQuerierURL"] = "http://thanos-query." + g.name(1, 63) + ".svc:" + strconv.Itoa(g.port())
		}
	}
	if g.chance(0.5) {
		mon["dcgmNamespace"] = g.pick(ns, g.name(1, 63))
	}
	spec["monitoring"] = mon

	// The sweep.
	if img := g.image(); img != "" {
		sweep["image"] = img
	}
	if g.chance(0.6) {
		sweep["schedule"] = g.pick("0 2 * * *", "*/15 * * * *", "59 23 31 12 *", "0 0 1 1 *", "@hourly", "@daily", "30 4 * * 1-5", "0 */6 * * *")
	}
	if g.chance(0.7) {
		// Zone names as the API server accepts them: parts of up to 14
		// characters, digits and '+' in the legacy ones.
		sweep["timeZone"] = g.pick("UTC", "Europe/Paris", "America/Argentina/ComodRivadavia", "Antarctica/DumontDUrville",
			"America/Port-au-Prince", "Etc/GMT+5", "Etc/GMT-14", "Asia/Kolkata", "Pacific/Chatham", "America/North_Dakota/New_Salem", "EST5EDT", "Etc/UTC")
	}
	if g.chance(0.5) {
		var steps []int
		c := 0
		for range 1 + g.r.IntN(8) {
			c += 1 + g.r.IntN(5000)
			if c > 100000 {
				break
			}
			steps = append(steps, c)
		}
		sweep["concurrency"] = steps
	} else if g.chance(0.5) {
		start := 1 + g.r.IntN(64)
		sweep["startConcurrency"] = start
		sweep["maxConcurrency"] = []int{start, 100000, start + g.r.IntN(5000)}[g.r.IntN(3)]
	}
	step := []time.Duration{time.Second, time.Minute, 10 * time.Minute}[g.r.IntN(3)]
	if g.chance(0.5) {
		sweep["stepDuration"] = step.String()
	} else {
		step = v1alpha1.DefaultStepDuration
	}
	if g.chance(0.5) {
		sweep["warmup"] = g.pick("0s", "10s", "2m")
	}
	if g.chance(0.5) {
		sweep["requestTimeout"] = g.pick("1s", "2m", "30m")
	}
	deadline := []time.Duration{time.Minute, 6 * time.Hour, 72 * time.Hour}[g.r.IntN(3)]
	if g.chance(0.5) {
		sweep["activeDeadline"] = deadline.String()
	} else {
		deadline = v1alpha1.DefaultActiveDeadline
	}
	sweep["readyTimeout"] = []string{"0s", "30s", min(deadline/2, 24*time.Hour).String()}[g.r.IntN(3)]
	if g.chance(0.5) {
		sweep["api"] = g.pick(v1alpha1.APICompletions, v1alpha1.APIChat)
	}
	if g.chance(0.3) {
		sweep["bisect"] = g.chance(0.5)
	}
	if g.chance(0.5) {
		var scs []any
		names := map[string]bool{}
		for range 1 + g.r.IntN(4) {
			name := g.name(1, 63)
			if g.chance(0.3) {
				name = strings.ToUpper(name)
			}
			if names[strings.ToLower(name)] {
				continue
			}
			names[strings.ToLower(name)] = true
			sc := map[string]any{"name": name, "inputTokens": []int{1, 1 << 20, 1 + g.r.IntN(8192)}[g.r.IntN(3)], "outputTokens": []int{1, 1 << 20, 1 + g.r.IntN(4096)}[g.r.IntN(3)]}
			if g.chance(0.5) {
				sc["description"] = g.pick("support: short in, short out", `quotes "and" 'apostrophes' # not a comment`, "ünïcødé – naïve café ☕", strings.Repeat("long description ", 100))
			}
			if g.chance(0.3) {
				sc["spread"] = []float64{0, 0.9, 0.25}[g.r.IntN(3)]
			}
			if g.chance(0.2) {
				// Recorded traffic, in a ConfigMap the Job mounts (any
				// object name) or on the results PVC.
				d := map[string]any{"path": g.pick("traffic.jsonl", "dir/Share_GPT.v3.json", "/results/datasets/sharegpt.json")}
				if g.chance(0.7) {
					d["configMap"] = g.subdomain(253)
				}
				sc["dataset"] = d
			}
			scs = append(scs, sc)
		}
		sweep["scenarios"] = scs
	}
	if g.chance(0.5) {
		minReq := []int{1, 100000, 1 + g.r.IntN(100)}[g.r.IntN(3)]
		sweep["minRequests"] = minReq
		sweep["maxRequests"] = []int{minReq, 1000000}[g.r.IntN(2)]
		sweep["maxWindow"] = []string{step.String(), "24h"}[g.r.IntN(2)]
	}
	if g.chance(0.5) {
		sweep["keepRuns"] = []int{1, 10000, 1 + g.r.IntN(100)}[g.r.IntN(3)]
	}
	if g.chance(0.3) {
		sweep["timeScale"] = []float64{1, 100, 0.01, 20}[g.r.IntN(4)]
	}
	if g.chance(0.3) {
		sweep["sla"] = map[string]any{
			"ttft":          map[string]any{"excellent": "1ms", "acceptable": "2ms", "degraded": "1h"},
			"readingSpeed":  map[string]any{"excellent": 1000, "acceptable": 2, "degraded": 1},
			"kvCache":       map[string]any{"excellent": 1, "acceptable": 50, "degraded": 100},
			"success":       map[string]any{"excellent": 100, "acceptable": 50, "degraded": 0.1},
			"queueFraction": 1,
		}
	}
	results := map[string]any{}
	if g.chance(0.5) {
		results["size"] = g.pick("1Mi", "5Gi", "10Ti")
	}
	if g.chance(0.4) {
		results["storageClassName"] = g.subdomain(253)
	}
	sweep["results"] = results
	spec["sweep"] = sweep

	// ArgoCD.
	argo := map[string]any{}
	if g.chance(0.4) {
		argo["repoURL"] = "https://git.example.com/" + g.name(1, 40) + "/" + g.name(1, 40) + ".git"
	}
	if g.chance(0.4) {
		argo["revision"] = g.pick("main", "v1.2.3", "0123456789abcdef0123456789abcdef01234567")
	}
	if g.chance(0.3) {
		argo["path"] = "deploy/" + g.name(1, 63)
	}
	if g.chance(0.5) {
		argo["namespace"] = g.name(1, 63)
	}
	if g.chance(0.4) {
		argo["project"] = g.subdomain(253)
	}
	if g.chance(0.5) {
		argo["plugin"] = true
		if img := g.image(); img != "" {
			argo["pluginImage"] = img
		}
	}
	spec["argocd"] = argo

	// NetworkPolicies.
	np := map[string]any{"enabled": npOn}
	if !openshift && g.chance(0.5) {
		np["ingressNamespace"] = g.name(1, 63)
	}
	if g.chance(0.5) {
		var cidrs []string
		for range 1 + g.r.IntN(3) {
			cidrs = append(cidrs, g.cidr())
		}
		np["apiServerCIDRs"] = cidrs
	}
	spec["networkPolicies"] = np

	b, err := yaml.Marshal(map[string]any{
		"apiVersion": v1alpha1.APIVersion,
		"kind":       v1alpha1.Kind,
		"metadata":   map[string]any{"name": g.subdomain(253)},
		"spec":       spec,
	})
	if err != nil {
		panic(err)
	}
	return append([]byte(fmt.Sprintf("# random config, seed %d\n", seed)), b...)
}
