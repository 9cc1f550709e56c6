package bundle

import "testing"

func TestKindPhrase(t *testing.T) {
	for kind, want := range map[string]string{
		KindInt8:    "an int8 model",
		KindFloat32: "a float32 model",
		"fp16\n":    `a model of unknown kind "fp16\n"`,
	} {
		if got := KindPhrase(kind); got != want {
			t.Errorf("KindPhrase(%q) = %q, want %q", kind, got, want)
		}
	}
}
