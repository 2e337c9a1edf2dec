package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// rxPair returns an rxConn dialled to a listener and the server's end.
func rxPair(t *testing.T) (*rxConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := dialStream(&net.Dialer{Timeout: 5 * time.Second})(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	rc, ok := c.(*rxConn)
	if !ok {
		t.Fatalf("dialStream returned %T, want *rxConn", c)
	}
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { rc.Close(); srv.Close() })
	return rc, srv
}

// The time of data is when the kernel received it: a reader that gets to
// it late (a busy engine) does not move it.
func TestRxConnArrivalIsReceiveTime(t *testing.T) {
	rc, srv := rxPair(t)
	// The kernel turns timestamping on in the background when the first
	// socket asks (keepTimestamping): until then reads carry no time and
	// Arrival says the read's.
	buf := make([]byte, 64)
	for i := 0; ; i++ {
		srv.Write([]byte("w"))
		if _, err := rc.Read(buf); err != nil {
			t.Fatal(err)
		}
		if rc.rx.Load() != 0 {
			break
		}
		if i == 200 {
			t.Fatal("no read carried the kernel's receive time")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := srv.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	time.Sleep(60 * time.Millisecond) // the reader is busy elsewhere
	n, err := rc.Read(buf)
	read := time.Now()
	if err != nil || string(buf[:n]) != "first" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	at := rc.Arrival(read)
	if at.After(sent) || read.Sub(at) < 50*time.Millisecond {
		t.Errorf("arrival %v before the read, sent %v before it: want the receive time, not the read's", read.Sub(at), read.Sub(sent))
	}
	// Data the reader waits for arrives while it is parked.
	go func() {
		time.Sleep(20 * time.Millisecond)
		srv.Write([]byte("second"))
	}()
	n, err = rc.Read(buf)
	if err != nil || string(buf[:n]) != "second" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
}

// The peer's close after its last data (one segment, one edge) still ends
// the stream: the reader sees the data, then EOF.
func TestRxConnDataThenClose(t *testing.T) {
	rc, srv := rxPair(t)
	srv.Write([]byte("last words"))
	srv.Close()
	time.Sleep(20 * time.Millisecond) // both in before the first read
	b, err := io.ReadAll(rc)
	if err != nil || string(b) != "last words" {
		t.Fatalf("ReadAll %q %v", b, err)
	}
}

// Close wakes a parked reader; the read deadline ends a read as a timeout.
func TestRxConnCloseAndDeadline(t *testing.T) {
	rc, _ := rxPair(t)
	if err := rc.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := rc.Read(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("deadline hit after %v", d)
	}
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	closeWakesReader(t, rc, 8, 20*time.Millisecond)
	if _, err := rc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := rc.Close(); err == nil {
		t.Error("a second Close succeeded")
	}
}

// A write larger than the socket's buffers waits for room and completes
// as the peer reads.
func TestRxConnLargeWrite(t *testing.T) {
	rc, srv := rxPair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the buffers fill
		b, _ := io.ReadAll(io.LimitReader(srv, int64(len(big))))
		got <- b
	}()
	n, err := rc.Write(big)
	if err != nil || n != len(big) {
		t.Fatalf("wrote %d of %d: %v", n, len(big), err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Errorf("peer read %d bytes, not what was written", len(b))
	}
}

// A read allocates nothing.
func TestRxConnReadAllocs(t *testing.T) {
	rc, srv := rxPair(t)
	buf := make([]byte, 64)
	msg := []byte("data: {}\n\n")
	allocs := testing.AllocsPerRun(200, func() {
		srv.Write(msg)
		if _, err := rc.Read(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per read", allocs)
	}
}

// An earlier deadline's timer firing late does not expire a later
// deadline, nor the absence of one.
func TestRxConnDeadlineReplaced(t *testing.T) {
	rc, srv := rxPair(t)
	for range 2000 {
		rc.SetReadDeadline(time.Now().Add(time.Microsecond))
		rc.SetReadDeadline(time.Time{})
	}
	time.Sleep(10 * time.Millisecond)
	srv.Write([]byte("x"))
	if _, err := rc.Read(make([]byte, 8)); err != nil {
		t.Fatalf("read without a deadline: %v", err)
	}
}

// Close while the reader is between reads, with data still queued: the
// reader gets the data or net.ErrClosed, and never parks for good.
func TestRxConnCloseWithQueuedData(t *testing.T) {
	for range 50 {
		rc, srv := rxPair(t)
		srv.Write([]byte("queued"))
		time.Sleep(time.Millisecond)
		closeWakesReader(t, rc, 3, 0)
	}
}

// closeWakesReader closes rc under a goroutine reading it with a buffer of
// size bytes until an error, started settle before: the reader must end,
// with net.ErrClosed, whatever it had read before.
func closeWakesReader(t *testing.T, rc *rxConn, size int, settle time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		b := make([]byte, size)
		for {
			if _, err := rc.Read(b); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(settle)
	rc.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close left the reader parked")
	}
}
