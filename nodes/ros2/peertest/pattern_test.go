package peertest

import "testing"

// The peers' C code and Pattern must agree; these values were printed by cyclone-peer and
// fastdds-peer for 640x480 rgb8 samples 0 and 1.
func TestPatternMatchesPeers(t *testing.T) {
	for _, c := range []struct {
		k    int64
		want string
	}{{0, "f7c7c93dfbc80325"}, {1, "de94bc35154fe025"}} {
		if got := FNV1a(Pattern(640, 480, 3, c.k)); got != c.want {
			t.Errorf("sample %d: fnv1a %s, peers sent %s", c.k, got, c.want)
		}
	}
	if got := FNV1a(nil); got != "cbf29ce484222325" {
		t.Errorf("fnv1a of nothing = %s, want the offset basis cbf29ce484222325", got)
	}
}
