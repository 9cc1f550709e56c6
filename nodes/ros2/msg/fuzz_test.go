package msg

import (
	"testing"
)

// fuzzDecode decodes arbitrary bytes into a fresh m twice (fresh, then reused): no panic,
// and nothing decoded is larger than the input.
func fuzzDecode(f *testing.F, fresh func() Message, seeds ...Message) {
	for _, s := range seeds {
		f.Add(Encode(nil, s))
	}
	f.Add([]byte{0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := fresh()
		_ = Decode(b, m)
		_ = Decode(b, m)
		if n := sizeOf(m); n > 4*len(b)+64 {
			t.Fatalf("decoded %d bytes of values from %d bytes", n, len(b))
		}
	})
}

// sizeOf is a rough count of the bytes a decoded message holds.
func sizeOf(m Message) int {
	switch m := m.(type) {
	case *Image:
		return len(m.Data) + len(m.Encoding) + len(m.Header.FrameID)
	case *Float32MultiArray:
		return 4*len(m.Data) + 12*len(m.Layout.Dim)
	case *DiagnosticArray:
		n := 0
		for _, s := range m.Status {
			n += 16 + 8*len(s.Values)
		}
		return n
	case *ParticipantEntitiesInfo:
		n := 0
		for _, s := range m.NodeEntitiesInfoSeq {
			n += 8 + 16*(len(s.ReaderGidSeq)+len(s.WriterGidSeq))
		}
		return n
	case *ImagineResponse:
		n := 4 * (len(m.Deter) + len(m.StochMean) + len(m.StochStd))
		for _, im := range m.Images {
			n += 24 + len(im.Data)
		}
		return n
	}
	return 0
}

func FuzzImage(f *testing.F) {
	fuzzDecode(f, func() Message { return &Image{} }, exact[1].msg)
}

func FuzzCompressedImage(f *testing.F) {
	fuzzDecode(f, func() Message { return &CompressedImage{} }, &CompressedImage{Format: "jpeg", Data: []byte{1}})
}

func FuzzFloat32MultiArray(f *testing.F) {
	fuzzDecode(f, func() Message { return &Float32MultiArray{} }, exact[2].msg)
}

func FuzzDiagnosticArray(f *testing.F) {
	fuzzDecode(f, func() Message { return &DiagnosticArray{} }, exact[3].msg)
}

func FuzzParticipantEntitiesInfo(f *testing.F) {
	fuzzDecode(f, func() Message { return &ParticipantEntitiesInfo{} }, exact[7].msg)
}

func FuzzTrigger(f *testing.F) {
	fuzzDecode(f, func() Message { return &TriggerResponse{} }, exact[5].msg)
}

func FuzzImagineRequest(f *testing.F) {
	fuzzDecode(f, func() Message { return &ImagineRequest{} }, &ImagineRequest{Horizon: 2, Actions: []float32{1}})
}

func FuzzImagineResponse(f *testing.F) {
	fuzzDecode(f, func() Message { return &ImagineResponse{} }, sampleImagine())
}

func FuzzLatentState(f *testing.F) {
	fuzzDecode(f, func() Message { return &LatentState{} }, sampleLatent())
}

func FuzzQuality(f *testing.F) {
	fuzzDecode(f, func() Message { return &Quality{} }, &Quality{Tick: 1})
}

func FuzzReward(f *testing.F) {
	fuzzDecode(f, func() Message { return &Reward{} }, exact[6].msg)
}

func FuzzTriggerRequest(f *testing.F) {
	fuzzDecode(f, func() Message { return &TriggerRequest{} }, exact[4].msg)
}

func FuzzParticipantEntitiesInfoHumble(f *testing.F) {
	fuzzDecode(f, func() Message { return &ParticipantEntitiesInfo{GidSize: GidSizeHumble} }, humbleSample())
}
