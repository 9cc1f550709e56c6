package capture

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
)

func TestMailbox(t *testing.T) {
	m := NewMailbox()
	if _, ok := m.Take(false); ok {
		t.Fatal("Take on an empty mailbox returned a frame")
	}
	for i := 1; i <= 3; i++ {
		b := m.Buffer(4)
		b[0] = byte(i)
		m.Publish(Frame{Seq: uint64(i)})
	}
	f, ok := m.Take(true)
	if !ok || f.Seq != 3 {
		t.Fatalf("Take(true) = seq %d, %v; want the newest, 3", f.Seq, ok)
	}
	if got := m.Skipped(); got != 2 {
		t.Errorf("Skipped = %d, want 2 (frames 1 and 2 never taken)", got)
	}
	if _, ok := m.Take(true); ok {
		t.Error("Take(true) returned an already taken frame")
	}
	if f, ok := m.Take(false); !ok || f.Seq != 3 {
		t.Errorf("Take(false) = %d, %v; want the newest again", f.Seq, ok)
	}
	// The consumer's frame is never the producer's next buffer.
	held := m.Buffer(4)
	m.Publish(Frame{Frame: frame.Frame{Data: held}, Seq: 4})
	got, _ := m.Take(true)
	next := m.Buffer(4)
	if &next[0] == &got.Data[0] {
		t.Error("Buffer returned the slot the consumer holds")
	}
	if n := testing.AllocsPerRun(100, func() {
		m.Buffer(4)
		m.Publish(Frame{Seq: 9})
		m.Take(true)
	}); n != 0 {
		t.Errorf("publish/take allocates %v per frame", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		time.Sleep(10 * time.Millisecond)
		m.Publish(Frame{Seq: 10})
		m.Close()
	}()
	if f, err := m.Next(ctx); err != nil || f.Seq != 10 {
		t.Fatalf("Next = %d, %v; want the frame published while waiting", f.Seq, err)
	}
	if _, err := m.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
}

// TestMailboxPublishers: concurrent publishers (two ROS subscriptions) never lose the count;
// run with -race.
func TestMailboxPublishers(t *testing.T) {
	m := NewMailbox()
	var wg sync.WaitGroup
	var taken int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			if _, ok := m.Take(true); ok {
				taken++
			}
		}
	}()
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				m.Publish(Frame{Seq: uint64(p*1000 + i)})
			}
		}()
	}
	wg.Wait()
	<-done
	if _, ok := m.Take(true); ok {
		taken++
	}
	if got := uint64(taken) + m.Skipped(); got != 1000 {
		t.Errorf("taken %d + skipped %d = %d, want the 1000 published", taken, m.Skipped(), got)
	}
}
