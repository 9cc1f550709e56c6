package seqio_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model/seqio"
)

// arr is a test array for npzOf: data is []uint8, []float32, []float64 or []int32.
type arr struct {
	name  string
	data  any
	shape []int
}

// npzOf writes arrays as .npy v1.0 members of a zip; deflate keeps 64x64 frames of a few
// values down to a few hundred bytes (small fuzz seeds).
func npzOf(t testing.TB, deflate bool, arrays ...arr) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, a := range arrays {
		descr := map[string]string{"[]uint8": "|u1", "[]float32": "<f4", "[]float64": "<f8", "[]int32": "<i4"}[fmt.Sprintf("%T", a.data)]
		dims := make([]string, len(a.shape))
		for i, d := range a.shape {
			dims[i] = fmt.Sprint(d)
		}
		shape := "(" + strings.Join(dims, ", ")
		if len(dims) == 1 {
			shape += ","
		}
		h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s), }", descr, shape)
		for (10+len(h)+1)%64 != 0 {
			h += " "
		}
		h += "\n"
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a.name + ".npy", Method: method})
		if err != nil {
			t.Fatal(err)
		}
		var npy bytes.Buffer
		npy.WriteString("\x93NUMPY\x01\x00")
		binary.Write(&npy, binary.LittleEndian, uint16(len(h)))
		npy.WriteString(h)
		binary.Write(&npy, binary.LittleEndian, a.data)
		if _, err := w.Write(npy.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const fv = 64 * 64 * 3 // values per frame

// TestSequenceRules pins the reader's rules (README, "Sequences"): what is accepted, what is
// refused and what the refusal says.
func TestSequenceRules(t *testing.T) {
	const T = 2
	ramp := func(scale float64) []float32 {
		v := make([]float32, T*fv)
		for i := range v {
			v[i] = float32(float64(i%256) / 255 * scale)
		}
		return v
	}
	img := func(data any) arr { return arr{"image", data, []int{T, 64, 64, 3}} }
	f64 := make([]float64, T*fv)
	for i := range f64 {
		f64[i] = float64(i%255) + 0.4
	}
	f64[0] = 254.5 // rounds half away from zero
	nan := ramp(255)
	nan[7] = float32(math.NaN())
	for _, tc := range []struct {
		name    string
		arrays  []arr
		wantErr string // "" = accepted
		check   func(t *testing.T, frame0 []uint8, actionDim int)
	}{
		{"uint8", []arr{img(make([]uint8, T*fv))}, "", nil},
		{"float32 0..255 rounded", []arr{img(ramp(255))}, "", func(t *testing.T, f []uint8, _ int) {
			if f[1] != 1 || f[255] != 255 || f[128] != 128 {
				t.Errorf("pixels %d %d %d, want 1 255 128", f[1], f[255], f[128])
			}
		}},
		{"float64 0..255", []arr{img(f64)}, "", func(t *testing.T, f []uint8, _ int) {
			if f[0] != 255 || f[1] != 1 {
				t.Errorf("254.5 → %d, 1.4 → %d; want 255, 1", f[0], f[1])
			}
		}},
		{"float 0..1", []arr{img(ramp(1))}, "expected range is 0..255", nil},
		{"float all zero", []arr{img(make([]float32, T*fv))}, "expected range is 0..255", nil},
		{"float above 255", []arr{img(ramp(256))}, "outside 0..255", nil},
		{"float NaN", []arr{img(nan)}, "outside 0..255", nil},
		{"int32 image", []arr{img(make([]int32, T*fv))}, `array "image"`, nil},
		{"32x32", []arr{{"image", make([]uint8, T*32*32*3), []int{T, 32, 32, 3}}}, "want (T, 64, 64, 3)", nil},
		{"(T,0) pre_action", []arr{img(make([]uint8, T*fv)), {"pre_action", []float32{}, []int{T, 0}}}, "", func(t *testing.T, _ []uint8, a int) {
			if a != 0 {
				t.Errorf("action dim %d, want 0", a)
			}
		}},
		{"float64 pre_action", []arr{img(make([]uint8, T*fv)), {"pre_action", []float64{0, 0, 1, 2}, []int{T, 2}}}, "", func(t *testing.T, _ []uint8, a int) {
			if a != 2 {
				t.Errorf("action dim %d, want 2", a)
			}
		}},
		{"1-D pre_action", []arr{img(make([]uint8, T*fv)), {"pre_action", []float32{0, 1}, []int{T}}}, "want (2, A)", nil},
		{"int pre_action", []arr{img(make([]uint8, T*fv)), {"pre_action", []int32{0, 1}, []int{T, 1}}}, `pre_action`, nil},
	} {
		seq, err := seqio.ReadSequence(npzOf(t, true, tc.arrays...))
		if tc.wantErr != "" {
			if !errors.Is(err, seqio.ErrFormat) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: got %v, want ErrFormat saying %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.check != nil {
			tc.check(t, seq.Frame(0), seq.ActionDim)
		}
	}
}
