package record

import (
	"errors"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// A record whose array header claims billions of values is refused, not allocated: a corrupt
// or hostile tick log must not take the reader's memory (the msgp:limit in records.go).
func TestRecordArrayLimit(t *testing.T) {
	b := msgp.AppendMapHeader(nil, 1)
	b = msgp.AppendString(b, "deter")
	b = append(b, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd) // array32 of 3.7e9 elements, then nothing
	var r TickRecord
	if _, err := r.UnmarshalMsg(b); !errors.Is(err, msgp.ErrLimitExceeded) {
		t.Fatalf("UnmarshalMsg of a 3.7e9-element array: %v, want ErrLimitExceeded", err)
	}
	var h Header
	hb := msgp.AppendMapHeader(nil, 1)
	hb = msgp.AppendString(hb, "meta")
	hb = append(hb, 0xdf, 0xdd, 0xdd, 0xdd, 0xdd) // map32 of 3.7e9 entries
	if _, err := h.UnmarshalMsg(hb); err == nil {
		t.Fatal("UnmarshalMsg of a 3.7e9-entry map succeeded")
	}
}
