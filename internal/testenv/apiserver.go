package testenv

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The pinned Kubernetes pieces hack/kube-tools.sh (make tools) puts in
// .tools/bin, .tools/crds and .tools/manifests.
const kubeToolsHint = "built by make tools: hack/kube-tools.sh"

// KubeAPIServer is the pinned kube-apiserver.
func KubeAPIServer(t testing.TB) string {
	t.Helper()
	return Find(t, "kube-apiserver", kubeToolsHint)
}

// Etcd is the pinned etcd server.
func Etcd(t testing.TB) string {
	t.Helper()
	return Find(t, "etcd", kubeToolsHint)
}

// Kubectl is the pinned kubectl.
func Kubectl(t testing.TB) string {
	t.Helper()
	return Find(t, "kubectl", kubeToolsHint)
}

// CRDDir is .tools/crds: the CRDs of the kinds the generated trees use
// (ServiceMonitor, PrometheusRule, Route, Application, ArgoCD), copied from
// pinned modules by hack/kube-tools.sh.
func CRDDir(t testing.TB) string {
	t.Helper()
	return toolsDir(t, "crds", "SOURCES")
}

// ManifestsDir is .tools/manifests: upstream objects the tests stand up
// (Argo CD's argocd-repo-server Deployment).
func ManifestsDir(t testing.TB) string {
	t.Helper()
	return toolsDir(t, "manifests", "argocd-repo-server-deployment.yaml")
}

func toolsDir(t testing.TB, name, marker string) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), ".tools", name)
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		missing(t, ".tools/"+name+" is not there (fetched by make tools: hack/kube-tools.sh)")
	}
	return dir
}

// APIServer is a kube-apiserver and its own etcd, both on 127.0.0.1 only,
// with free ports and temp dirs, stopped when the test ends. There is no
// controller-manager or scheduler: nothing runs, objects are only stored,
// validated and admitted (Pod Security included).
type APIServer struct {
	URL        string        // https://127.0.0.1:port
	Kubeconfig string        // kubeconfig for kubectl (token user, CA of the serving cert)
	Token      string        // bearer token of a user in system:masters
	Startup    time.Duration // from starting etcd to the first ready /readyz

	kubectl string
	dir     string
}

// StartAPIServer starts etcd and kube-apiserver (RBAC, token auth,
// service-account keys, --endpoint-reconciler-type=none) and waits for
// /readyz. The tools come from Find: missing, the test skips loudly, or
// fails under CI=true.
func StartAPIServer(t testing.TB) *APIServer {
	t.Helper()
	apiserverBin, etcdBin, kubectlBin := KubeAPIServer(t), Etcd(t), Kubectl(t)
	start := time.Now()
	dir := t.TempDir()
	s := &APIServer{kubectl: kubectlBin, dir: dir, Token: randomHex(t, 24)}

	etcdClient, etcdPeer := FreePort(t), FreePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	etcd := startProc(t, dir, "etcd", etcdBin,
		"--name=test",
		"--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=test="+peerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	waitHTTP(t, etcd, etcdURL+"/health", nil, "")

	saKey := filepath.Join(dir, "sa.key")
	saPub := filepath.Join(dir, "sa.pub")
	writeRSAKey(t, saKey, saPub)
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, s.Token+`,test-admin,test-admin,"system:masters"`+"\n")
	certDir := filepath.Join(dir, "certs")
	port := FreePort(t)
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", port)
	apiserver := startProc(t, dir, "kube-apiserver", apiserverBin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir="+certDir,
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		// As on real clusters: Pod Security, not this flag, judges privilege.
		"--allow-privileged=true",
		"--profiling=false",
	)
	client := &http.Client{
		Timeout: 5 * time.Second,
		// The serving cert is self-signed and may not be written yet: the
		// readiness probe only, on loopback, skips verification; kubectl
		// verifies against the cert once it is there.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	waitHTTP(t, apiserver, s.URL+"/readyz", client, s.Token)
	s.Startup = time.Since(start)

	s.Kubeconfig = filepath.Join(dir, "kubeconfig")
	writeFile(t, s.Kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: test-admin
  user:
    token: %s
contexts:
- name: test
  context:
    cluster: test
    user: test-admin
current-context: test
`, s.URL, filepath.Join(certDir, "apiserver.crt"), s.Token))
	return s
}

// Kubectl runs the pinned kubectl against the server with stdin (may be nil)
// and returns stdout, stderr (where kubectl prints "Warning:" lines) and
// the error of a non-zero exit.
func (s *APIServer) Kubectl(stdin []byte, args ...string) (stdout, stderr string, err error) {
	full := append([]string{"--kubeconfig=" + s.Kubeconfig, "--cache-dir=" + filepath.Join(s.dir, "kube-cache")}, args...)
	cmd := exec.Command(s.kubectl, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig, "HOME="+s.dir)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// MustKubectl is Kubectl that fails the test on a non-zero exit or on
// anything on stderr (warnings included).
func (s *APIServer) MustKubectl(t testing.TB, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, err := s.Kubectl(stdin, args...)
	if err != nil || strings.TrimSpace(errOut) != "" {
		t.Fatalf("kubectl %s: %v\nstderr:\n%s\nstdout:\n%s", strings.Join(args, " "), err, errOut, out)
	}
	return out
}

// WaitCRDsEstablished waits until every CRD is Established. kubectl wait
// fails at once ("status.conditions accessor error") on a CRD created a
// moment ago whose status the API server has not written yet, so that
// answer is retried, for up to three minutes.
func (s *APIServer) WaitCRDsEstablished(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, errOut, err := s.Kubectl(nil, "wait", "--for=condition=Established", "--timeout=180s", "crd", "--all")
		if err == nil && strings.TrimSpace(errOut) == "" {
			return
		}
		if !strings.Contains(errOut, "status.conditions accessor error") || time.Now().After(deadline) {
			t.Fatalf("kubectl wait for the CRDs: %v\nstderr:\n%s\nstdout:\n%s", err, errOut, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// proc is a server process started for a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
}

func startProc(t testing.TB, dir, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail is the end of the process's log, for failure messages.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// waitHTTP polls url until it answers 200, failing early when the process
// exits and after 180 s.
func waitHTTP(t testing.TB, p *proc, url string, client *http.Client, token string) {
	t.Helper()
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	deadline := time.Now().Add(180 * time.Second) // generous: make test runs every package at once on 2 cores
	var last string
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("%s exited before %s answered; log:\n%s", p.name, url, p.logTail())
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body := make([]byte, 2048)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body[:n])
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s not ready after 180 s (last: %s); log:\n%s", p.name, url, last, p.logTail())
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// writeRSAKey writes a fresh RSA key pair for service-account tokens.
func writeRSAKey(t testing.TB, keyPath, pubPath string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, keyPath, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	writeFile(t, pubPath, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
