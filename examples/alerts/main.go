// Command alerts is a log processor that fires a chat alert per Debug and
// Error line, one goroutine per alert, against a slow webhook: under load
// hundreds of alert goroutines pile up waiting on HTTP round trips.
//
// It serves net/http/pprof on 127.0.0.1 and, with -capture FILE, takes an
// execution trace of itself through /debug/pprof/trace?seconds=N (as
// `curl .../debug/pprof/trace?seconds=N > trace.out` would) and exits.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strings"
	"time"
)

// Logger writes log lines and alerts on the important ones.
type Logger struct {
	out    io.Writer
	alerts *Client
}

func (l *Logger) Log(level, msg string) {
	fmt.Fprintf(l.out, "%s %s %s\n", time.Now().Format(time.RFC3339Nano), level, msg)
	if level == "ERROR" || level == "DEBUG" {
		go l.alerts.Alert(level, msg) // one goroutine per line, never bounded
	}
}

// slowWebhook answers after a delay, like a rate-limited chat service.
func slowWebhook(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(delay)
		io.WriteString(w, `{"ok": true}`)
	})
}

// work is the service's real job: parse requests and log what happened.
func work(l *Logger, rate int, stop <-chan struct{}) {
	rng := rand.New(rand.NewSource(1))
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	levels := []string{"INFO", "INFO", "DEBUG", "ERROR", "INFO", "DEBUG"}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		req := strings.Repeat("x", 64+rng.Intn(512))
		l.Log(levels[rng.Intn(len(levels))], fmt.Sprintf("request %d handled (%d bytes)", i, len(req)))
	}
}

func main() {
	capture := flag.String("capture", "", "write an execution trace of this process to FILE and exit")
	seconds := flag.Int("seconds", 2, "trace length for -capture")
	rate := flag.Int("rate", 400, "log lines per second")
	delay := flag.Duration("delay", 250*time.Millisecond, "webhook response time")
	flag.Parse()

	hook, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(hook, slowWebhook(*delay))
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(admin, nil) // net/http/pprof
	log.Printf("pprof on http://%s/debug/pprof/", admin.Addr())

	l := &Logger{out: io.Discard, alerts: NewClient("http://" + hook.Addr().String() + "/hook")}
	stop := make(chan struct{})
	go work(l, *rate, stop)

	if *capture == "" {
		select {}
	}
	time.Sleep(time.Second) // let the backlog build, as in production
	url := fmt.Sprintf("http://%s/debug/pprof/trace?seconds=%d", admin.Addr(), *seconds)
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(*capture)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	close(stop)
}
