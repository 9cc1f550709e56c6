package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nlpodyssey/gopickle/types"
)

// This file is the pickle half of the checkpoint reader: a static pass over data.pkl that
// validates every opcode before gopickle executes any of them, and the few Python objects a
// state_dict pickle is allowed to build.
//
// Why a static pass: gopickle allocates the length an opcode declares before reading it
// (BINUNICODE with 0xffffffff asks for 4 GiB), panics on some malformed streams (a DICT with an
// odd item count), and constructs its own built-in classes (list, dict, object, array) without
// asking FindClass. Pickles are straight-line code, so one pass can check every length against
// the bytes left, simulate the stack depth, check every memo read, and vet every global.

// Limits on the shape of a data.pkl stream. A state_dict pickle nests MARKs about three deep,
// pushes at most 2×1000 items per SETITEMS batch, and memoizes ~8 objects per tensor.
const (
	maxPickleMarkDepth  = 64
	maxPickleStackDepth = 1 << 16
	maxPickleMemo       = 1 << 22
)

// allowedGlobals lists every GLOBAL a state_dict pickle may name. Anything else (os.system,
// builtins.eval, torch.nn.Module subclasses from a pickled model) is refused before any object
// is built.
var allowedGlobals = map[string]bool{
	"collections.OrderedDict":         true,
	"torch._utils._rebuild_tensor_v2": true,
	"torch._utils._rebuild_parameter": true,
}

func init() {
	for name := range storageDTypes {
		allowedGlobals["torch."+name] = true
	}
}

// checkedDictModule replaces "collections" in the rewritten stream so gopickle hands
// OrderedDict to our FindClass instead of its own type, which silently merges duplicate keys.
// Same length, so FRAME lengths stay valid; the scan refuses it in a file because it is not in
// allowedGlobals.
const checkedDictModule = "Collections"

// scanResult is what the static pass learned.
type scanResult struct {
	// dictModuleAt are the offsets of "collections" module names that feed OrderedDict.
	dictModuleAt []int
}

// pickleValue is the scan's shadow of one stack item: whether it is a string literal, and where its
// bytes are, so STACK_GLOBAL (protocol 4) can be vetted like GLOBAL.
type pickleValue struct {
	lit bool
	s   string
	off int
}

// scanPickle validates data.pkl without executing it. See the comment at the top of the file.
func scanPickle(p []byte) (*scanResult, error) {
	res := &scanResult{}
	var stack []pickleValue // shadow of the unpickler's stack, all MARK levels together
	var marks []int         // len(stack) at each open MARK
	memo := make(map[uint32]pickleValue)

	pos := 0
	for {
		if pos >= len(p) {
			return nil, fmt.Errorf("%w: data.pkl ends without STOP", ErrInvalidCheckpoint)
		}
		start := pos
		op := p[pos]
		pos++
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: data.pkl offset %d, opcode 0x%02x: %s", ErrInvalidCheckpoint, start, op,
				fmt.Sprintf(format, args...))
		}
		// need consumes n argument bytes, refusing lengths past the end before anything allocates.
		need := func(n uint64) ([]byte, error) {
			if n > uint64(len(p)-pos) {
				return nil, fail("argument of %d bytes runs past the end (%d left)", n, len(p)-pos)
			}
			b := p[pos : pos+int(n)]
			pos += int(n)
			return b, nil
		}
		line := func() (string, int, error) {
			i := bytes.IndexByte(p[pos:min(len(p), pos+256)], '\n')
			if i < 0 {
				return "", 0, fail("text argument without newline within 256 bytes")
			}
			s, off := string(p[pos:pos+i]), pos
			pos += i + 1
			return s, off, nil
		}
		level := func() int { // items above the innermost MARK
			if len(marks) == 0 {
				return len(stack)
			}
			return len(stack) - marks[len(marks)-1]
		}
		pop := func(n int) ([]pickleValue, error) {
			if level() < n {
				return nil, fail("needs %d stack items, has %d", n, level())
			}
			v := stack[len(stack)-n:]
			stack = stack[:len(stack)-n]
			return v, nil
		}
		push := func(v pickleValue) error {
			if len(stack) >= maxPickleStackDepth {
				return fail("stack deeper than %d", maxPickleStackDepth)
			}
			stack = append(stack, v)
			return nil
		}
		// popMark drops the items above the innermost MARK and the MARK, returning their count.
		popMark := func() (int, error) {
			if len(marks) == 0 {
				return 0, fail("no MARK to pop to")
			}
			n := level()
			stack = stack[:marks[len(marks)-1]]
			marks = marks[:len(marks)-1]
			return n, nil
		}
		// replace pops n items and pushes one opaque result.
		replace := func(n int) error {
			if _, err := pop(n); err != nil {
				return err
			}
			return push(pickleValue{})
		}
		put := func(i uint32) error {
			if level() == 0 {
				return fail("memo store with nothing on the stack")
			}
			if _, ok := memo[i]; !ok && len(memo) >= maxPickleMemo {
				return fail("more than %d memo entries", maxPickleMemo)
			}
			memo[i] = stack[len(stack)-1]
			return nil
		}
		get := func(i uint32) error {
			v, ok := memo[i]
			if !ok {
				return fail("memo entry %d read before it was stored", i)
			}
			return push(v)
		}
		global := func(module, name string, moduleAt int) error {
			if !allowedGlobals[module+"."+name] {
				return fmt.Errorf("%w: %w: data.pkl offset %d names %q; a state_dict needs only tensors, storages and OrderedDict",
					ErrInvalidCheckpoint, ErrForbiddenGlobal, start, module+"."+name)
			}
			if module == "collections" {
				res.dictModuleAt = append(res.dictModuleAt, moduleAt)
			}
			return push(pickleValue{})
		}
		str := func(n uint64) error {
			b, err := need(n)
			if err != nil {
				return err
			}
			return push(pickleValue{lit: true, s: string(b), off: pos - len(b)})
		}

		var err error
		switch op {
		case '.': // STOP
			if _, err = pop(1); err == nil && (len(stack) != 0 || len(marks) != 0) {
				err = fail("STOP leaves %d items and %d open MARKs", len(stack), len(marks))
			}
			if err != nil {
				return nil, err
			}
			return res, nil
		case 0x80: // PROTO
			var b []byte
			if b, err = need(1); err == nil && b[0] > 5 {
				err = fail("unsupported pickle protocol %d", b[0])
			}
		case 0x95: // FRAME (protocol 4): gopickle reads the whole frame into memory first
			var b []byte
			if b, err = need(8); err == nil {
				if n := binary.LittleEndian.Uint64(b); n > uint64(len(p)-pos) {
					err = fail("frame of %d bytes runs past the end (%d left)", n, len(p)-pos)
				}
			}
		case '(': // MARK
			if len(marks) >= maxPickleMarkDepth {
				err = fail("MARKs nested deeper than %d", maxPickleMarkDepth)
			} else {
				marks = append(marks, len(stack))
			}
		case '0': // POP (gopickle, like Python, pops a MARK when the level is empty: we refuse)
			_, err = pop(1)
		case '1': // POP_MARK
			_, err = popMark()
		case '2': // DUP
			var v []pickleValue
			if v, err = pop(1); err == nil {
				top := v[0]
				if err = push(top); err == nil {
					err = push(top)
				}
			}
		case 'N', 0x88, 0x89, ')', ']', '}': // NONE, NEWTRUE, NEWFALSE, EMPTY_TUPLE/LIST/DICT
			err = push(pickleValue{})
		case 'K', 'M', 'J', 'G': // BININT1, BININT2, BININT, BINFLOAT
			if _, err = need(uint64(fixedArgLen[op])); err == nil {
				err = push(pickleValue{})
			}
		case 'I', 'F': // INT, FLOAT as text (protocol 0); gopickle parses them with strconv
			if _, _, err = line(); err == nil {
				err = push(pickleValue{})
			}
		case 0x8a: // LONG1: gopickle indexes the last byte (0 bytes would panic); >8 is a big.Int
			var b []byte
			if b, err = need(1); err == nil {
				if b[0] == 0 || b[0] > 8 {
					err = fail("LONG1 of %d bytes (want 1..8)", b[0])
				} else if _, err = need(uint64(b[0])); err == nil {
					err = push(pickleValue{})
				}
			}
		case 'X', 'T': // BINUNICODE, BINSTRING: 4-byte length
			var b []byte
			if b, err = need(4); err == nil {
				if n := binary.LittleEndian.Uint32(b); op == 'T' && n > math.MaxInt32 {
					err = fail("negative BINSTRING length")
				} else {
					err = str(uint64(n))
				}
			}
		case 0x8c, 'U': // SHORT_BINUNICODE, SHORT_BINSTRING: 1-byte length
			var b []byte
			if b, err = need(1); err == nil {
				err = str(uint64(b[0]))
			}
		case 'c': // GLOBAL "module\nname\n"
			var module, name string
			var at int
			if module, at, err = line(); err == nil {
				if name, _, err = line(); err == nil {
					err = global(module, name, at)
				}
			}
		case 0x93: // STACK_GLOBAL: module and name are the top two items; they must be literals
			var v []pickleValue
			if v, err = pop(2); err == nil {
				if !v[0].lit || !v[1].lit {
					err = fail("STACK_GLOBAL whose module and name are not string literals")
				} else {
					err = global(v[0].s, v[1].s, v[0].off)
				}
			}
		case 'Q': // BINPERSID
			err = replace(1)
		case 'R', 'b', 'a': // REDUCE, BUILD, APPEND
			err = replace(2)
		case 's': // SETITEM
			err = replace(3)
		case 0x85, 0x86, 0x87: // TUPLE1..3
			err = replace(int(op - 0x84))
		case 't', 'l', 'd': // TUPLE, LIST, DICT
			var n int
			if n, err = popMark(); err == nil {
				if op == 'd' && n%2 != 0 {
					err = fail("DICT with an odd number (%d) of items", n)
				} else {
					err = push(pickleValue{})
				}
			}
		case 'e', 'u': // APPENDS, SETITEMS: the list or dict sits below the MARK
			var n int
			if n, err = popMark(); err == nil {
				if op == 'u' && n%2 != 0 {
					err = fail("SETITEMS with an odd number (%d) of items", n)
				} else {
					err = replace(1)
				}
			}
		case 'q': // BINPUT
			var b []byte
			if b, err = need(1); err == nil {
				err = put(uint32(b[0]))
			}
		case 'r': // LONG_BINPUT
			var b []byte
			if b, err = need(4); err == nil {
				err = put(binary.LittleEndian.Uint32(b))
			}
		case 0x94: // MEMOIZE: gopickle stores at len(memo), as Python does
			err = put(uint32(len(memo)))
		case 'h': // BINGET
			var b []byte
			if b, err = need(1); err == nil {
				err = get(uint32(b[0]))
			}
		case 'j': // LONG_BINGET
			var b []byte
			if b, err = need(4); err == nil {
				err = get(binary.LittleEndian.Uint32(b))
			}
		default:
			// Refused on purpose: INST/OBJ/NEWOBJ/NEWOBJ_EX/EXT* (build arbitrary objects),
			// PERSID/PUT/GET/LONG/STRING/UNICODE as text, bytes and bytearray (unhashable in
			// gopickle's dicts), sets, out-of-band buffers. torch.save emits none of them.
			err = fail("opcode not allowed in a state_dict pickle")
		}
		if err != nil {
			return nil, err
		}
	}
}

// rewriteDictGlobals returns a copy of p in which every OrderedDict global names
// checkedDictModule, so FindClass gives our duplicate-detecting dict.
func rewriteDictGlobals(p []byte, at []int) []byte {
	if len(at) == 0 {
		return p
	}
	q := append([]byte(nil), p...)
	for _, off := range at {
		copy(q[off:], checkedDictModule)
	}
	return q
}

// fixedArgLen is the argument length of the number opcodes with fixed-size arguments.
var fixedArgLen = [256]uint8{'K': 1, 'M': 2, 'J': 4, 'G': 8}

// storageDType describes one torch storage class.
type storageDType struct {
	name     string
	elemSize int
}

// storageDTypes are the storage classes the reader converts to float32. Integer values must be
// exactly representable (|v| ≤ 2^24); int64 buffers such as BatchNorm's num_batches_tracked are.
var storageDTypes = map[string]*storageDType{
	"FloatStorage":    {"float32", 4},
	"DoubleStorage":   {"float64", 8},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
}

// storageClass is the value a storage GLOBAL evaluates to: only a dtype tag, never callable.
type storageClass struct{ dtype *storageDType }

// storage is one data/<key> record, as bytes still in the file's encoding.
type storage struct {
	key   string
	dtype *storageDType
	raw   []byte
	numel int
}

// tensorRef is what _rebuild_tensor_v2 returns: a validated view into a storage. Nothing is
// copied until the top-level dict is walked, so a pickle that rebuilds the same large view many
// times costs nothing.
type tensorRef struct {
	st     *storage
	offset int
	shape  []int
	stride []int
	numel  int
}

// rebuildTensor implements torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]).
type rebuildTensor struct{}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) != 6 && len(args) != 7 {
		return nil, fmt.Errorf("%w: _rebuild_tensor_v2 with %d arguments (want 6 or 7)", ErrInvalidCheckpoint, len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("%w: _rebuild_tensor_v2: first argument is %T, not a storage", ErrInvalidCheckpoint, args[0])
	}
	offset, ok := args[1].(int)
	if !ok || offset < 0 {
		return nil, fmt.Errorf("%w: storage %q: bad storage_offset %s", ErrInvalidCheckpoint, st.key, briefPickle(args[1]))
	}
	shape, err := intTuple(args[2], "size")
	if err != nil {
		return nil, fmt.Errorf("%w: storage %q: %w", ErrInvalidCheckpoint, st.key, err)
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, fmt.Errorf("%w: storage %q: %w", ErrInvalidCheckpoint, st.key, err)
	}
	if len(stride) != len(shape) {
		return nil, fmt.Errorf("%w: storage %q: size %s with %d strides", ErrInvalidCheckpoint, st.key, ShapeString(shape), len(stride))
	}
	numel, err := checkedNumel(shape)
	if err != nil {
		return nil, fmt.Errorf("%w: storage %q: %w", ErrInvalidCheckpoint, st.key, err)
	}
	if err := checkExtent(st, offset, shape, stride, numel); err != nil {
		return nil, err
	}
	return &tensorRef{st: st, offset: offset, shape: shape, stride: stride, numel: numel}, nil
}

// rebuildParameter implements torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks): a Parameter is its tensor.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("%w: _rebuild_parameter with %d arguments (want 3)", ErrInvalidCheckpoint, len(args))
	}
	t, ok := args[0].(*tensorRef)
	if !ok {
		return nil, fmt.Errorf("%w: _rebuild_parameter of %T, not a tensor", ErrInvalidCheckpoint, args[0])
	}
	return t, nil
}

// maxTensorElements bounds one tensor; the largest RSSMO tensor has 3.3 M elements.
const maxTensorElements = 1 << 30

// maxDims bounds a tensor's rank (PyTorch's own limit is 64).
const maxDims = 64

func intTuple(v any, what string) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("%s is %T, not a tuple", what, v)
	}
	if t.Len() > maxDims {
		return nil, fmt.Errorf("%s has %d dimensions (max %d)", what, t.Len(), maxDims)
	}
	out := make([]int, t.Len())
	for i := range out {
		d, ok := t.Get(i).(int)
		if !ok || d < 0 {
			return nil, fmt.Errorf("%s[%d] is %s, not a non-negative int", what, i, briefPickle(t.Get(i)))
		}
		out[i] = d
	}
	return out, nil
}

// checkedNumel multiplies the shape without overflow, refusing products above
// maxTensorElements (and any single dimension above it, even when another is 0).
func checkedNumel(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d > maxTensorElements {
			return 0, fmt.Errorf("size %s: dimension %d exceeds %d", ShapeString(shape), d, maxTensorElements)
		}
		n *= d // both ≤ 2^30 after the checks, so no overflow
		if n > maxTensorElements {
			return 0, fmt.Errorf("size %s has more than %d elements", ShapeString(shape), maxTensorElements)
		}
	}
	return n, nil
}

// checkExtent verifies that every element of the view lies inside the storage.
func checkExtent(st *storage, offset int, shape, stride []int, numel int) error {
	if numel == 0 {
		if offset > st.numel {
			return fmt.Errorf("%w: storage %q: offset %d past its %d elements", ErrInvalidCheckpoint, st.key, offset, st.numel)
		}
		return nil
	}
	last := offset // index of the view's last element; stays ≤ st.numel so it cannot overflow
	for i, d := range shape {
		if d <= 1 {
			continue
		}
		if stride[i] > (st.numel-last)/(d-1) {
			return fmt.Errorf("%w: storage %q: view offset %d size %s stride %s reaches past its %d elements",
				ErrInvalidCheckpoint, st.key, offset, ShapeString(shape), ShapeString(stride), st.numel)
		}
		last += (d - 1) * stride[i]
	}
	if last >= st.numel {
		return fmt.Errorf("%w: storage %q: view offset %d size %s stride %s reaches past its %d elements",
			ErrInvalidCheckpoint, st.key, offset, ShapeString(shape), ShapeString(stride), st.numel)
	}
	return nil
}

// checkedDict is collections.OrderedDict as the reader builds it: insertion-ordered, and it
// remembers a duplicate key instead of silently keeping the later value.
type checkedDict struct {
	keys  []any
	vals  []any
	index map[any]int
	dup   any
	isDup bool
}

type checkedDictClass struct{}

func (checkedDictClass) Call(args ...any) (any, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("%w: OrderedDict called with %d arguments", ErrInvalidCheckpoint, len(args))
	}
	return &checkedDict{index: make(map[any]int)}, nil
}

func (d *checkedDict) Set(k, v any) {
	if i, ok := d.index[k]; ok {
		if !d.isDup {
			d.dup, d.isDup = k, true
		}
		d.vals[i] = v
		return
	}
	d.index[k] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// PyDictSet accepts the BUILD of a state_dict's {'_metadata': ...}; it carries no weights.
func (d *checkedDict) PyDictSet(key, value any) error { return nil }

// briefPickle formats a pickled value for an error message: scalars by value, cut short, and
// containers by type only. Formatting a container with %v would call gopickle's String
// methods, which expand a DAG of shared tuples exponentially.
func briefPickle(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = fmt.Sprintf("%q", v)
	case int, float64, bool, nil:
		s = fmt.Sprintf("%v", v)
	default:
		return fmt.Sprintf("(a %T)", v)
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
