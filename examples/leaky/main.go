// Command leaky reproduces scenarios 1 and 2 of reportgen's SCENARIOS.md with
// the standard library only. A device poller
//
//   - builds an HTTP client, and so a Transport, per call and never closes it
//     (scenario 1: every call leaves a keep-alive connection behind, with its
//     persistConn readLoop and writeLoop goroutines);
//   - logs through a logger that starts a goroutine per line to post it to a
//     slow chat webhook (scenario 2, the IMAlert goroutines);
//   - starts `go func() { <-time.After(256s); cache.Delete(h) }()` for every
//     host on every pass (scenario 2, the WatchPingOnce.func3 waiters);
//   - resolves names with a timeout, leaving the sender blocked forever on an
//     unbuffered channel once the timeout fired (what Go 1.27's goroutineleak
//     profile proves leaked).
//
// It serves net/http/pprof on 127.0.0.1 so that `reportgen capture` can pull
// snapshots while it runs, and prints its address as the first line on
// stdout. With -fixed it runs the repaired program: one shared client, a
// bounded alert queue with one sender, one expiry goroutine and a buffered
// result channel; its goroutine count stays flat.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	cacheTTL      = 256 * time.Second
	lookupTime    = 100 * time.Millisecond
	lookupTimeout = 20 * time.Millisecond
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address for net/http/pprof")
	interval := flag.Duration("interval", 2*time.Second, "pause between polling passes")
	hosts := flag.Int("hosts", 2, "devices polled per pass")
	fixed := flag.Bool("fixed", false, "run the repaired program")
	webhookDelay := flag.Duration("webhook-delay", 10*time.Minute, "how long the chat webhook takes to answer")
	panicAfter := flag.Int("panic-after", 0, "panic after this many passes, to capture a crash dump (0: never)")
	flag.Parse()
	// Sample the heap densely: the leaked connections hold a few KiB each.
	runtime.MemProfileRate = 4096
	log.SetFlags(0)
	log.SetPrefix("leaky: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("pprof on http://%s/debug/pprof/\n", ln.Addr())
	go http.Serve(ln, nil) // DefaultServeMux, where net/http/pprof registered itself

	backend := startServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "{\"device\": %q, \"status\": \"up\"}\n", r.URL.Query().Get("host"))
	}))
	webhook := startServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a chat service that is having a bad day
		case <-time.After(*webhookDelay):
		case <-r.Context().Done():
		}
	}))

	p := newPoller(backend, webhook, *hosts, *fixed)
	go pprof.Do(ctx, pprof.Labels("component", "poller"), func(ctx context.Context) {
		p.run(ctx, *interval, *panicAfter)
	})
	<-ctx.Done()
}

// startServer serves h on a fresh 127.0.0.1 port, like httptest.NewServer.
func startServer(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, h)
	return "http://" + ln.Addr().String()
}

type poller struct {
	backend string
	hosts   []string
	client  *http.Client // shared; nil in the leaky program
	cache   sync.Map     // host -> last status
	expiry  sync.Map     // host -> time.Time; used by the fixed program
	log     *alertLogger
	fixed   bool
}

func newPoller(backend, webhook string, hosts int, fixed bool) *poller {
	p := &poller{backend: backend, log: newAlertLogger(webhook, fixed), fixed: fixed}
	for i := 0; i < hosts; i++ {
		// Label values with ':' are quoted in Go 1.27 traceback headers.
		p.hosts = append(p.hosts, fmt.Sprintf("10.0.0.%d:161", i+1))
	}
	if fixed {
		p.client = &http.Client{Timeout: 5 * time.Second}
	}
	return p
}

func (p *poller) run(ctx context.Context, interval time.Duration, panicAfter int) {
	if p.fixed {
		go p.expireLoop(ctx)
	}
	for n := 1; ; n++ {
		p.pass(ctx, n)
		if n == panicAfter {
			panic(fmt.Sprintf("giving up after %d passes", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (p *poller) pass(ctx context.Context, n int) {
	slow := 0
	for _, h := range p.hosts {
		pprof.Do(ctx, pprof.Labels("device", h), func(context.Context) {
			status, err := p.checkDevice(h)
			if err != nil {
				status = "down"
			}
			p.cache.Store(h, status+" "+p.resolve(h))
			p.expireLater(h)
			slow++
		})
	}
	p.log.Errorf("pass %d: %d devices answered slowly", n, slow)
}

// checkDevice asks the backend for a device's status.
func (p *poller) checkDevice(host string) (string, error) {
	client := p.client
	if client == nil {
		// The leak: a new Transport per call. Its keep-alive connection
		// (and two goroutines) stays open after the call returns.
		client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	}
	resp, err := client.Get(p.backend + "/status?host=" + url.QueryEscape(host))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if !strings.Contains(string(body), `"up"`) {
		return "", errors.New("unexpected answer")
	}
	return "up", nil
}

// expireLater forgets a host's status after cacheTTL.
func (p *poller) expireLater(host string) {
	if p.fixed {
		p.expiry.Store(host, time.Now().Add(cacheTTL))
		return
	}
	// The leak: one waiting goroutine per host per pass, each living for cacheTTL.
	go func() {
		<-time.After(cacheTTL)
		p.cache.Delete(host)
	}()
}

// expireLoop is the fix for expireLater: one goroutine for all hosts.
func (p *poller) expireLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			p.expiry.Range(func(k, v any) bool {
				if now.After(v.(time.Time)) {
					p.expiry.Delete(k)
					p.cache.Delete(k)
				}
				return true
			})
		}
	}
}

// resolve looks a host's name up, giving up after lookupTimeout.
func (p *poller) resolve(host string) string {
	ch := make(chan string) // the leak: unbuffered, so a late sender blocks forever
	if p.fixed {
		ch = make(chan string, 1)
	}
	go func() { ch <- slowLookup(host) }()
	select {
	case name := <-ch:
		return name
	case <-time.After(lookupTimeout):
		return host
	}
}

func slowLookup(host string) string {
	time.Sleep(lookupTime)
	return "device-" + strings.ReplaceAll(host, ".", "-")
}

// alertLogger logs a line and posts it to a chat webhook.
type alertLogger struct {
	webhook string
	client  *http.Client
	queue   chan string // the fix: bounded, drained by one sender
}

func newAlertLogger(webhook string, fixed bool) *alertLogger {
	// One connection to the chat service, and no timeout: posts queue up.
	l := &alertLogger{webhook: webhook, client: &http.Client{
		Transport: &http.Transport{MaxConnsPerHost: 1}}}
	if fixed {
		l.queue = make(chan string, 16)
		go func() {
			for line := range l.queue {
				l.send(line)
			}
		}()
	}
	return l
}

func (l *alertLogger) Errorf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	log.Print(line)
	if l.queue != nil {
		select {
		case l.queue <- line:
		default: // queue full: drop the alert, the log line is kept
		}
		return
	}
	go l.send(line) // the leak: a goroutine per log line, stuck behind the webhook
}

func (l *alertLogger) send(line string) {
	resp, err := l.client.Post(l.webhook, "text/plain", strings.NewReader(line))
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
