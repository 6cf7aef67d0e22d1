package main

import (
	"bytes"
	"fmt"
	"net/http"
	"time"
)

// Client posts alerts to a chat webhook. The logger calls Alert once per
// Debug or Error line, each in its own goroutine: the bug this example
// reproduces (scenario 6/2 of SCENARIOS.md).
type Client struct {
	URL  string
	HTTP *http.Client
}

func NewClient(url string) *Client {
	// A webhook allows a handful of connections; the rest queue in the transport.
	tr := &http.Transport{MaxConnsPerHost: 4, MaxIdleConnsPerHost: 4}
	return &Client{URL: url, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Alert sends one message and waits for the webhook to answer.
func (c *Client) Alert(level, msg string) {
	body := fmt.Sprintf(`{"text": %q}`, level+": "+msg)
	resp, err := c.HTTP.Post(c.URL, "application/json", bytes.NewBufferString(body))
	if err != nil {
		return
	}
	resp.Body.Close()
}
