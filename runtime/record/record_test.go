package record

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

var hdr = Header{Model: "test", Kind: "float32", Deter: 3, Stoch: 2, ActionDim: 2, Rate: 50}

func result(i int) *tick.Result {
	img := make([]uint8, model.ImageValues)
	for j := range img {
		img[j] = uint8(i + j)
	}
	return &tick.Result{
		Tick: uint64(i + 1), Seq: uint64(10 + i), Captured: time.Unix(100, int64(i)),
		FrameAge: time.Duration(i) * time.Millisecond, IsFirst: i == 0,
		Image: img, Action: []float32{float32(i), -1}, ActionStatus: tick.ActionFresh,
		State:   model.State{Deter: []float32{1, 2, float32(i)}, Stoch: []float32{float32(-i), 0.5}},
		Quality: tick.Quality{KL: 1.5, MSE: 0.01, PSNR: 20, ELBO: math.NaN(), Decoded: i%2 == 0},
	}
}

func write(t *testing.T, frames bool, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.msgp")
	w, err := Create(Config{Path: path, Frames: frames}, hdr)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		w.OnTick(result(i))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if wr, dr := w.Stats(); wr != uint64(n) || dr != 0 {
		t.Fatalf("written %d dropped %d, want %d 0", wr, dr, n)
	}
	return path
}

func readAll(t *testing.T, data []byte) ([]TickRecord, *Reader, error) {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	var out []TickRecord
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out, rd, nil
		}
		if err != nil {
			return out, rd, err
		}
		c := *r
		c.Deter, c.Frame, c.Action = append([]float32(nil), r.Deter...), append([]byte(nil), r.Frame...), append([]float32(nil), r.Action...)
		out = append(out, c)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, frames := range []bool{false, true} {
		data, err := os.ReadFile(write(t, frames, 20))
		if err != nil {
			t.Fatal(err)
		}
		recs, rd, err := readAll(t, data)
		if err != nil {
			t.Fatal(err)
		}
		if h := rd.Header(); h.Deter != 3 || h.ActionDim != 2 || h.Frames != frames || h.Version != Version {
			t.Fatalf("header %+v", h)
		}
		if len(recs) != 20 || rd.Torn() {
			t.Fatalf("%d records torn=%v, want 20 false", len(recs), rd.Torn())
		}
		for i, r := range recs {
			src := result(i)
			if r.Seq != src.Seq || r.StampNs != src.Captured.UnixNano() || r.Deter[2] != float32(i) ||
				r.Action[0] != float32(i) || r.IsFirst != (i == 0) || r.Decoded != (i%2 == 0) || !math.IsNaN(float64(r.ELBO)) {
				t.Fatalf("record %d = %+v", i, r)
			}
			if frames != (len(r.Frame) == model.ImageValues) || (frames && r.Frame[5] != uint8(i+5)) {
				t.Fatalf("record %d frame of %d bytes (frames=%v)", i, len(r.Frame), frames)
			}
		}
	}
}

func TestTornTail(t *testing.T) {
	data, err := os.ReadFile(write(t, true, 5))
	if err != nil {
		t.Fatal(err)
	}
	full, _, _ := readAll(t, data)
	if len(full) != 5 {
		t.Fatalf("%d records", len(full))
	}
	// Every truncation inside the last record yields the first four and Torn.
	lastStart := len(data)
	{
		// Find the start of the last record by re-framing.
		off := len(Magic)
		for off < len(data) {
			n := int(uint32(data[off]) | uint32(data[off+1])<<8 | uint32(data[off+2])<<16 | uint32(data[off+3])<<24)
			if off+8+n == len(data) {
				lastStart = off
			}
			off += 8 + n
		}
	}
	for cut := lastStart + 1; cut < len(data); cut += 97 {
		recs, rd, err := readAll(t, data[:cut])
		if err != nil || len(recs) != 4 || !rd.Torn() {
			t.Fatalf("cut at %d: %d records, torn %v, err %v", cut, len(recs), rd != nil && rd.Torn(), err)
		}
	}
	// A flipped byte in the last record: torn too; in the middle: corrupt.
	bad := bytes.Clone(data)
	bad[len(bad)-3] ^= 0xff
	if recs, rd, err := readAll(t, bad); err != nil || len(recs) != 4 || !rd.Torn() {
		t.Fatalf("damaged tail: %d records, err %v", len(recs), err)
	}
	bad = bytes.Clone(data)
	bad[lastStart-10] ^= 0xff
	if _, _, err := readAll(t, bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged middle: err %v, want ErrCorrupt", err)
	}
	if _, err := NewReader(bytes.NewReader([]byte("NOTAREC!xxxxxxxx"))); !errors.Is(err, ErrNotRecording) {
		t.Fatalf("bad magic: %v", err)
	}
}

func TestDropsWhenQueueFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.msgp")
	w, err := Create(Config{Path: path, Queue: 4}, hdr)
	if err != nil {
		t.Fatal(err)
	}
	// Hold every free record, as a writer stuck on a slow disk would.
	var held []*TickRecord
	for range 4 {
		held = append(held, <-w.free)
	}
	for i := range 3 {
		w.OnTick(result(i))
	}
	for _, r := range held {
		w.free <- r
	}
	w.OnTick(result(3))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if wr, dr := w.Stats(); wr != 1 || dr != 3 {
		t.Fatalf("written %d dropped %d, want 1 3", wr, dr)
	}
}

func TestOnTickAllocatesNothing(t *testing.T) {
	w, err := Create(Config{Path: filepath.Join(t.TempDir(), "r"), Frames: true}, hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r := result(1)
	if a := testing.AllocsPerRun(100, func() { w.OnTick(r) }); a != 0 {
		t.Fatalf("%v allocations per OnTick", a)
	}
}

func TestReadSequence(t *testing.T) {
	f, err := os.Open(write(t, true, 7))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ReadSequence(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.T != 7 || s.A != 2 || len(s.Images) != 7*model.ImageValues || s.PreActions[2*6] != 6 || s.Images[6*model.ImageValues+1] != 7 {
		t.Fatalf("sequence T=%d A=%d", s.T, s.A)
	}
	g, _ := os.Open(write(t, false, 2))
	defer g.Close()
	if _, err := ReadSequence(g); err == nil {
		t.Fatal("a recording without frames read as a sequence")
	}
}

func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed")
	w, err := Create(Config{Path: path, Frames: false}, hdr)
	if err != nil {
		f.Fatal(err)
	}
	for i := range 3 {
		w.OnTick(result(i))
	}
	w.Close()
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add([]byte(Magic))
	f.Add(append([]byte(Magic), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for range 1000 {
			if _, err := rd.Next(); err != nil {
				return
			}
		}
	})
}
