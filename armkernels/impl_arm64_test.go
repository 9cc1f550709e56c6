package armkernels

import "testing"

// TestDetectARM64: i8mm is offered only beside sdot, whose kernels it runs for one-row
// blocks; GODEBUG=cpu.asimddp=off clears dotprod and not i8mm, so that case is real.
func TestDetectARM64(t *testing.T) {
	for _, tc := range []struct {
		dotprod, i8mm bool
		want          []string
	}{
		{false, false, []string{"neon"}},
		{true, false, []string{"neon", "sdot"}},
		{true, true, []string{"neon", "sdot", "i8mm"}},
		{false, true, []string{"neon"}},
	} {
		var got []string
		for _, g := range detectARM64(tc.dotprod, tc.i8mm) {
			got = append(got, g.name)
		}
		if len(got) != len(tc.want) {
			t.Errorf("detectARM64(dotprod %v, i8mm %v) = %v, want %v", tc.dotprod, tc.i8mm, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("detectARM64(dotprod %v, i8mm %v) = %v, want %v", tc.dotprod, tc.i8mm, got, tc.want)
				break
			}
		}
	}
}
