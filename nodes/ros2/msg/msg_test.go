package msg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/cdr"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gid(b byte, n int) Gid {
	var g Gid
	for i := range n {
		g.Data[i] = b + byte(i)
	}
	return g
}

// Exact payloads, worked out by hand from the CDR rules (offsets in the comments count from
// the first byte after the header). cyclone_test.go checks the same values against what
// Cyclone DDS writes.
var exact = []struct {
	name string
	msg  Message
	want string
}{
	{"Header", &Header{Stamp: Time{1, 2}, FrameID: "cam"},
		"00010000 01000000 02000000 04000000 63616d00"},
	{"Image 1x2 rgb8", &Image{Header: Header{Stamp: Time{1, 2}, FrameID: "cam"}, Height: 1, Width: 2,
		Encoding: "rgb8", Step: 6, Data: []byte{1, 2, 3, 4, 5, 6}},
		"00010000 01000000 02000000 04000000 63616d00 01000000 02000000" +
			" 05000000 7267623800" + // encoding ends at 29
			" 00 0000" + // is_bigendian at 29, pad to 32
			" 06000000 06000000 010203040506"},
	{"Float32MultiArray", &Float32MultiArray{
		Layout: MultiArrayLayout{Dim: []MultiArrayDimension{{"x", 2, 2}}}, Data: []float32{1, 2}},
		"00010000 01000000 02000000 7800 0000" + // dim count, label "x", pad 10..11
			" 02000000 02000000 00000000" + // size, stride, data_offset
			" 02000000 0000803f 00000040"},
	{"DiagnosticArray", &DiagnosticArray{Status: []DiagnosticStatus{{Level: DiagnosticError, Name: "n",
		Values: []KeyValue{{"k", "v"}}}}},
		"00010000 00000000 00000000 01000000 00 000000" + // header, "" ends at 13, pad
			" 01000000 02 000000" + // status count at 16, level at 20, pad
			" 02000000 6e00 0000" + // name at 24
			" 01000000 00 000000" + // message "" at 32
			" 01000000 00 000000" + // hardware_id "" at 40
			" 01000000 02000000 6b00 0000 02000000 7600"},
	{"Trigger_Request", &TriggerRequest{}, "00010000 00"},
	{"Trigger_Response", &TriggerResponse{Success: true, Message: "ok"}, "00010000 01 000000 03000000 6f6b00"},
	{"Reward", &Reward{Header: Header{Stamp: Time{3, 4}, FrameID: ""}, Tick: 9, Reward: 1, Elbo: -2, IsFirst: true},
		"00010000 03000000 04000000 01000000 00 000000" + // header, pad to 16
			" 0900000000000000 0000803f 000000c0 01"},
	{"ParticipantEntitiesInfo Iron", &ParticipantEntitiesInfo{Gid: gid(1, 16), NodeEntitiesInfoSeq: []NodeEntitiesInfo{
		{NodeNamespace: "/", NodeName: "n", WriterGidSeq: []Gid{gid(0x20, 16)}}}},
		"00010000 0102030405060708090a0b0c0d0e0f10 01000000" +
			" 02000000 2f00 0000 02000000 6e00 0000" + // "/" at 20, "n" at 28
			" 00000000 01000000 202122232425262728292a2b2c2d2e2f"},
	{"ParticipantEntitiesInfo Humble", &ParticipantEntitiesInfo{GidSize: GidSizeHumble, Gid: gid(1, 24)},
		"00010000 0102030405060708090a0b0c0d0e0f101112131415161718 00000000"},
}

func TestExactBytes(t *testing.T) {
	for _, tc := range exact {
		t.Run(tc.name, func(t *testing.T) {
			var e cdr.Encoder
			e.Reset(nil)
			tc.msg.Marshal(&e)
			got := e.Bytes()
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Fatalf("\ngot  % x\nwant % x", got, want)
			}
			back := newLike(tc.msg)
			if err := Decode(got, back); err != nil {
				t.Fatal(err)
			}
			normalize(back)
			if !reflect.DeepEqual(back, tc.msg) {
				t.Fatalf("decoded %+v, want %+v", back, tc.msg)
			}
		})
	}
}

// newLike returns a zero message of m's type, with m's Gid size.
func newLike(m Message) Message {
	back := reflect.New(reflect.TypeOf(m).Elem()).Interface().(Message)
	if p, ok := back.(*ParticipantEntitiesInfo); ok {
		p.GidSize = m.(*ParticipantEntitiesInfo).GidSize
	}
	return back
}

// normalize clears what decoding sets but encoding ignores (nested GidSize) and turns
// empty slices into nil, for DeepEqual.
func normalize(m any) {
	if p, ok := m.(*ParticipantEntitiesInfo); ok {
		for i := range p.NodeEntitiesInfoSeq {
			p.NodeEntitiesInfoSeq[i].GidSize = 0
		}
	}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			walk(v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			if v.Len() == 0 && !v.IsNil() && v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(m))
}

func sampleLatent() *LatentState {
	return &LatentState{Header: Header{Stamp: TimeOf(time.Unix(1700000000, 5)), FrameID: "camera"},
		Tick: 10, Seq: 11, Deter: []float32{1, 2, 3}, StochMean: []float32{4}, StochStd: []float32{5},
		PriorMean: []float32{6, 7}, PriorStd: []float32{8, 9}, Kl: 0.5, Elbo: float32(math.Inf(-1)),
		IsFirst: true, StaleAction: true}
}

func sampleImagine() *ImagineResponse {
	return &ImagineResponse{Header: Header{FrameID: "camera"}, DeterDim: 2, StochDim: 1,
		Deter: []float32{1, 2, 3, 4}, StochMean: []float32{5, 6},
		Images: []Image{{Height: 1, Width: 1, Encoding: "rgb8", Step: 3, Data: []byte{1, 2, 3}},
			{Encoding: "mono8"}},
		Success: true, Message: "done"}
}

func TestRoundTrip(t *testing.T) {
	msgs := []Message{
		sampleLatent(),
		&Quality{Header: Header{FrameID: "f"}, Tick: 1, Decoded: true, Mse: 0.1, Psnr: 30, Kl: 1, Elbo: -3, Zscore: 2, ZscoreKl: -1, Anomaly: true},
		&ImagineRequest{Horizon: 3, Actions: []float32{1, 2, 3}, Images: true},
		sampleImagine(),
		&CompressedImage{Header: Header{FrameID: "c"}, Format: "jpeg", Data: []byte{0xff, 0xd8}},
		&NodeEntitiesInfo{NodeNamespace: "/ns", NodeName: "rssmd", ReaderGidSeq: []Gid{gid(1, 16), gid(2, 16)}},
		&DiagnosticStatus{Level: DiagnosticWarn, Name: "a", Message: "b", HardwareID: "c"},
		&KeyValue{"k", "v"}, &MultiArrayDimension{"l", 1, 2}, &Time{-1, 999999999},
	}
	for _, m := range msgs {
		t.Run(m.Type().ROSName, func(t *testing.T) {
			payload := Encode(nil, m)
			back := reflect.New(reflect.TypeOf(m).Elem()).Interface().(Message)
			if err := Decode(payload, back); err != nil {
				t.Fatal(err)
			}
			normalize(back)
			if !reflect.DeepEqual(back, m) {
				t.Fatalf("decoded %+v\nwant %+v", back, m)
			}
			// Every strict prefix of the data (without Finish's padding) is an error wrapping
			// ErrTruncated.
			for n := 0; n < len(payload)-int(payload[3]&3); n++ {
				err := Decode(payload[:n], back)
				if !errors.Is(err, cdr.ErrTruncated) {
					t.Fatalf("prefix %d of %d: err = %v", n, len(payload), err)
				}
				if !strings.Contains(err.Error(), m.Type().ROSName) {
					t.Fatalf("error %q does not name the type", err)
				}
			}
		})
	}
}

func TestTimeOf(t *testing.T) {
	tm := time.Unix(1700000000, 123456789)
	rt := TimeOf(tm)
	if rt != (Time{1700000000, 123456789}) || !rt.Time().Equal(tm) {
		t.Fatalf("%+v %v", rt, rt.Time())
	}
	if TimeOf(time.Time{}) != (Time{}) {
		t.Fatal("zero time is not ROS time 0")
	}
}

func TestGidSize(t *testing.T) {
	p := &ParticipantEntitiesInfo{GidSize: 20}
	err := Decode(unhex(t, "00010000 00000000"), p)
	if err == nil || !strings.Contains(err.Error(), "Gid size 20") {
		t.Fatalf("err = %v", err)
	}
	// A Humble sample read as Iron fails (or reads garbage) — so the size is a setting; here
	// 24+4 bytes cannot hold 16 bytes + a node count + a node.
	humble := Encode(nil, &ParticipantEntitiesInfo{GidSize: GidSizeHumble, Gid: gid(1, 24),
		NodeEntitiesInfoSeq: []NodeEntitiesInfo{{NodeName: "n"}}})
	var iron ParticipantEntitiesInfo
	if err := Decode(humble, &iron); err == nil && reflect.DeepEqual(iron.Gid, gid(1, 24)) {
		t.Fatal("Humble GID read whole with the Iron size")
	}
}

func TestUnmarshalReusesStorage(t *testing.T) {
	img := &Image{Header: Header{FrameID: "camera"}, Height: 64, Width: 64, Encoding: "rgb8", Step: 192,
		Data: make([]byte, 64*64*3)}
	arr := &Float32MultiArray{Layout: MultiArrayLayout{Dim: []MultiArrayDimension{{"deter230", 230, 230}}},
		Data: make([]float32, 230)}
	diag := &DiagnosticArray{Status: []DiagnosticStatus{{Name: "rssmd", Values: []KeyValue{{"a", "1"}, {"b", "2"}}}}}
	for _, tc := range []struct{ in, out Message }{
		{img, &Image{}}, {arr, &Float32MultiArray{}}, {diag, &DiagnosticArray{}},
		{sampleLatent(), &LatentState{}}, {sampleImagine(), &ImagineResponse{}},
	} {
		payload := Encode(nil, tc.in)
		var d cdr.Decoder
		allocs := testing.AllocsPerRun(50, func() {
			d.Reset(payload)
			if err := tc.out.Unmarshal(&d); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: warm Unmarshal allocates %v times", tc.in.Type().ROSName, allocs)
		}
	}
}

func TestMarshalNoAlloc(t *testing.T) {
	img := &Image{Header: Header{FrameID: "camera"}, Height: 64, Width: 64, Encoding: "rgb8", Step: 192,
		Data: make([]byte, 64*64*3)}
	buf := make([]byte, 0, 16<<10)
	var e cdr.Encoder
	if a := testing.AllocsPerRun(50, func() { e.Reset(buf[:0]); img.Marshal(&e) }); a != 0 {
		t.Fatalf("Marshal allocates %v times", a)
	}
}

func BenchmarkMarshal(b *testing.B) {
	arr := &Float32MultiArray{Layout: MultiArrayLayout{Dim: []MultiArrayDimension{{"deter200_stoch30", 230, 230}}},
		Data: make([]float32, 230)}
	img := &Image{Header: Header{FrameID: "camera"}, Height: 64, Width: 64, Encoding: "rgb8", Step: 192,
		Data: make([]byte, 64*64*3)}
	for _, m := range []Message{arr, img} {
		b.Run(m.Type().ROSName, func(b *testing.B) {
			buf := make([]byte, 0, 16<<10)
			var e cdr.Encoder
			b.ReportAllocs()
			for b.Loop() {
				e.Reset(buf[:0])
				m.Marshal(&e)
			}
			b.SetBytes(int64(len(e.Bytes())))
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	img := &Image{Header: Header{FrameID: "camera"}, Height: 64, Width: 64, Encoding: "rgb8", Step: 192,
		Data: make([]byte, 64*64*3)}
	payload := Encode(nil, img)
	var out Image
	var d cdr.Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		d.Reset(payload)
		if err := out.Unmarshal(&d); err != nil {
			b.Fatal(err)
		}
	}
}
