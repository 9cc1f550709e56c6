package cdr

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The expected bytes are worked out by hand from the CDR rules: alignment counts from the
// first byte after the 4-byte header, padding is zero.
func TestEncoderBytes(t *testing.T) {
	tests := []struct {
		name  string
		write func(e *Encoder)
		want  string
	}{
		{"header only", func(e *Encoder) {}, "00010000"},
		{"uint8 then uint32 pads 3", func(e *Encoder) { e.Uint8(7); e.Uint32(0x01020304) },
			"00010000 07000000 04030201"},
		{"uint8 then uint16 pads 1", func(e *Encoder) { e.Bool(true); e.Uint16(0xbeef) },
			"00010000 0100 efbe"},
		{"uint32 then uint64 pads 4", func(e *Encoder) { e.Int32(-1); e.Uint64(1) },
			"00010000 ffffffff 00000000 0100000000000000"},
		{"string counts its NUL", func(e *Encoder) { e.String("cam") },
			"00010000 04000000 63616d00"},
		{"empty string is length 1", func(e *Encoder) { e.String("") },
			"00010000 01000000 00"},
		{"string then float64 aligns to 8", func(e *Encoder) { e.String("ab"); e.Float64(1) },
			"00010000 03000000 616200 00 000000000000f03f"},
		{"octet sequence", func(e *Encoder) { e.Octets([]byte{1, 2, 3}) },
			"00010000 03000000 010203"},
		{"float32 sequence after a byte", func(e *Encoder) { e.Uint8(1); e.Float32s([]float32{1, -2}) },
			"00010000 01000000 02000000 0000803f 000000c0"},
		{"octet array has no count", func(e *Encoder) { e.OctetArray([]byte{9, 8}); e.Int16(-2) },
			"00010000 0908 feff"},
		{"int64 and float32", func(e *Encoder) { e.Int64(-2); e.Float32(0.5) },
			"00010000 feffffffffffffff 0000003f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e Encoder
			e.Reset(nil)
			tc.write(&e)
			if want := unhex(t, tc.want); !bytes.Equal(e.Bytes(), want) {
				t.Fatalf("got  % x\nwant % x", e.Bytes(), want)
			}
		})
	}
}

func TestEncoderAppendsToPrefix(t *testing.T) {
	// Alignment is relative to the data, not to the caller's slice: a prefix of 3 bytes
	// must not shift the padding.
	var e Encoder
	e.Reset([]byte{0xaa, 0xbb, 0xcc})
	e.Uint8(1)
	e.Uint32(2)
	want := unhex(t, "aabbcc 00010000 01000000 02000000")
	if !bytes.Equal(e.Bytes(), want) {
		t.Fatalf("got % x want % x", e.Bytes(), want)
	}
	if e.Len() != 8 {
		t.Fatalf("Len = %d, want 8", e.Len())
	}
}

func TestFinishPadsAndRecordsPadding(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "00010000"},
		{1, "00010003 01000000"},
		{2, "00010002 01010000"},
		{3, "00010001 01010100"},
		{4, "00010000 01010101"},
	} {
		var e Encoder
		e.Reset(nil)
		for range tc.n {
			e.Uint8(1)
		}
		if got, want := e.Finish(), unhex(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("%d bytes: got % x want % x", tc.n, got, want)
		}
	}
}

func TestRoundTripBothOrders(t *testing.T) {
	var e Encoder
	e.Reset(nil)
	e.Int8(-3)
	e.Uint16(0x1234)
	e.Int32(-5)
	e.Uint64(1 << 60)
	e.String("frame")
	e.Float64(math.Pi)
	e.Float32s([]float32{1.5, math.MaxFloat32})
	e.Octets([]byte("xyz"))
	e.Bool(true)
	le := e.Bytes()

	check := func(t *testing.T, d *Decoder) {
		t.Helper()
		if v := d.Int8(); v != -3 {
			t.Errorf("int8 %d", v)
		}
		if v := d.Uint16(); v != 0x1234 {
			t.Errorf("uint16 %x", v)
		}
		if v := d.Int32(); v != -5 {
			t.Errorf("int32 %d", v)
		}
		if v := d.Uint64(); v != 1<<60 {
			t.Errorf("uint64 %d", v)
		}
		if v := d.String(); v != "frame" {
			t.Errorf("string %q", v)
		}
		if v := d.Float64(); v != math.Pi {
			t.Errorf("float64 %v", v)
		}
		if v := d.Float32s(nil); len(v) != 2 || v[0] != 1.5 || v[1] != math.MaxFloat32 {
			t.Errorf("float32s %v", v)
		}
		if v := d.Octets(nil); string(v) != "xyz" {
			t.Errorf("octets %q", v)
		}
		if !d.Bool() {
			t.Error("bool false")
		}
		if err := d.Err(); err != nil {
			t.Fatal(err)
		}
		if d.Remaining() != 0 {
			t.Errorf("%d bytes left", d.Remaining())
		}
	}
	t.Run("LE", func(t *testing.T) { check(t, NewDecoder(le)) })

	// The same values in CDR_BE, written by hand: same layout, bytes of each value swapped.
	be := unhex(t, "00000000"+
		"fd 00 1234"+ // int8, pad, uint16
		"fffffffb"+ // int32
		"1000000000000000"+ // uint64 (offset 8)
		"00000006 6672616d6500"+ // string (offset 16)
		"000000000000 400921fb54442d18"+ // pad 26..31, float64 at 32
		"00000002 3fc00000 7f7fffff"+ // float32 seq
		"00000003 78797a"+ // octets
		"01")
	t.Run("BE", func(t *testing.T) { check(t, NewDecoder(be)) })
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		read    func(d *Decoder)
		want    error
		quote   string
	}{
		{"short header", "0001", func(d *Decoder) {}, ErrTruncated, "encapsulation header"},
		{"xcdr2", "00070000 00000000", func(d *Decoder) {}, ErrEncapsulation, "0x0007"},
		{"pl_cdr", "00030000", func(d *Decoder) {}, ErrEncapsulation, "0x0003"},
		{"uint32 short", "00010000 0102", func(d *Decoder) { d.Uint32() }, ErrTruncated, "uint32 at offset 0"},
		{"padding past end", "00010000 01", func(d *Decoder) { d.Uint8(); d.Uint16() }, ErrTruncated, "uint16"},
		{"string longer than buffer", "00010000 ffffff7f 6100", func(d *Decoder) { _ = d.String() }, ErrTruncated, "string of 2147483647 bytes"},
		{"string without NUL", "00010000 02000000 6162", func(d *Decoder) { _ = d.String() }, ErrInvalid, "NUL"},
		{"huge sequence", "00010000 ffffffff 00000000", func(d *Decoder) { d.Float32s(nil) }, ErrTruncated, "sequence of 4294967295"},
		{"float sequence one short", "00010000 02000000 0000803f", func(d *Decoder) { d.Float32s(nil) }, ErrTruncated, "sequence of 2"},
		{"octet array", "00010000 0102", func(d *Decoder) { d.OctetArray(make([]byte, 16)) }, ErrTruncated, "octet array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(unhex(t, tc.payload))
			tc.read(d)
			err := d.Err()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.quote) {
				t.Fatalf("err %q does not say %q", err, tc.quote)
			}
			// Reads after an error return zero values and keep the first error.
			if d.Uint64() != 0 || d.String() != "" || d.Err() != err {
				t.Fatal("reads after an error changed something")
			}
		})
	}
}

func TestStringIntoKeepsEqualString(t *testing.T) {
	var e Encoder
	e.Reset(nil)
	e.String("camera")
	e.String("")
	payload := e.Bytes()
	var a, b string
	var d Decoder
	d.Reset(payload)
	d.StringInto(&a)
	d.StringInto(&b)
	if a != "camera" || b != "" || d.Err() != nil {
		t.Fatalf("%q %q %v", a, b, d.Err())
	}
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset(payload)
		d.StringInto(&a)
		d.StringInto(&b)
	})
	if allocs != 0 {
		t.Fatalf("StringInto of an unchanged string allocates %v times", allocs)
	}
}

func TestZeroLengthStringReadsEmpty(t *testing.T) {
	d := NewDecoder(unhex(t, "00010000 00000000 2a000000"))
	if s := d.String(); s != "" {
		t.Fatalf("%q", s)
	}
	if v := d.Uint32(); v != 42 || d.Err() != nil {
		t.Fatalf("%d %v", v, d.Err())
	}
}

func TestDecodeReusesStorage(t *testing.T) {
	var e Encoder
	e.Reset(nil)
	e.Float32s(make([]float32, 230))
	e.Octets(make([]byte, 64*64*3))
	payload := e.Bytes()
	f := make([]float32, 0, 230)
	o := make([]byte, 0, 64*64*3)
	var d Decoder
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset(payload)
		f = d.Float32s(f)
		o = d.Octets(o)
	})
	if allocs != 0 || len(f) != 230 || len(o) != 64*64*3 {
		t.Fatalf("allocs %v, len %d %d", allocs, len(f), len(o))
	}
}

func TestEncoderNoAllocWithCapacity(t *testing.T) {
	buf := make([]byte, 0, 4096)
	data := make([]float32, 230)
	var e Encoder
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset(buf[:0])
		e.Uint8(1)
		e.String("deter")
		e.Float32s(data)
		e.Float64(1)
	})
	if allocs != 0 {
		t.Fatalf("encoding into a buffer with room allocates %v times", allocs)
	}
}

// FuzzDecoder reads a fixed mix of values from arbitrary bytes: no panic, and no sequence
// larger than the input.
func FuzzDecoder(f *testing.F) {
	var e Encoder
	e.Reset(nil)
	e.Uint8(1)
	e.String("cam")
	e.Float32s([]float32{1, 2})
	e.Octets([]byte{1, 2, 3})
	e.Float64(3)
	f.Add(e.Bytes())
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		d.Reset(b)
		d.Uint8()
		s := d.String()
		fs := d.Float32s(nil)
		o := d.Octets(nil)
		d.Float64()
		d.OctetArray(make([]byte, 16))
		if len(s) > len(b) || 4*len(fs) > len(b) || len(o) > len(b) {
			t.Fatalf("decoded more than the input holds: %d %d %d of %d", len(s), len(fs), len(o), len(b))
		}
	})
}
