package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model/seqio"
)

// sharedTestdata finds <repo root>/../shared/testdata; it skips the test when
// absent, unless CI is set (CI provides it, so absence is a failure there).
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared testdata missing in CI: %v", err)
		}
		t.Skipf("shared testdata not available (%v)", err)
	}
	return td
}

func TestLoadSharedSequence(t *testing.T) {
	td := sharedTestdata(t)
	seq, err := LoadSequence(filepath.Join(td, "golden", "shared-walker", "seq.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if seq.T != 40 || seq.H != 64 || seq.W != 64 || seq.A != 6 {
		t.Fatalf("shape T=%d H=%d W=%d A=%d, want 40x64x64, A=6", seq.T, seq.H, seq.W, seq.A)
	}
	for _, v := range seq.PreAction(0) {
		if v != 0 {
			t.Fatalf("pre_action row 0 = %v, want zeros", seq.PreAction(0))
		}
	}
	if bytes.Equal(seq.Image(0), seq.Image(1)) {
		t.Error("frames 0 and 1 are identical; the sequence was not read")
	}
}

func TestReadSequenceDtypes(t *testing.T) {
	const T, H, W, A = 3, 64, 64, 2
	u8 := make([]uint8, T*H*W*3)
	f32 := make([]float32, T*H*W*3)
	f64 := make([]float64, T*H*W*3)
	for i := range u8 {
		u8[i] = uint8(i * 7)
		f32[i] = float32(u8[i]) + 0.2 // dataset images: non-integer 0..255
		f64[i] = float64(u8[i]) - 0.3
		switch u8[i] { // stay inside 0..255
		case 0:
			f64[i] = 0.3
		case 255:
			f32[i] = 254.8
		}
	}
	act32 := make([]float32, T*A)
	act64 := make([]float64, T*A)
	for i := range act32 {
		act32[i] = float32(i) / 4
		act64[i] = float64(i) / 4
	}
	img := func(v any) any { return wrap(v, []int{T, H, W, 3}) }
	tests := []struct {
		name    string
		arrays  map[string]any
		wantA   int
		wantErr bool
	}{
		{"uint8+f32", map[string]any{"image": img(u8), "pre_action": wrap(act32, []int{T, A})}, A, false},
		{"dataset f32 image, f64 action", map[string]any{"image": img(f32), "pre_action": wrap(act64, []int{T, A})}, A, false},
		{"f64 image", map[string]any{"image": img(f64), "pre_action": wrap(act32, []int{T, A})}, A, false},
		{"no actions", map[string]any{"image": img(u8)}, 0, false},
		{"(T,0) actions", map[string]any{"image": img(u8), "pre_action": wrap([]float32{}, []int{T, 0})}, 0, false},
		{"no image", map[string]any{"pre_action": wrap(act32, []int{T, A})}, 0, true},
		{"image not RGB", map[string]any{"image": wrap(u8, []int{T, H, W * 3})}, 0, true},
		{"action rows mismatch", map[string]any{"image": img(u8), "pre_action": wrap(act32, []int{T * A})}, 0, true},
		{"int image", map[string]any{"image": wrap(make([]int32, T*H*W*3), []int{T, H, W, 3})}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, err := sequenceBytes(npzBytes(t, tt.arrays))
			if tt.wantErr {
				if !errors.Is(err, ErrSequence) {
					t.Fatalf("got %v, want ErrSequence", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if seq.T != T || seq.H != H || seq.W != W || seq.A != tt.wantA {
				t.Fatalf("got T=%d H=%d W=%d A=%d", seq.T, seq.H, seq.W, seq.A)
			}
			if !bytes.Equal(seq.Images, u8) {
				t.Error("image values differ from the uint8 original after rounding")
			}
			if tt.wantA > 0 && seq.PreAction(2)[1] != act32[2*A+1] {
				t.Errorf("pre_action[2][1] = %v, want %v", seq.PreAction(2)[1], act32[2*A+1])
			}
			if tt.wantA == 0 && seq.PreAction(1) != nil {
				t.Errorf("action-free sequence has pre_action row %v", seq.PreAction(1))
			}
		})
	}
}

// TestSameVerdictAsFilter: replay (rssmd run --source replay:) and the offline tools
// (rssmd filter, calibrate, report: seqio.ReadSequenceFile) accept and refuse the same odd
// sequences, with the same message.
func TestSameVerdictAsFilter(t *testing.T) {
	const T = 5
	side := 64
	unit := make([]float32, T*side*side*3) // 0..1 units: the 14.8 mistake
	for i := range unit {
		unit[i] = float32(i%256) / 255
	}
	dataset := make([]float32, len(unit))
	for i, v := range unit {
		dataset[i] = v * 255
	}
	over := append([]float32{256}, dataset[1:]...)
	tests := []struct {
		name    string
		arrays  map[string]any
		wantErr string // "" = accepted
	}{
		{"float 0..1 image", map[string]any{"image": wrap(unit, []int{T, side, side, 3})}, "expected range is 0..255"},
		{"float 0..255 image", map[string]any{"image": wrap(dataset, []int{T, side, side, 3})}, ""},
		{"float above 255", map[string]any{"image": wrap(over, []int{T, side, side, 3})}, "outside 0..255"},
		{"(T,0) actions", map[string]any{"image": wrap(dataset, []int{T, side, side, 3}), "pre_action": wrap([]float32{}, []int{T, 0})}, ""},
		{"32x32 image", map[string]any{"image": wrap(make([]uint8, T*32*32*3), []int{T, 32, 32, 3})}, "want (T, 64, 64, 3)"},
		{"1-D pre_action", map[string]any{"image": wrap(make([]uint8, T*side*side*3), []int{T, side, side, 3}), "pre_action": wrap(make([]float32, T), []int{T})}, "want (5, A)"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		path := filepath.Join(dir, fmt.Sprintf("%d.npz", i))
		if err := os.WriteFile(path, npzBytes(t, tt.arrays), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errFilter := seqio.ReadSequenceFile(path)
		r, errReplay := NewReplay(ReplayConfig{Path: path})
		if errReplay == nil {
			r.Close()
		}
		if tt.wantErr == "" {
			if errFilter != nil || errReplay != nil {
				t.Errorf("%s: filter %v, replay %v; want both to accept", tt.name, errFilter, errReplay)
			}
			continue
		}
		if errFilter == nil || errReplay == nil {
			t.Errorf("%s: filter %v, replay %v; want both to refuse", tt.name, errFilter, errReplay)
			continue
		}
		if !strings.Contains(errFilter.Error(), tt.wantErr) || !strings.Contains(errReplay.Error(), errFilter.Error()) {
			t.Errorf("%s: filter says %q, replay says %q; want the same message, containing %q", tt.name, errFilter, errReplay, tt.wantErr)
		}
		if !errors.Is(errReplay, ErrSequence) || !errors.Is(errFilter, seqio.ErrFormat) {
			t.Errorf("%s: errors do not wrap the sequence sentinel", tt.name)
		}
	}
}

func TestReplayAsFastAsAsked(t *testing.T) {
	seq := testSequence(5)
	r, err := NewReplay(ReplayConfig{Sequence: seq})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if _, ok := r.Latest(); ok {
		t.Error("Latest before any Next returned a frame")
	}
	for i := range 5 {
		f, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq != uint64(i) || f.Data[0] != byte(i) || f.PreAction[0] != float32(i) {
			t.Fatalf("frame %d: seq %d, pixel %d, action %v", i, f.Seq, f.Data[0], f.PreAction)
		}
		if l, ok := r.Latest(); !ok || l.Seq != f.Seq {
			t.Fatalf("Latest = %d, %v; want %d", l.Seq, ok, f.Seq)
		}
	}
	if _, err := r.Next(ctx); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
	if got := r.Stats().Frames; got != 5 {
		t.Errorf("Stats.Frames = %d, want 5", got)
	}
	allocs := testing.AllocsPerRun(50, func() {
		r2 := r
		r2.pos = 0
		if _, err := r2.Next(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v per frame", allocs)
	}
}

func TestReplayAtRate(t *testing.T) {
	seq := testSequence(4)
	r, err := NewReplay(ReplayConfig{Sequence: seq, Rate: 200, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var last uint64
	for i := range 12 {
		f, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && f.Seq <= last {
			t.Fatalf("Next returned seq %d after %d: not newer", f.Seq, last)
		}
		if want := byte(f.Seq % 4); f.Data[0] != want {
			t.Fatalf("seq %d has pixel %d, want %d (looping)", f.Seq, f.Data[0], want)
		}
		last = f.Seq
		if i == 5 {
			time.Sleep(30 * time.Millisecond) // be slow: frames get skipped
		}
	}
	if st := r.Stats(); st.Skipped == 0 || st.Frames < 12 {
		t.Errorf("stats %+v: want frames ≥ 12 and some skipped", st)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}

	r, err = NewReplay(ReplayConfig{Sequence: seq, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		_, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("non-looping replay at rate: %v, want io.EOF at the end", err)
		}
	}
}

func TestReplayConfigErrors(t *testing.T) {
	for _, c := range []ReplayConfig{{}, {Path: "/nonexistent.npz"}, {Sequence: testSequence(1), Rate: -1}} {
		if _, err := NewReplay(c); err == nil {
			t.Errorf("NewReplay(%+v) succeeded", c)
		}
	}
}

// testSequence has T 2x2 frames whose pixels and actions equal the index.
func testSequence(T int) *Sequence {
	s := &Sequence{T: T, H: 2, W: 2, A: 1, Images: make([]byte, T*12), PreActions: make([]float32, T)}
	for t := range T {
		for i := range 12 {
			s.Images[t*12+i] = byte(t)
		}
		s.PreActions[t] = float32(t)
	}
	return s
}

func FuzzReadSequence(f *testing.F) {
	u8 := make([]uint8, 2*64*64*3) // deflated by npzBytes: a small seed
	f.Add(npzBytes(f, map[string]any{"image": wrap(u8, []int{2, 64, 64, 3}), "pre_action": wrap([]float32{0, 0, 1, 1}, []int{2, 2})}))
	f.Add(npzBytes(f, map[string]any{"image": wrap([]float32{1, 2, 3}, []int{1, 1, 1, 3})}))
	f.Add(npzBytes(f, map[string]any{"image": wrap(u8, []int{2, 64, 64, 3}), StampArray: wrap([]float64{1.7e9, 1.7e9 + 0.02}, []int{2})}))
	f.Add(npzBytes(f, map[string]any{"image": wrap(u8, []int{2, 64, 64, 3}), StampArray: wrap([]int64{5, 3}, []int{2})}))
	f.Add([]byte("PK\x03\x04"))
	if b, err := os.ReadFile("testdata/fortran.npz"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, err := sequenceBytes(data)
		if err != nil {
			return
		}
		if len(seq.Images) != seq.T*seq.H*seq.W*3 || len(seq.PreActions) != seq.T*seq.A ||
			(seq.Stamps != nil && len(seq.Stamps) != seq.T) {
			t.Fatalf("inconsistent sequence: T=%d H=%d W=%d A=%d, %d image bytes, %d actions",
				seq.T, seq.H, seq.W, seq.A, len(seq.Images), len(seq.PreActions))
		}
	})
}

func TestNumpyWrittenFiles(t *testing.T) {
	seq, err := LoadSequence("testdata/aime-episode.npz")
	if err != nil {
		t.Fatal(err)
	}
	if seq.T != 4 || seq.H != 64 || seq.W != 64 || seq.A != 6 {
		t.Fatalf("aime episode: T=%d H=%d W=%d A=%d", seq.T, seq.H, seq.W, seq.A)
	}
	// Pixel (y=1, x=2) of frame 3: float 8 + 30.9 = 38.9, rounded to 39.
	if got := seq.Image(3)[(1*64+2)*3]; got != 39 {
		t.Errorf("frame 3 pixel (1,2) red = %d, want 39 (rounded float)", got)
	}
	if a := seq.PreAction(0); a[0] != 0 || seq.PreAction(1)[0] != -1 {
		t.Errorf("pre_action rows 0 and 1 start with %v and %v, want 0 and -1", a[0], seq.PreAction(1)[0])
	}
	if _, err := LoadSequence("testdata/fortran.npz"); !errors.Is(err, ErrSequence) {
		t.Errorf("Fortran-order image: %v, want ErrSequence", err)
	}
}
