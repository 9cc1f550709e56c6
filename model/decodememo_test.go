package model_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/rssmd/rssmd/model"
)

func memoModel(t testing.TB) *model.Model {
	t.Helper()
	m, err := model.Load("testdata/golden/cnnha-actions")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randomState returns a state with deterministic, distinct values.
func randomState(a *model.Arch, seed float32) model.State {
	s := model.NewStateFor(a)
	for i := range s.Deter {
		s.Deter[i] = seed * float32(i%7-3) / 5
	}
	for i := range s.Stoch {
		s.Stoch[i] = seed * float32(i%5-2) / 3
	}
	return s
}

// TestDecodeMemo: a stepper wrapped by a memo decodes exactly what its model decodes; a second
// stepper on the same memo takes the image instead of decoding; any change to a single input bit
// misses; the oldest of more than four images is forgotten; Evaluate goes through the memo.
func TestDecodeMemo(t *testing.T) {
	m := memoModel(t)
	a := m.Arch
	ref := m.NewRunner()
	memo := model.NewDecodeMemo(a)
	s1, s2 := memo.Wrap(m.NewRunner()), memo.Wrap(m.NewRunner())

	want := make([]float32, model.ImageValues)
	got := make([]float32, model.ImageValues)
	st := randomState(a, 1)
	if err := ref.Decode(want, st.Deter, st.Stoch); err != nil {
		t.Fatal(err)
	}
	if err := s1.Decode(got, st.Deter, st.Stoch); err != nil || !slices.Equal(got, want) {
		t.Fatalf("first decode through the memo: err %v, equal %v", err, slices.Equal(got, want))
	}
	clear(got)
	if err := s2.Decode(got, st.Deter, st.Stoch); err != nil || !slices.Equal(got, want) {
		t.Fatalf("shared decode: err %v, equal %v", err, slices.Equal(got, want))
	}
	if d, r := memo.Stats(); d != 1 || r != 1 {
		t.Fatalf("stats after a decode and a reuse: %d decodes, %d reused", d, r)
	}

	// One bit of stoch differs: a different input, decoded again.
	st2 := randomState(a, 1)
	st2.Stoch[3] = -st2.Stoch[3] // sign bit
	if st2.Stoch[3] == st.Stoch[3] {
		st2.Stoch[3] += 1
	}
	if err := s2.Decode(got, st2.Deter, st2.Stoch); err != nil {
		t.Fatal(err)
	}
	if d, _ := memo.Stats(); d != 2 {
		t.Fatalf("a changed stoch reused an image: %d decodes", d)
	}
	// Four more images push the first out.
	for k := range 4 {
		s := randomState(a, float32(k+2))
		if err := s1.Decode(got, s.Deter, s.Stoch); err != nil {
			t.Fatal(err)
		}
	}
	if err := s2.Decode(got, st.Deter, st.Stoch); err != nil || !slices.Equal(got, want) {
		t.Fatalf("decode after eviction: err %v", err)
	}
	if d, r := memo.Stats(); d != 7 || r != 1 {
		t.Fatalf("after eviction: %d decodes, %d reused; want 7, 1", d, r)
	}

	// Evaluate decodes through the memo and gives the model's own likelihood.
	img := make([]uint8, model.ImageValues)
	for i := range img {
		img[i] = uint8(i * 7)
	}
	targets := []float32{0}
	wantLik, gotLik := a.NewLikelihood(), a.NewLikelihood()
	if err := ref.Evaluate(st.Deter, st.Stoch, img, targets, 0.5, nil, wantLik); err != nil {
		t.Fatal(err)
	}
	if err := s1.Evaluate(st.Deter, st.Stoch, img, targets, 0.5, nil, gotLik); err != nil {
		t.Fatal(err)
	}
	if gotLik.ELBO != wantLik.ELBO || gotLik.Recon != wantLik.Recon {
		t.Fatalf("Evaluate through the memo: ELBO %v recon %v, want %v %v", gotLik.ELBO, gotLik.Recon, wantLik.ELBO, wantLik.Recon)
	}
	if _, r := memo.Stats(); r != 2 {
		t.Fatalf("Evaluate of a remembered state did not reuse its image: %d reused", r)
	}

	// Wrong sizes are the model's errors, not a memo lookup.
	if err := s1.Decode(got, st.Deter[:3], st.Stoch); err == nil {
		t.Fatal("short deter accepted")
	}
	if n := testing.AllocsPerRun(20, func() { _ = s1.Decode(got, st.Deter, st.Stoch) }); n != 0 {
		t.Fatalf("memo hit allocates %v", n)
	}
}

// TestDecodeMemoConcurrent: steppers on several goroutines share one memo (run with -race);
// every image is the model's own decode of its inputs.
func TestDecodeMemoConcurrent(t *testing.T) {
	m := memoModel(t)
	a := m.Arch
	memo := model.NewDecodeMemo(a)
	states := []model.State{randomState(a, 1), randomState(a, 2), randomState(a, 3)}
	want := make([][]float32, len(states))
	for i, s := range states {
		want[i] = make([]float32, model.ImageValues)
		if err := m.NewRunner().Decode(want[i], s.Deter, s.Stoch); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			st := memo.Wrap(m.NewRunner())
			img := make([]float32, model.ImageValues)
			for k := range 12 {
				i := (g + k) % len(states)
				if err := st.Decode(img, states[i].Deter, states[i].Stoch); err != nil || !slices.Equal(img, want[i]) {
					errs <- "wrong image"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if d, r := memo.Stats(); d+r != 48 || r == 0 {
		t.Fatalf("%d decodes + %d reused, want 48 in all with some reused", d, r)
	}
}
