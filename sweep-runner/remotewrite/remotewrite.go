package remotewrite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/prompb"
)

// PendingFile is the name of the file, in a run directory, that holds samples
// not yet accepted by the receiver, one JSON Sample a line.
const PendingFile = "remote-write-pending.jsonl"

// Sample is one value of one series at one time.
type Sample struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
	// TimeMs is the sample's timestamp in Unix milliseconds.
	TimeMs int64 `json:"time_ms"`
}

// Client writes samples to one remote-write URL.
type Client struct {
	api *remote.API
	url string
}

// Options tune a Client; zero values take the defaults.
type Options struct {
	// HTTPClient defaults to one with a 10 s timeout.
	HTTPClient *http.Client
	// MaxRetries after the first attempt (default 3).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait between tries (default 500 ms, 5 s).
	MinBackoff, MaxBackoff time.Duration
}

// New returns a Client for the full receiver URL (e.g.
// http://prometheus:9090/api/v1/write).
func New(url string, o Options) (*Client, error) {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	api, err := remote.NewAPI(url,
		remote.WithAPIPath(""),
		remote.WithAPIHTTPClient(o.HTTPClient),
		remote.WithAPIBackoff(remote.BackoffConfig{Min: o.MinBackoff, Max: o.MaxBackoff, MaxRetries: o.MaxRetries}),
	)
	if err != nil {
		return nil, fmt.Errorf("remote write URL %q: %w", url, err)
	}
	return &Client{api: api, url: url}, nil
}

// Write sends the samples in one request (retrying inside).
func (c *Client) Write(ctx context.Context, samples []Sample) error {
	if len(samples) == 0 {
		return nil
	}
	req := ToWriteRequest(samples)
	if _, err := c.api.Write(ctx, remote.WriteV1MessageType, req); err != nil {
		return fmt.Errorf("remote write to %s: %w", c.url, err)
	}
	return nil
}

// ToWriteRequest groups samples into series with sorted labels, as the
// protocol requires, in a stable order.
func ToWriteRequest(samples []Sample) *prompb.WriteRequest {
	type series struct {
		labels []prompb.Label
		points []prompb.Sample
	}
	byKey := map[string]*series{}
	var keys []string
	for _, s := range samples {
		if math.IsNaN(s.Value) {
			continue
		}
		ls := make([]prompb.Label, 0, len(s.Labels)+1)
		ls = append(ls, prompb.Label{Name: "__name__", Value: s.Name})
		for k, v := range s.Labels {
			if v != "" {
				ls = append(ls, prompb.Label{Name: k, Value: v})
			}
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
		var key bytes.Buffer
		for _, l := range ls {
			key.WriteString(l.Name + "\xff" + l.Value + "\xff")
		}
		k := key.String()
		se, ok := byKey[k]
		if !ok {
			se = &series{labels: ls}
			byKey[k] = se
			keys = append(keys, k)
		}
		se.points = append(se.points, prompb.Sample{Value: s.Value, Timestamp: s.TimeMs})
	}
	sort.Strings(keys)
	req := &prompb.WriteRequest{}
	for _, k := range keys {
		se := byKey[k]
		sort.SliceStable(se.points, func(i, j int) bool { return se.points[i].Timestamp < se.points[j].Timestamp })
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: se.labels, Samples: se.points})
	}
	return req
}

// Store is the run directory whose samples are delivered: it keeps the
// pending and rejected files (*results.Dir, which owns the files of a run
// directory). Path names it in messages.
type Store interface {
	Path() string
	Read(rel string) ([]byte, error)
	Append(rel string, data []byte) error
	Remove(rel string) error
}

// AppendPending keeps samples that could not be sent in the file rel of
// st, fsynced, so a later run or --resume can send them.
func AppendPending(st Store, rel string, samples []Sample) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return st.Append(rel, buf.Bytes())
}

// ReadPending returns the samples in the file rel of st (none if it is
// absent). A torn last line (the process died mid-write) is ignored.
func ReadPending(st Store, rel string) ([]Sample, error) {
	b, err := st.Read(rel)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var s Sample
		if err := json.Unmarshal(line, &s); err != nil {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// RejectedFile keeps samples the receiver refused for good (for example as
// too old for its head block), so they are neither lost nor retried forever.
const RejectedFile = "remote-write-rejected.jsonl"

// Deliver first resends the pending samples kept in st, then sends samples.
// Samples that fail transiently are appended to the pending file; samples the
// receiver refuses with a 4xx are moved to the rejected file. The error says
// what was kept where.
func (c *Client) Deliver(ctx context.Context, st Store, samples []Sample) error {
	pendingPath := filepath.Join(st.Path(), PendingFile) // in messages
	pending, err := ReadPending(st, PendingFile)
	if err != nil {
		return fmt.Errorf("reading %s: %w", pendingPath, err)
	}
	var errs []error
	if len(pending) > 0 {
		if err := c.Write(ctx, pending); err != nil && !Permanent(err) {
			// Still unreachable: keep both old and new for later.
			if perr := AppendPending(st, PendingFile, samples); perr != nil {
				return fmt.Errorf("%v; keeping %d samples failed too: %w", err, len(samples), perr)
			}
			return fmt.Errorf("%w (%d samples kept in %s to send later)", err, len(pending)+len(samples), pendingPath)
		} else if err != nil {
			if perr := AppendPending(st, RejectedFile, pending); perr != nil {
				return fmt.Errorf("%v; keeping rejected samples failed too: %w", err, perr)
			}
			errs = append(errs, fmt.Errorf("%w (%d earlier samples refused, kept in %s)", err, len(pending), RejectedFile))
		}
		if err := st.Remove(PendingFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := c.Write(ctx, samples); err != nil {
		keep := PendingFile
		if Permanent(err) {
			keep = RejectedFile
		}
		if perr := AppendPending(st, keep, samples); perr != nil {
			return fmt.Errorf("%v; keeping %d samples failed too: %w", err, len(samples), perr)
		}
		errs = append(errs, fmt.Errorf("%w (%d samples kept in %s)", err, len(samples), keep))
	}
	return errors.Join(errs...)
}

// Permanent reports whether the receiver refused the write with a client
// error, which retrying the same samples cannot fix. The remote package
// exports no status code, so this reads its error text; the test against a
// real Prometheus (an out-of-bounds sample) fails if that text changes.
func Permanent(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server returned HTTP status 4") && !strings.Contains(err.Error(), "HTTP status 429")
}
