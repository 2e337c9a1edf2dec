package power

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	prommodel "github.com/prometheus/common/model"

	vm "github.com/rhoai-demo/step07/api/vllmmetrics"
)

// DefaultPodRegex matches KServe's predictor pods of a model; {model} is
// replaced by the served model name (the InferenceService name), quoted.
const DefaultPodRegex = "{model}-predictor.*"

// Timeout bounds one query (the caller's context may end it sooner).
const Timeout = 10 * time.Second

// Querier asks one Prometheus HTTP API, through client_golang's API client
// and an HTTP client built by prometheus/common from HTTPClientConfig.
type Querier struct {
	// URL is the API's base URL, e.g. http://perf-prometheus:9090 or
	// https://thanos-querier.openshift-monitoring.svc.cluster.local:9091.
	URL string
	// TokenFile holds a bearer token, read at every query (tokens rotate).
	TokenFile string
	// CAFile holds the PEM certificates trusted for an https URL (e.g.
	// OpenShift's service CA), re-read when it changes; "" trusts the
	// system roots.
	CAFile string
	// PodRegex selects the GPUs' pods; {model} is replaced. Default
	// DefaultPodRegex.
	PodRegex string

	mu  sync.Mutex
	api promv1.API
}

// HTTPClientConfig is the client configuration of q: the bearer token file
// and the TLS CA file, redirects followed.
func (q *Querier) HTTPClientConfig() config.HTTPClientConfig {
	c := config.DefaultHTTPClientConfig
	c.BearerTokenFile = q.TokenFile
	c.TLSConfig.CAFile = q.CAFile
	return c
}

// Connect builds the API client; MeanWatts does on first use. It reads the
// CA file, so an unreadable one, or one without a PEM certificate, is an
// error here; the token file is read at every query.
func (q *Querier) Connect() error {
	_, err := q.client()
	return err
}

func (q *Querier) client() (promv1.API, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.api != nil {
		return q.api, nil
	}
	cfg := q.HTTPClientConfig()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	hc, err := config.NewClientFromConfig(cfg, "power")
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	hc.Timeout = Timeout
	c, err := api.NewClient(api.Config{Address: q.URL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus URL %q: %w", q.URL, err)
	}
	q.api = promv1.NewAPI(c)
	return q.api, nil
}

// podRegex returns the PromQL label matcher value selecting model's pods.
func (q *Querier) podRegex(model string) string {
	re := q.PodRegex
	if re == "" {
		re = DefaultPodRegex
	}
	return strings.ReplaceAll(re, "{model}", regexp.QuoteMeta(model))
}

// Query is the PromQL expression, evaluated at the window's end, for the
// mean total power of model's GPUs over a window of length d: the pod label
// first, exported_pod when no series carries it (so no GPU counts twice).
func (q *Querier) Query(model string, d time.Duration) string {
	re := strconv.Quote(q.podRegex(model))
	win := fmt.Sprintf("%dms", max(d.Milliseconds(), 1))
	return fmt.Sprintf("sum(avg_over_time(%s{pod=~%s}[%s])) or sum(avg_over_time(%s{exported_pod=~%s}[%s]))",
		vm.DCGMPowerUsage, re, win, vm.DCGMPowerUsage, re, win)
}

// MeanWatts returns the mean total power of model's GPUs between start and
// end. ok is false (and err nil) when Prometheus has no such data.
func (q *Querier) MeanWatts(ctx context.Context, model string, start, end time.Time) (watts float64, ok bool, err error) {
	if !end.After(start) {
		return 0, false, nil
	}
	c, err := q.client()
	if err != nil {
		return 0, false, err
	}
	// Evaluated at the window's end, to the millisecond.
	v, _, _, err := c.Query(ctx, q.Query(model, end.Sub(start)), time.UnixMilli(end.UnixMilli()))
	if err != nil {
		return 0, false, fmt.Errorf("prometheus query: %w", err)
	}
	vec, isVec := v.(prommodel.Vector)
	if !isVec {
		return 0, false, fmt.Errorf("prometheus query: a %T answer, not a vector", v)
	}
	if len(vec) == 0 {
		return 0, false, nil
	}
	return float64(vec[0].Value), true, nil
}
