package client

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The load engine's connections (rxConn) are read outside Go's network
// poller, and each chunk carries the kernel's receive time.
//
// Why hand-written: a streamed token is one small TCP segment. Read through
// net.Conn, each costs a read that succeeds, a read that fails with EAGAIN
// (Go always tries before it waits), a wake-up from the runtime's poller,
// and, while the engine is not saturated, a thread switch: bin/bench
// measured 8.2 CPU s per million tokens at 512 streams, a third of it in
// read(2), a fifth in context switches (strace: half the reads were EAGAIN;
// perf: 1.3 context switches per token). rxConn instead:
//
//   - takes the socket out of Go's poller and registers it, edge-triggered,
//     in one epoll set of its own (rxPoller), which is polled at most every
//     rxTick while it finds work: the wake-ups of many streams are batched;
//   - reads with one recvmsg(2) per wake-up, and none that fails: a short
//     read drained the socket, and new data brings a new edge;
//   - asks the kernel for each segment's receive time (SO_TIMESTAMPNS), so
//     batching, scheduling and a busy engine add nothing to the measured
//     TTFT and inter-token gaps: a token's time is when it reached this
//     host, not when the engine got round to it.
//
// No library offers this under net/http (which still does the HTTP, TLS and
// chunked decoding on top of rxConn), hence the code.

// rxTick: after a poll that found data, the poller waits this long before
// the next, so the sockets that became readable meanwhile are served by one
// wake-up. It delays reading, not the measured times (kernel timestamps);
// a closed-loop user's next request starts at most this much later.
const rxTick = 2 * time.Millisecond

// rxPoller is the process's epoll set of rxConns.
type rxPoller struct {
	ep    int
	mu    sync.Mutex
	conns map[int32]*rxConn
	next  int32
	// kick wakes the loop when the first connection registers.
	kick chan struct{}
}

var (
	rxOnce sync.Once
	rxP    *rxPoller
	rxErr  error
)

func poller() (*rxPoller, error) {
	rxOnce.Do(func() {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			rxErr = os.NewSyscallError("epoll_create1", err)
			return
		}
		rxP = &rxPoller{ep: ep, conns: map[int32]*rxConn{}, kick: make(chan struct{}, 1)}
		keepTimestamping()
		go rxP.loop()
	})
	return rxP, rxErr
}

// keepTimestamping holds a socket with receive timestamps open for the
// process's life. The kernel turns timestamping on for the whole host
// lazily, in the background, when the first socket asks, and off when the
// last one closes: without this, the first segments of a connection made
// after an idle spell would come without their time.
func keepTimestamping() {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) != nil {
		unix.Close(fd)
	}
}

func (p *rxPoller) add(c *rxConn) error {
	p.mu.Lock()
	p.next++
	if p.next <= 0 {
		p.next = 1
	}
	c.id = p.next
	p.conns[c.id] = c
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: c.id}
	if err := unix.EpollCtl(p.ep, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.remove(c)
		return os.NewSyscallError("epoll_ctl", err)
	}
	// Every time, not only for the first: the first's ADD may fail after
	// a second one counted itself.
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return nil
}

func (p *rxPoller) remove(c *rxConn) {
	_ = unix.EpollCtl(p.ep, unix.EPOLL_CTL_DEL, c.fd, nil)
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
}

// loop polls the set: blocking while nothing arrives, so an idle engine
// costs nothing and a lone token is read at once, and at most every rxTick
// while data keeps arriving.
func (p *rxPoller) loop() {
	evs := make([]unix.EpollEvent, 1024)
	wait := 100 // ms; 0 after a poll that found data (then rxTick passed)
	for {
		p.mu.Lock()
		idle := len(p.conns) == 0
		p.mu.Unlock()
		if idle {
			<-p.kick
			continue
		}
		n, err := unix.EpollWait(p.ep, evs, wait)
		if err != nil {
			if err != unix.EINTR {
				time.Sleep(rxTick) // not expected; do not spin
			}
			continue
		}
		if n > 0 {
			p.mu.Lock()
			for i := range evs[:n] {
				if c := p.conns[evs[i].Fd]; c != nil {
					if evs[i].Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
						c.hup.Store(true)
					}
					c.notify()
				}
			}
			p.mu.Unlock()
		}
		switch {
		case n == len(evs): // more are ready: poll again at once
			wait = 0
		case n > 0:
			time.Sleep(rxTick)
			wait = 0
		default:
			wait = 100
		}
	}
}

// rxConn is a TCP connection read through rxPoller. One goroutine reads
// and one writes at a time (net/http's, and tls's close alert); any may
// close.
type rxConn struct {
	fd           int
	id           int32
	p            *rxPoller
	laddr, raddr net.Addr

	// readable: an edge arrived since the reader last drained the socket;
	// waiting: the reader is parked on ready.
	readable atomic.Bool
	waiting  atomic.Bool
	// hup: the peer closed or the socket failed. The end of the stream
	// may come with the last data's edge and bring none of its own, so
	// from then on the reader reads until recvmsg says so.
	hup   atomic.Bool
	ready chan struct{}

	// state: bit 0 closed, the rest twice the operations in progress; the
	// descriptor is closed when both say so (destroy).
	state   atomic.Int64
	destroy sync.Once

	// rx: the kernel's receive time of the latest data read, as
	// nanoseconds since rxBase (monotonic); 0 when unknown.
	rx atomic.Int64
	// The reader's recvmsg(2) arguments, kept here so a read allocates
	// nothing (unix.Recvmsg allocates a source address per call).
	msg unix.Msghdr
	iov unix.Iovec
	oob [64]byte

	// rdl and wdl: the read and write deadlines, UnixNano (0: none). The
	// read deadline's timer only wakes the reader, which compares the
	// clock with rdl itself, so a timer of an earlier deadline firing late
	// cannot expire a later one.
	rdl     atomic.Int64
	wdl     atomic.Int64
	dlMu    sync.Mutex
	rdTimer *time.Timer
}

// rxBase anchors rx on the monotonic clock.
var rxBase = time.Now()

// dialStream dials a TCP connection for the load engine (see rxConn); it
// falls back to the plain connection where the socket cannot be taken over.
func dialStream(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		p, err := poller()
		if err != nil {
			return c, nil
		}
		rc, err := takeOver(tc, p)
		if err != nil {
			return c, nil
		}
		return rc, nil
	}
}

// takeOver moves tc's socket to an rxConn: a duplicate descriptor, with
// kernel receive timestamps, registered in p; tc itself is closed (which
// takes it out of Go's poller and leaves the socket open).
func takeOver(tc *net.TCPConn, p *rxPoller) (*rxConn, error) {
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var serr error
	if err := raw.Control(func(s uintptr) {
		if serr = unix.SetsockoptInt(int(s), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); serr != nil {
			return
		}
		fd, serr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	c := &rxConn{fd: fd, p: p, laddr: tc.LocalAddr(), raddr: tc.RemoteAddr(),
		ready: make(chan struct{}, 1)}
	c.readable.Store(true)
	if err := p.add(c); err != nil {
		unix.Close(fd)
		return nil, err
	}
	tc.Close()
	return c, nil
}

// notify is the poller's: the socket became readable (or hung up).
func (c *rxConn) notify() {
	c.readable.Store(true)
	if c.waiting.CompareAndSwap(true, false) {
		select {
		case c.ready <- struct{}{}:
		default:
		}
	}
}

func (c *rxConn) acquire() bool {
	if c.state.Add(2)&1 != 0 {
		c.release()
		return false
	}
	return true
}

func (c *rxConn) release() {
	if c.state.Add(-2) == 1 {
		c.destroy.Do(func() { unix.Close(c.fd) })
	}
}

func (c *rxConn) closed() bool { return c.state.Load()&1 != 0 }

func (c *rxConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.laddr, Addr: c.raddr, Err: err}
}

// Read reads what the socket holds, waiting for the poller when it holds
// nothing. One goroutine reads at a time (net/http's readLoop, then the
// body's reader).
func (c *rxConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if c.closed() {
			return 0, c.opError("read", net.ErrClosed)
		}
		if dl := c.rdl.Load(); dl != 0 && time.Now().UnixNano() >= dl {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if !c.readable.Load() {
			c.wait()
			continue
		}
		if !c.acquire() {
			return 0, c.opError("read", net.ErrClosed)
		}
		// Cleared before the read: an edge after it sets it again.
		c.readable.Store(false)
		n, oobn, errno := c.recvmsg(b)
		c.release()
		switch {
		case errno == unix.EAGAIN:
			continue // an edge of data read earlier: wait for the next
		case errno == unix.EINTR:
			c.readable.Store(true)
			continue
		case c.closed() && (errno != 0 || n == 0):
			return 0, c.opError("read", net.ErrClosed)
		case errno != 0:
			c.readable.Store(true)
			return 0, c.opError("read", os.NewSyscallError("recvmsg", errno))
		case n == 0:
			c.readable.Store(true)
			return 0, io.EOF
		}
		if n == len(b) || c.hup.Load() {
			c.readable.Store(true) // more may be there, or the end
		}
		c.stamp(c.oob[:oobn])
		return n, nil
	}
}

// recvmsg reads into b without blocking, with the control messages in oob.
func (c *rxConn) recvmsg(b []byte) (n, oobn int, errno unix.Errno) {
	c.iov.Base = &b[0]
	c.iov.SetLen(len(b))
	c.msg = unix.Msghdr{Iov: &c.iov, Control: &c.oob[0]}
	c.msg.SetIovlen(1)
	c.msg.SetControllen(len(c.oob))
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.msg)), unix.MSG_DONTWAIT)
	c.iov.Base = nil // b is the caller's
	if e != 0 {
		return 0, 0, e
	}
	return int(r), int(c.msg.Controllen), 0
}

// wait parks the reader until the poller sees the socket readable, or a
// close or the read deadline's timer wakes it (both through notify).
func (c *rxConn) wait() {
	c.waiting.Store(true)
	// Close and the timer set their flag before they notify: either
	// notify sees waiting, or this sees the flag.
	if c.readable.Load() || c.closed() {
		if c.waiting.CompareAndSwap(true, false) {
			return
		}
		// notify cleared waiting first: its token is on the way.
	}
	<-c.ready
}

// stamp records the receive time of the data just read from its
// SCM_TIMESTAMPNS control message (the latest segment's); without one the
// time is unknown (Arrival then says now), never the previous read's.
func (c *rxConn) stamp(oob []byte) {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			now := time.Now()
			age := now.UnixNano() - ts.Nano()
			// A wall clock stepped between the segment and now makes
			// the age meaningless: then the read's own time stands.
			if age < 0 || age > int64(10*time.Second) {
				age = 0
			}
			c.rx.Store(int64(now.Sub(rxBase)) - age)
			return
		}
		next := unix.CmsgSpace(l - unix.CmsgLen(0))
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	c.rx.Store(0)
}

// Arrival is when the data last read reached this host (kernel receive
// time), or now when it is not known.
func (c *rxConn) Arrival(now time.Time) time.Time {
	v := c.rx.Load()
	if v == 0 {
		return now
	}
	if t := rxBase.Add(time.Duration(v)); t.Before(now) {
		return t
	}
	return now
}

// Write writes all of b, waiting for room in the socket when it is full.
// One goroutine writes at a time (net/http's writeLoop; tls's close).
func (c *rxConn) Write(b []byte) (int, error) {
	if !c.acquire() {
		return 0, c.opError("write", net.ErrClosed)
	}
	defer c.release()
	done := 0
	for done < len(b) {
		// MSG_NOSIGNAL: a peer gone answers EPIPE, never SIGPIPE.
		n, err := unix.SendmsgN(c.fd, b[done:], nil, nil, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
		if n > 0 {
			done += n
		}
		switch {
		case err == nil || err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := c.waitWritable(); err != nil {
				return done, err
			}
		case c.closed():
			return done, c.opError("write", net.ErrClosed)
		default:
			return done, c.opError("write", os.NewSyscallError("sendmsg", err))
		}
	}
	return done, nil
}

// waitWritable polls the socket for room (a request larger than the send
// buffer), in slices so a close or the deadline is seen.
func (c *rxConn) waitWritable() error {
	for {
		if c.closed() {
			return c.opError("write", net.ErrClosed)
		}
		wait := 100
		if dl := c.wdl.Load(); dl != 0 {
			left := time.Until(time.Unix(0, dl))
			if left <= 0 {
				return c.opError("write", os.ErrDeadlineExceeded)
			}
			wait = min(wait, int(left/time.Millisecond)+1)
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, wait)
		if err != nil && err != unix.EINTR {
			return c.opError("write", os.NewSyscallError("poll", err))
		}
		if n > 0 {
			return nil
		}
	}
}

// Close shuts the socket down (waking a writer waiting for room), takes it
// out of the poller and wakes the reader; the descriptor is closed once no
// read or write is in progress. Close holds a reference of its own while it
// works, so the descriptor cannot be closed (and its number reused by
// another connection) under it.
func (c *rxConn) Close() error {
	for {
		old := c.state.Load()
		if old&1 != 0 {
			return c.opError("close", net.ErrClosed)
		}
		if c.state.CompareAndSwap(old, (old|1)+2) {
			break
		}
	}
	c.p.remove(c)
	_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	c.notify() // the reader turns round and finds it closed
	c.dlMu.Lock()
	if c.rdTimer != nil {
		c.rdTimer.Stop()
		c.rdTimer = nil
	}
	c.dlMu.Unlock()
	c.release()
	return nil
}

func (c *rxConn) LocalAddr() net.Addr  { return c.laddr }
func (c *rxConn) RemoteAddr() net.Addr { return c.raddr }

func (c *rxConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline and a timer that wakes the reader
// then; the zero time clears it.
func (c *rxConn) SetReadDeadline(t time.Time) error {
	if c.closed() {
		return c.opError("set", net.ErrClosed)
	}
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if c.rdTimer != nil {
		c.rdTimer.Stop()
		c.rdTimer = nil
	}
	if t.IsZero() {
		c.rdl.Store(0)
		return nil
	}
	c.rdl.Store(t.UnixNano())
	if d := time.Until(t); d > 0 {
		c.rdTimer = time.AfterFunc(d, c.notify)
	} else {
		c.notify()
	}
	return nil
}

func (c *rxConn) SetWriteDeadline(t time.Time) error {
	if c.closed() {
		return c.opError("set", net.ErrClosed)
	}
	if t.IsZero() {
		c.wdl.Store(0)
	} else {
		c.wdl.Store(t.UnixNano())
	}
	return nil
}

var _ net.Conn = (*rxConn)(nil)
