package armkernels

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// tested records the GEMM paths and helper levels the tests exercised, so TestMain can
// fail under CI=1 when the CPU's best path was chosen but never checked.
var tested struct {
	sync.Mutex
	gemm, helpers map[string]bool
}

func markTested(gemm, helpers string) {
	tested.Lock()
	defer tested.Unlock()
	if tested.gemm == nil {
		tested.gemm, tested.helpers = map[string]bool{}, map[string]bool{}
	}
	if gemm != "" {
		tested.gemm[gemm] = true
	}
	if helpers != "" {
		tested.helpers[helpers] = true
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && os.Getenv("CI") == "1" {
		if err := checkBestTested(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkBestTested: under CI the best paths the CPU offers must have been selected and
// run through the differential tests (a filtered run, -test.run, checks nothing).
func checkBestTested() error {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return nil
	}
	for _, name := range []string{"test.fuzz", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return nil // fuzzing or listing (make fuzz-smoke) runs no differential tests
		}
	}
	want, err := expectedPaths()
	if err != nil {
		return err
	}
	tested.Lock()
	defer tested.Unlock()
	if !tested.gemm[want.gemm] || !tested.helpers[want.helpers] {
		return fmt.Errorf("CI: the CPU offers GEMM %s and helpers %s (%s) but the tests ran GEMM %v, helpers %v",
			want.gemm, want.helpers, want.why, keys(tested.gemm), keys(tested.helpers))
	}
	return nil
}

func keys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

// expected is what the kernel choice must be on this CPU, derived without x/sys/cpu.
type expected struct {
	gemm, helpers string
	why           string // the flags it was judged from
}

// expectedPaths judges the best GEMM and helper paths from the kernel's view of the CPU:
// /proc/cpuinfo's "flags" (x86) or "Features" (arm64) line; under qemu-user, whose
// /proc/cpuinfo is the host's, arm64 falls back to AT_HWCAP/AT_HWCAP2 in /proc/self/auxv.
// GODEBUG=cpu.X=off turns a flag off as x/sys/cpu does.
func expectedPaths() (expected, error) {
	flags, src, err := cpuFlags()
	if err != nil {
		return expected{}, err
	}
	for _, opt := range strings.Split(os.Getenv("GODEBUG"), ",") {
		name, ok := strings.CutPrefix(strings.TrimSuffix(opt, "=off"), "cpu.")
		if !ok || !strings.HasSuffix(opt, "=off") {
			continue
		}
		for f := range flags {
			if name == "all" || strings.ReplaceAll(f, "_", "") == name {
				delete(flags, f)
			}
		}
	}
	why := src + ": " + strings.Join(sortedKeys(flags), " ")
	switch runtime.GOARCH {
	case "amd64":
		e := expected{"ref", "go", why}
		if flags["avx2"] {
			e = expected{"avx2", "avx2", why}
			if flags["avx_vnni"] {
				e.gemm = "avxvnni"
			}
		}
		if flags["avx512f"] && flags["avx512bw"] {
			e.helpers = "avx512"
			if flags["avx512_vnni"] {
				e.gemm = "avx512vnni"
			}
		}
		return e, nil
	case "arm64":
		e := expected{"neon", "neon", why} // Advanced SIMD is baseline: NEON helpers always
		if flags["asimddp"] {
			e.gemm = "sdot"
		}
		if flags["i8mm"] && flags["asimddp"] { // i8mm runs SDOT for one-row blocks
			e.gemm = "i8mm"
		}
		return e, nil
	}
	return expected{"ref", "go", why}, nil
}

// relevantFlags are the features the kernel choice depends on.
var relevantFlags = []string{"avx2", "avx_vnni", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "asimd", "asimddp", "i8mm"}

func sortedKeys(m map[string]bool) []string {
	var s []string
	for _, f := range relevantFlags {
		if m[f] {
			s = append(s, f)
		}
	}
	return s
}

func cpuFlags() (map[string]bool, string, error) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return nil, "", fmt.Errorf("reading CPU flags: %w", err)
	}
	key := map[string]string{"amd64": "flags", "arm64": "Features"}[runtime.GOARCH]
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == key {
			flags := map[string]bool{}
			for _, f := range strings.Fields(val) {
				flags[f] = true
			}
			return flags, "/proc/cpuinfo", nil
		}
	}
	if runtime.GOARCH == "arm64" {
		return auxvFlags()
	}
	return map[string]bool{}, "/proc/cpuinfo (no " + key + " line)", nil
}

// auxvFlags reads the arm64 HWCAP bits the kernel (or qemu-user) hands the process.
func auxvFlags() (map[string]bool, string, error) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return nil, "", fmt.Errorf("reading CPU flags: no Features line in /proc/cpuinfo and %w", err)
	}
	const atHWCAP, atHWCAP2 = 16, 26
	var hw, hw2 uint64
	r := bytes.NewReader(b)
	for {
		var kv [2]uint64
		if binary.Read(r, binary.LittleEndian, &kv) != nil || kv[0] == 0 {
			break
		}
		switch kv[0] {
		case atHWCAP:
			hw = kv[1]
		case atHWCAP2:
			hw2 = kv[1]
		}
	}
	// Bit numbers from the Linux arm64 uapi hwcap.h.
	return map[string]bool{"asimd": hw&(1<<1) != 0, "asimddp": hw&(1<<20) != 0, "i8mm": hw2&(1<<13) != 0},
		"/proc/self/auxv", nil
}

// TestSelectedKernel fails when the implementation the CPU gets is not the best its flags
// allow (a broken detection in impl_*.go), on every machine. RSSMD_EXPECT_KERNEL (set by
// test-arm64.sh per qemu -cpu model) additionally pins the GEMM path expected.
func TestSelectedKernel(t *testing.T) {
	want, err := expectedPaths()
	if err != nil {
		t.Fatal(err)
	}
	impls := Implementations()
	best := impls[len(impls)-1]
	if best.GEMM != want.gemm || best.Helpers != want.helpers {
		t.Fatalf("best implementation %s, want GEMM %s and helpers %s from %s (available: %v)", best.Name, want.gemm, want.helpers, want.why, names(impls))
	}
	if os.Getenv(EnvKernel) == "" {
		if got := Default(); got != best {
			t.Fatalf("Default() = %s, want %s", got.Name, best.Name)
		}
	}
	if e := os.Getenv("RSSMD_EXPECT_KERNEL"); e != "" && e != best.GEMM && e != best.Name {
		t.Fatalf("best implementation %s, RSSMD_EXPECT_KERNEL wants %s", best.Name, e)
	}
	t.Logf("selected %s (%s)", best.Name, want.why)
}
