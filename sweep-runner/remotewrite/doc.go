// Package remotewrite sends sweep results to Prometheus over the remote-write
// protocol 1.0 (what Prometheus 2.x's --web.enable-remote-write-receiver
// accepts), retrying with backoff. What cannot be sent is appended to a
// pending file in the run directory (through a Store: the *results.Dir) and
// sent again later (on --resume or by the next run), so a Prometheus outage
// never loses a result.
package remotewrite
