package model

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

// pk emits pickle opcodes (protocol 2, plus a few others to test refusal), so tests can build
// exactly the stream they need, hostile or not.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }
func (p *pk) proto() *pk       { return p.op(0x80, 2) }
func (p *pk) mark() *pk        { return p.op('(') }
func (p *pk) stop() *pk        { return p.op('.') }
func (p *pk) global(m, n string) *pk {
	p.WriteByte('c')
	p.WriteString(m + "\n" + n + "\n")
	return p
}
func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

// int emits the shortest opcode torch would: BININT1, BININT2, BININT or LONG1.
func (p *pk) int(v int) *pk {
	switch {
	case v >= 0 && v < 1<<8:
		return p.op('K', byte(v))
	case v >= 0 && v < 1<<16:
		return p.op('M', byte(v), byte(v>>8))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		p.WriteByte('J')
		binary.Write(&p.Buffer, binary.LittleEndian, int32(v))
		return p
	default:
		p.op(0x8a, 8)
		binary.Write(&p.Buffer, binary.LittleEndian, int64(v))
		return p
	}
}
func (p *pk) tuple(vs ...int) *pk {
	p.mark()
	for _, v := range vs {
		p.int(v)
	}
	return p.op('t')
}
func (p *pk) binput(i byte) *pk { return p.op('q', i) }
func (p *pk) binget(i byte) *pk { return p.op('h', i) }

// tensor emits _rebuild_tensor_v2((storage, cls, key, "cpu", numel), offset, size, stride,
// False, OrderedDict()) the way torch.save does.
func (p *pk) tensor(cls, key string, numel, offset int, size, stride []int) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").mark()
	p.mark().str("storage").global("torch", cls).str(key).str("cpu").int(numel).op('t').op('Q')
	p.int(offset).tuple(size...).tuple(stride...).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

// zipRecord is one record of a test checkpoint.
type zipRecord struct {
	name string
	data []byte
}

// ckptZip zips records the way torch.save does (stored, no compression).
func ckptZip(t testing.TB, method uint16, recs ...zipRecord) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range recs {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func f32bytes(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// goodPickle is a valid state_dict {"w": [[1,2,3],[4,5,6]]} on storage "0".
func goodPickle() []byte {
	var p pk
	p.proto().op('}').mark().str("w").tensor("FloatStorage", "0", 6, 0, []int{2, 3}, []int{3, 1}).op('u').stop()
	return p.Bytes()
}

func goodCheckpoint(t testing.TB, method uint16) []byte {
	return ckptZip(t, method,
		zipRecord{"archive/data.pkl", goodPickle()},
		zipRecord{"archive/byteorder", []byte("little")},
		zipRecord{"archive/data/0", f32bytes(1, 2, 3, 4, 5, 6)},
		zipRecord{"archive/version", []byte("3\n")})
}

// TestReadCheckpointHandBuilt shows that the hand-built baseline and its variants load, so
// the hostile cases below fail for the reason they test and not for a broken helper.
func TestReadCheckpointHandBuilt(t *testing.T) {
	junk := bytes.Repeat([]byte("#!prefix "), 20)
	tests := []struct {
		name string
		data []byte
	}{
		{"stored", goodCheckpoint(t, zip.Store)},
		{"deflated", goodCheckpoint(t, zip.Deflate)},
		{"bytes before the zip", append(junk, goodCheckpoint(t, zip.Store)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadCheckpoint(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			w := m["w"]
			if len(m) != 1 || w == nil || ShapeString(w.Shape) != "[2, 3]" {
				t.Fatalf("got %v", m)
			}
			for i, v := range w.Data {
				if v != float32(i+1) {
					t.Fatalf("w.Data = %v", w.Data)
				}
			}
		})
	}
}

// hostileCase builds one malformed or malicious checkpoint.
type hostileCase struct {
	name      string
	data      func(t testing.TB) []byte
	wantErr   string // substring of the error
	forbidden bool   // error must also wrap ErrForbiddenGlobal
}

// withPickle zips a pickle with a float storage "0" of the given bytes.
func withPickle(p []byte, storage []byte) func(testing.TB) []byte {
	return func(t testing.TB) []byte {
		return ckptZip(t, zip.Store, zipRecord{"m/data.pkl", p}, zipRecord{"m/data/0", storage})
	}
}

func hostileCases() []hostileCase {
	six := f32bytes(1, 2, 3, 4, 5, 6)
	build := func(f func(p *pk)) []byte {
		var p pk
		f(&p)
		return p.Bytes()
	}
	dict := func(body func(p *pk)) []byte {
		return build(func(p *pk) { p.proto().op('}').mark(); body(p); p.op('u').stop() })
	}
	w := func(p *pk, numel, offset int, size, stride []int) {
		p.str("w").tensor("FloatStorage", "0", numel, offset, size, stride)
	}
	call := func(m, n string) []byte {
		return build(func(p *pk) { p.proto().global(m, n).str("echo pwned").op(0x85, 'R').stop() })
	}
	cases := []hostileCase{
		{name: "os.system", data: withPickle(call("os", "system"), six), wantErr: `"os.system"`, forbidden: true},
		{name: "builtins.eval", data: withPickle(call("builtins", "eval"), six), wantErr: `"builtins.eval"`, forbidden: true},
		{name: "posix.system", data: withPickle(call("posix", "system"), six), wantErr: "posix.system", forbidden: true},
		{name: "gopickle built-in builtins.list", data: withPickle(call("builtins", "list"), six), wantErr: "builtins.list", forbidden: true},
		{name: "unsupported dtype", data: withPickle(dict(func(p *pk) {
			p.str("w").tensor("ComplexFloatStorage", "0", 3, 0, []int{3}, []int{1})
		}), six), wantErr: "torch.ComplexFloatStorage", forbidden: true},
		{name: "STACK_GLOBAL os.system", data: withPickle(build(func(p *pk) {
			p.op(0x80, 4).op(0x8c, 2).WriteString("os")
			p.op(0x94, 0x8c, 6).WriteString("system")
			p.op(0x94, 0x93).str("id").op(0x85, 'R').stop()
		}), six), wantErr: "os.system", forbidden: true},
		{name: "STACK_GLOBAL of computed names", data: withPickle(build(func(p *pk) {
			p.op(0x80, 4).str("os").op(0x85).str("system").op(0x93).stop()
		}), six), wantErr: "not string literals"},
		{name: "INST opcode", data: withPickle(build(func(p *pk) {
			p.proto().mark().str("id").op('i').WriteString("os\nsystem\n")
			p.stop()
		}), six), wantErr: "not allowed"},
		{name: "shape larger than storage", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{3, 3}, []int{3, 1}) }), six), wantErr: "reaches past"},
		{name: "offset past storage", data: withPickle(dict(func(p *pk) { w(p, 6, 5, []int{2}, []int{1}) }), six), wantErr: "reaches past"},
		{name: "stride past storage", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{2, 3}, []int{4, 1}) }), six), wantErr: "reaches past"},
		{name: "huge stride overflow", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{3, 2}, []int{1 << 62, 1}) }), six), wantErr: "reaches past"},
		{name: "negative offset", data: withPickle(dict(func(p *pk) { w(p, 6, -1, []int{2}, []int{1}) }), six), wantErr: "storage_offset"},
		{name: "negative size", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{-2, 3}, []int{3, 1}) }), six), wantErr: "non-negative"},
		{name: "stride count mismatch", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{2, 3}, []int{1}) }), six), wantErr: "strides"},
		{name: "storage record too short", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{2, 3}, []int{3, 1}) }), six[:20]), wantErr: "record has 20 bytes"},
		{name: "storage record too long", data: withPickle(dict(func(p *pk) { w(p, 5, 0, []int{5}, []int{1}) }), six), wantErr: "record has 24 bytes"},
		{name: "huge shape 2^40 elements", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{1 << 20, 1 << 20}, []int{1 << 20, 1}) }), six), wantErr: "more than"},
		{name: "huge single dim 2^40", data: withPickle(dict(func(p *pk) { w(p, 6, 0, []int{1 << 40}, []int{1}) }), six), wantErr: "exceeds"},
		{name: "huge numel in persistent id", data: withPickle(dict(func(p *pk) { w(p, 1<<40, 0, []int{2}, []int{1}) }), six), wantErr: "record has 24 bytes"},
		{name: "missing storage record", data: withPickle(dict(func(p *pk) {
			p.str("w").tensor("FloatStorage", "7", 6, 0, []int{6}, []int{1})
		}), six), wantErr: `missing record "m/data/7"`},
		{name: "storage seen with two sizes", data: withPickle(dict(func(p *pk) {
			w(p, 6, 0, []int{6}, []int{1})
			p.str("v").tensor("FloatStorage", "0", 5, 0, []int{5}, []int{1})
		}), six), wantErr: "referenced as"},
		{name: "BINPERSID of a string", data: withPickle(dict(func(p *pk) {
			p.str("w").global("torch._utils", "_rebuild_tensor_v2").mark().str("0").op('Q')
			p.int(0).tuple(6).tuple(1).op(0x89).op('}', 't', 'R')
		}), six), wantErr: "persistent id is string"},
		{name: "rebuild of a non-storage", data: withPickle(dict(func(p *pk) {
			p.str("w").global("torch._utils", "_rebuild_tensor_v2").mark().str("0")
			p.int(0).tuple(6).tuple(1).op(0x89).op('}', 't', 'R')
		}), six), wantErr: "not a storage"},
		{name: "duplicate key in dict", data: withPickle(dict(func(p *pk) {
			w(p, 6, 0, []int{6}, []int{1})
			w(p, 6, 0, []int{6}, []int{1})
		}), six), wantErr: `"w" twice`},
		{name: "duplicate key in OrderedDict", data: withPickle(build(func(p *pk) {
			p.proto().global("collections", "OrderedDict").op(')', 'R').mark()
			w(p, 6, 0, []int{6}, []int{1})
			w(p, 6, 0, []int{2}, []int{1})
			p.op('u').stop()
		}), six), wantErr: `"w" twice`},
		{name: "non-string key", data: withPickle(dict(func(p *pk) {
			p.int(3).tensor("FloatStorage", "0", 6, 0, []int{6}, []int{1})
		}), six), wantErr: "not a string"},
		{name: "key is a DAG of shared tuples (2^40 leaves)", data: withPickle(dict(func(p *pk) {
			p.str("k")
			for range 40 {
				p.op('2', 0x86) // DUP, TUPLE2: (t, t)
			}
			p.tensor("FloatStorage", "0", 6, 0, []int{6}, []int{1})
		}), six), wantErr: "not a string"},
		{name: "top level is a list", data: withPickle(build(func(p *pk) { p.proto().op(']').stop() }), six), wantErr: "not a state_dict"},
		{name: "int64 not exact in float32", data: withPickle(dict(func(p *pk) {
			p.str("n").tensor("LongStorage", "0", 3, 0, []int{3}, []int{1})
		}), append(binary.LittleEndian.AppendUint64(make([]byte, 16), 1<<40), 0, 0, 0, 0, 0, 0, 0, 0)[:24]), wantErr: "not exactly representable"},
		{name: "BINUNICODE length 4 GiB", data: withPickle(build(func(p *pk) {
			p.proto().op('X', 0xff, 0xff, 0xff, 0xff).WriteString("abc")
		}), six), wantErr: "runs past the end"},
		{name: "FRAME length past end", data: withPickle(build(func(p *pk) {
			p.op(0x80, 4, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
		}), six), wantErr: "frame of"},
		{name: "LONG1 of zero bytes", data: withPickle(build(func(p *pk) { p.proto().op(0x8a, 0).stop() }), six), wantErr: "LONG1"},
		{name: "DICT with odd items", data: withPickle(build(func(p *pk) { p.proto().mark().str("a").op('d').stop() }), six), wantErr: "odd"},
		{name: "SETITEMS with odd items", data: withPickle(dict(func(p *pk) { p.str("a") }), six), wantErr: "odd"},
		{name: "REDUCE on empty stack", data: withPickle(build(func(p *pk) { p.proto().op('R').stop() }), six), wantErr: "needs 2 stack items"},
		{name: "memo read before write", data: withPickle(build(func(p *pk) { p.proto().binget(3).stop() }), six), wantErr: "read before"},
		{name: "no STOP", data: withPickle(build(func(p *pk) { p.proto().op('}') }), six), wantErr: "without STOP"},
		{name: "STOP with leftovers", data: withPickle(build(func(p *pk) { p.proto().op('}', '}').stop() }), six), wantErr: "leaves"},
		{name: "MARKs nested 100 deep", data: withPickle(build(func(p *pk) { p.proto().Write(bytes.Repeat([]byte("("), 100)) }), six), wantErr: "nested deeper"},
		{name: "expansion through shared views", data: func(t testing.TB) []byte {
			const n = 1 << 14
			p := dict(func(p *pk) {
				p.str("k0").tensor("FloatStorage", "0", n, 0, []int{n}, []int{1}).binput(1)
				for i := 1; i < 200; i++ {
					p.str("k" + strings.Repeat("x", i)).binget(1)
				}
			})
			return ckptZip(t, zip.Store, zipRecord{"m/data.pkl", p}, zipRecord{"m/data/0", make([]byte, 4*n)})
		}, wantErr: "expand to more than"},
		{name: "truncated zip", data: func(t testing.TB) []byte {
			b := goodCheckpoint(t, zip.Store)
			return b[:len(b)/2]
		}, wantErr: "not a zip archive"},
		{name: "missing data.pkl", data: func(t testing.TB) []byte {
			return ckptZip(t, zip.Store, zipRecord{"m/data/0", six}, zipRecord{"m/version", []byte("3")})
		}, wantErr: "no <prefix>/data.pkl"},
		{name: "two data.pkl", data: func(t testing.TB) []byte {
			return ckptZip(t, zip.Store, zipRecord{"a/data.pkl", goodPickle()}, zipRecord{"b/data.pkl", goodPickle()})
		}, wantErr: "ambiguous"},
		{name: "big-endian byteorder", data: func(t testing.TB) []byte {
			return ckptZip(t, zip.Store, zipRecord{"m/data.pkl", goodPickle()}, zipRecord{"m/byteorder", []byte("big")},
				zipRecord{"m/data/0", six})
		}, wantErr: "byteorder"},
		{name: "bad version", data: func(t testing.TB) []byte {
			return ckptZip(t, zip.Store, zipRecord{"m/data.pkl", goodPickle()}, zipRecord{"m/version", []byte("three")},
				zipRecord{"m/data/0", six})
		}, wantErr: "version"},
		{name: "corrupted storage bytes", data: func(t testing.TB) []byte {
			b := goodCheckpoint(t, zip.Store)
			i := bytes.Index(b, f32bytes(1, 2, 3))
			b[i] ^= 0xff
			return b
		}, wantErr: "checksum"},
		{name: "compressed record claiming 1 TiB", data: func(t testing.TB) []byte {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, err := zw.CreateRaw(&zip.FileHeader{Name: "m/data.pkl", Method: zip.Deflate,
				CompressedSize64: 2, UncompressedSize64: 1 << 40})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte{3, 0})
			zw.Close()
			return buf.Bytes()
		}, wantErr: "claims"},
		{name: "legacy format", data: func(testing.TB) []byte { return goodPickle() }, wantErr: "legacy"},
		{name: "empty input", data: func(testing.TB) []byte { return nil }, wantErr: "not a zip"},
	}
	return cases
}

func TestReadCheckpointHostile(t *testing.T) {
	for _, tt := range hostileCases() {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			m, err := ReadCheckpoint(data)
			if err == nil {
				t.Fatalf("no error; got %d tensors", len(m))
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidCheckpoint) {
				t.Errorf("error %q does not wrap ErrInvalidCheckpoint", err)
			}
			if tt.forbidden != errors.Is(err, ErrForbiddenGlobal) {
				t.Errorf("error %q: wraps ErrForbiddenGlobal = %v, want %v", err, !tt.forbidden, tt.forbidden)
			}
		})
	}
}

// TestReadCheckpointHostileAllocation checks that refusing a hostile checkpoint costs memory in
// proportion to its size, not to the sizes it claims.
func TestReadCheckpointHostileAllocation(t *testing.T) {
	for _, tt := range hostileCases() {
		data := tt.data(t)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadCheckpoint(data)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("%s: no error", tt.name)
		}
		// The reader lets tensors expand to 8× the file + 1 MiB; the rest is bookkeeping.
		limit := uint64(12*len(data) + 2<<20)
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Errorf("%s: allocated %d bytes for a %d-byte file (limit %d)", tt.name, got, len(data), limit)
		}
	}
}
