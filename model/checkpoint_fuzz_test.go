package model

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ckptFixtures are the small torch-written checkpoints under testdata/.
var ckptFixtures = []string{"state_dict.pt", "views.pt", "renamed.pt", "protocol4.pt"}

// checkReadResult is the property every fuzz input must satisfy: an error that wraps
// ErrInvalidCheckpoint, or tensors whose data matches their shape within the size budget.
func checkReadResult(t *testing.T, data []byte, m map[string]*Tensor, err error) {
	if err != nil {
		if !errors.Is(err, ErrInvalidCheckpoint) {
			t.Fatalf("error does not wrap ErrInvalidCheckpoint: %v", err)
		}
		return
	}
	var total int64
	for k, tensor := range m {
		if len(tensor.Data) != tensor.NumElements() {
			t.Fatalf("%q: %d values for shape %s", k, len(tensor.Data), ShapeString(tensor.Shape))
		}
		total += 4 * int64(len(tensor.Data))
	}
	if limit := 8*int64(len(data)) + 1<<20; total > limit {
		t.Fatalf("tensors hold %d bytes from a %d-byte file", total, len(data))
	}
}

func FuzzReadCheckpoint(f *testing.F) {
	for _, name := range ckptFixtures {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(goodCheckpoint(f, zip.Store))
	f.Add(goodCheckpoint(f, zip.Deflate))
	for _, c := range hostileCases() {
		f.Add(c.data(f))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := readWithDeadline(t, data)
		checkReadResult(t, data, m, err)
	})
}

// FuzzCheckpointPickle fuzzes data.pkl alone inside a fixed, valid zip (mutating a whole zip
// mostly breaks its CRCs, which never reaches the pickle). The zip holds the storage records of
// views.pt, so the torch-written pickles of the seeds resolve.
func FuzzCheckpointPickle(f *testing.F) {
	views, err := os.ReadFile(filepath.Join("testdata", "views.pt"))
	if err != nil {
		f.Fatal(err)
	}
	storages := ckptRecords(f, views, "/data/")
	for _, name := range ckptFixtures {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range ckptRecords(f, b, "/data.pkl") {
			f.Add(r.data)
		}
	}
	f.Add(goodPickle())
	for _, c := range hostileCases() {
		for _, r := range ckptRecords(f, c.data(f), "/data.pkl") {
			f.Add(r.data)
		}
	}
	f.Fuzz(func(t *testing.T, pkl []byte) {
		recs := append([]zipRecord{{"m/data.pkl", pkl}}, storages...)
		data := ckptZip(t, zip.Store, recs...)
		m, err := readWithDeadline(t, data)
		checkReadResult(t, data, m, err)
	})
}

// readWithDeadline fails the input if ReadCheckpoint takes more than a few seconds: the
// fuzzer has no per-input timeout of its own, and a slow input is a denial of service.
func readWithDeadline(t *testing.T, data []byte) (map[string]*Tensor, error) {
	type result struct {
		m   map[string]*Tensor
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := ReadCheckpoint(data)
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("ReadCheckpoint still running after 5 s on a %d-byte input", len(data))
		return nil, nil
	}
}

// ckptRecords returns the records of a zip whose names contain part, renamed under "m/";
// a zip that does not open gives none.
func ckptRecords(tb testing.TB, data []byte, part string) []zipRecord {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	var out []zipRecord
	for _, f := range zr.File {
		i := strings.Index(f.Name, part)
		if i < 0 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil {
			continue
		}
		out = append(out, zipRecord{"m" + f.Name[i:], b})
	}
	return out
}
