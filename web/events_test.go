package web_test

import (
	"bufio"
	"github.com/gpcm/gpcm/internal/testutil"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/web"
)

func TestBrokerLifecycle(t *testing.T) {
	b := web.NewBroker(nil)
	if _, _, err := b.Subscribe("x"); err == nil {
		t.Fatal("subscribe before Start: got no error")
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err == nil {
		t.Fatal("second Start: got no error")
	}
	ch, cancel, err := b.Subscribe(web.InboxTopic("A11111"))
	if err != nil {
		t.Fatal(err)
	}
	other, cancelOther, _ := b.Subscribe(web.InboxTopic("B22222"))
	b.Publish(web.Event{Topic: web.InboxTopic("A11111"), Name: "document", Data: "doc-1"})
	if ev := <-ch; ev.Data != "doc-1" {
		t.Fatalf("got %+v, want doc-1", ev)
	}
	select {
	case ev := <-other:
		t.Fatalf("other practice got %+v", ev)
	default:
	}
	cancelOther()
	cancelOther()   // twice is fine
	for range 100 { // a slow subscriber never blocks Publish
		b.Publish(web.Event{Topic: web.InboxTopic("A11111"), Name: "document"})
	}
	b.Stop()
	b.Stop()
	n := 0
	for range ch { // closed by Stop
		n++
	}
	if n == 0 || n > 100 {
		t.Fatalf("buffered %d events, want between 1 and 100", n)
	}
	cancel() // after Stop: no panic
	if _, _, err := b.Subscribe("x"); err == nil {
		t.Fatal("subscribe after Stop: got no error")
	}
	(web.NewBroker(nil)).Stop() // stop before start
}

func TestEventStream(t *testing.T) {
	env := MustServer(t, web.Config{})
	c := env.login("practice-a")
	b := env.login("practice-b")

	open := func(c *client) (*bufio.Reader, io.Closer) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, env.ts.URL+"/events", nil)
		res, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("GET /events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		r := bufio.NewReader(res.Body)
		for { // the stream starts with a comment once subscribed
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == ": connected\n" {
				if _, err := r.ReadString('\n'); err != nil { // blank line ending the comment
					t.Fatal(err)
				}
				break
			}
		}
		return r, res.Body
	}
	ra, bodyA := open(c)
	rb, bodyB := open(b)
	defer bodyB.Close()

	env.srv.Publish(web.Event{Topic: web.InboxTopic("B22222"), Name: "document", Data: "doc-b"})
	env.srv.Publish(web.Event{Topic: web.InboxTopic("A11111"), Name: "document", Data: "doc-a\nevent: forged"})
	var got []string
	for len(got) < 3 {
		line, err := ra.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	if want := "event: document\n|data: doc-a event: forged\n|\n"; strings.Join(got, "|") != want {
		t.Fatalf("practice A's stream: got %q, want %q", strings.Join(got, "|"), want)
	}
	if line, _ := rb.ReadString('\n'); line != "event: document\n" {
		t.Fatalf("practice B's stream: got %q", line)
	}
	if line, _ := rb.ReadString('\n'); line != "data: doc-b\n" {
		t.Fatalf("practice B's stream: got %q", line)
	}
	bodyA.Close()

	// Stopping the server ends open streams.
	env.srv.Stop()
	if _, err := io.ReadAll(rb); err != nil {
		t.Fatalf("stream after Stop: %v", err)
	}
	env.ts.Close()
	env.ts.Client().CloseIdleConnections()
	c.hc.CloseIdleConnections()
	b.hc.CloseIdleConnections()
	if leaked := testutil.LeakedGoroutines("github.com/gpcm/gpcm/web", 10*time.Second); leaked != "" {
		t.Fatalf("event stream goroutines still running after Stop:\n%s", leaked)
	}
}
