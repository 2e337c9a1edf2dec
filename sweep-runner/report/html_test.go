package report

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhoai-demo/step07/internal/testenv"
	"github.com/rhoai-demo/step07/sweep-runner/results"
)

// fixtureRun copies the committed run directory (golden/testdata/report/run)
// to a temp dir and rebuilds its reports.
func fixtureRun(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "golden", "testdata", "report", "run")
	dir := t.TempDir()
	for _, f := range []string{"plan.yaml", "run.json", "steps.jsonl"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Rebuild(results.At(dir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// external finds references that would make a browser fetch something:
// http(s) or protocol-relative URLs in src/href/xlink:href/action, CSS url()
// and @import, and any <script>, <link>, <iframe>, <object> or <embed>.
var external = regexp.MustCompile(`(?i)((src|href|action)\s*=\s*["']?\s*(https?:)?//)|url\s*\(|@import|<script|<link|<iframe|<object|<embed`)

func TestHTMLIsSelfContained(t *testing.T) {
	dir := fixtureRun(t)
	b, err := os.ReadFile(filepath.Join(dir, ReportHTML))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if m := external.FindAllString(s, 5); len(m) > 0 {
		t.Errorf("report.html references external resources: %q", m)
	}
	if n := strings.Count(s, "<svg"); n != 5 {
		t.Errorf("%d inline SVG charts, want 5", n)
	}
	for _, want := range []string{
		"Sizing: how many concurrent users", "Capacity plan for 100 concurrent users", "SLA grades per step",
		"Metric definitions", "time to first token", `class="n degraded"`, `class="n excellent"`,
		"tiny-fp8", "cannot meet the SLA at any tested concurrency", "breaks at 7 (queue)", "degraded 2s",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// The check above can fail: an injected reference is found.
	if !external.MatchString(strings.Replace(s, "</main>", `<img src="https://example.com/x.png"></main>`, 1)) {
		t.Error("the external-reference check misses an <img src=https://...>")
	}
}

// recorder is an HTTP proxy that answers nothing and records every request
// Chromium sends through it (plain requests and CONNECT tunnels).
type recorder struct {
	mu   sync.Mutex
	seen []string
}

// browserOwn are the hosts Chromium itself calls despite the flags above
// (component updater, network time, sign-in, safe browsing); requests to
// any other host, e.g. fonts.googleapis.com or a CDN, come from the page.
var browserOwn = map[string]bool{
	"update.googleapis.com": true, "clients2.google.com": true, "accounts.google.com": true,
	"clientservices.googleapis.com": true, "redirector.gvt1.com": true, "edgedl.me.gvt1.com": true,
	"safebrowsing.googleapis.com": true, "optimizationguide-pa.googleapis.com": true,
	"content-autofill.googleapis.com": true, "android.clients.google.com": true,
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if host, _, err := net.SplitHostPort(req.Host); (err == nil && browserOwn[host]) || browserOwn[req.Host] {
		http.Error(w, "offline", http.StatusBadGateway)
		return
	}
	r.mu.Lock()
	r.seen = append(r.seen, req.Method+" "+req.Host+req.URL.Path)
	r.mu.Unlock()
	http.Error(w, "offline", http.StatusBadGateway)
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// screenshot loads a file in headless Chromium with every network request
// routed to a recording proxy, and returns the screenshot and what the proxy
// saw.
func screenshot(t *testing.T, bin, file string) ([]byte, []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	srv := &http.Server{Handler: rec}
	go srv.Serve(l)
	defer srv.Close()
	tmp := t.TempDir()
	shot := filepath.Join(tmp, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(tmp, "profile"), "--window-size=1280,2400", "--hide-scrollbars",
		// Every http(s) request, loopback included, goes to the recorder.
		"--proxy-server=http://"+l.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--virtual-time-budget=3000",
		"--screenshot="+shot, "file://"+file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	return b, rec.requests()
}

// TestHTMLRendersOfflineInChromium loads report.html from a file URL in
// headless Chromium: it renders, the screenshot is far from blank, and the
// page sends no request (a control page with one image URL proves the
// recording proxy sees requests).
func TestHTMLRendersOfflineInChromium(t *testing.T) {
	bin := testenv.Chromium(t)
	dir := fixtureRun(t)
	shot, reqs := screenshot(t, bin, filepath.Join(dir, ReportHTML))
	if len(reqs) > 0 {
		t.Errorf("report.html made network requests: %q", reqs)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	colours := map[uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			colours[(cr>>8)<<16|(cg>>8)<<8|cb>>8] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("the screenshot has %d colours: looks blank", len(colours))
	}
	t.Logf("screenshot %dx%d, %d colours, %d requests", r.Dx(), r.Dy(), len(colours), len(reqs))

	// Control: the same check sees a page that fetches an image.
	ctl := filepath.Join(t.TempDir(), "control.html")
	os.WriteFile(ctl, []byte(`<!DOCTYPE html><html><body><p>control</p><img src="http://report-control.example/pixel.png"></body></html>`), 0o644)
	if _, reqs := screenshot(t, bin, ctl); len(reqs) == 0 {
		t.Error("the recording proxy saw no request from a page that loads an http image: the offline check cannot fail")
	} else {
		t.Logf("control page requests: %s", fmt.Sprint(reqs))
	}
}
