package peertest

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The peer sources travel inside the test binary, so a test builds them wherever it runs.
//
//go:embed idl/*.idl peers/*.h peers/*.c peers/*.cpp
var sources embed.FS

// Peers holds the paths of the two built peer programs.
type Peers struct {
	Cyclone string // cyclone-peer (Cyclone DDS, C)
	FastDDS string // fastdds-peer (Fast DDS, C++)
}

// Impls lists both peers as (name, path) pairs, for tables over implementations.
func (p Peers) Impls() []Impl {
	return []Impl{{"cyclone", p.Cyclone}, {"fastdds", p.FastDDS}}
}

// Impl names one peer program.
type Impl struct {
	Name string // "cyclone" or "fastdds"
	Path string
}

// InstallHint is what a developer installs for Build (Debian 12 package names).
const InstallHint = "apt-get install cyclonedds-dev cyclonedds-tools libfastrtps-dev fastddsgen default-jre-headless g++ iproute2 nftables"

// ErrToolsMissing is returned (wrapped) by Build when a compiler, code generator or DDS
// library is not installed.
var ErrToolsMissing = errors.New("peertest: DDS build tools missing")

var (
	buildMu    sync.Mutex
	buildDone  bool
	buildPeers Peers
	buildErr   error
)

// InCI reports whether CI=1 (or true) is set: then unavailable components fail tests instead of
// skipping them.
func InCI() bool {
	v := os.Getenv("CI")
	return v == "1" || strings.EqualFold(v, "true")
}

// Unavailable skips t, or fails it under CI, saying why.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI=1: required)", msg)
	}
	t.Skip(msg)
}

// Build compiles cyclone-peer and fastdds-peer once per test binary into a cache directory
// keyed by a hash of their sources and of the tool versions, so a second run or another test
// binary reuses them. Missing tools skip t (fail under CI=1) saying what to install; a failed
// compile fails t with the compiler's output. The error is the same failure, for callers that
// want it.
func Build(t testing.TB) (Peers, error) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if !buildDone {
		buildPeers, buildErr = build()
		buildDone = true
	}
	if buildErr != nil {
		if errors.Is(buildErr, ErrToolsMissing) {
			Unavailable(t, "%v; install: %s", buildErr, InstallHint)
		} else {
			t.Fatal(buildErr)
		}
	}
	return buildPeers, buildErr
}

func build() (Peers, error) {
	var missing []string
	for _, tool := range []string{"idlc", "fastddsgen", "java", "cc", "c++"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	for _, h := range []string{"/usr/include/dds/dds.h", "/usr/include/fastdds/dds/domain/DomainParticipant.hpp", "/usr/include/fastcdr/Cdr.h"} {
		if _, err := os.Stat(h); err != nil {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return Peers{}, fmt.Errorf("%w: %s", ErrToolsMissing, strings.Join(missing, ", "))
	}
	key, err := sourceKey()
	if err != nil {
		return Peers{}, err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "rssmd-peertest", key)
	p := Peers{Cyclone: filepath.Join(dir, "cyclone-peer"), FastDDS: filepath.Join(dir, "fastdds-peer")}
	if fileExists(p.Cyclone) && fileExists(p.FastDDS) {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Peers{}, fmt.Errorf("peertest: cache dir: %w", err)
	}
	// Build beside the cache entry and rename it into place: concurrent test binaries either
	// see a complete entry or none.
	work, err := os.MkdirTemp(filepath.Dir(dir), key+".tmp-")
	if err != nil {
		return Peers{}, fmt.Errorf("peertest: %w", err)
	}
	defer os.RemoveAll(work)
	if err := compile(work); err != nil {
		return Peers{}, err
	}
	if err := os.Rename(work, dir); err != nil && !(fileExists(p.Cyclone) && fileExists(p.FastDDS)) {
		return Peers{}, fmt.Errorf("peertest: install build: %w", err)
	}
	return p, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sourceKey hashes the embedded sources and the versions of the tools and libraries that
// turn them into programs.
func sourceKey() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(sources, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := sources.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("peertest: hash sources: %w", err)
	}
	for _, f := range []string{"/usr/bin/idlc", "/usr/bin/fastddsgen", "/usr/include/dds/version.h", "/usr/include/fastrtps/config.h"} {
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", f, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// compile generates the type code and builds both programs in dir.
func compile(dir string) error {
	src := filepath.Join(dir, "src")
	if err := os.CopyFS(src, sources); err != nil {
		return fmt.Errorf("peertest: unpack sources: %w", err)
	}
	cyc := filepath.Join(dir, "gen-cyclone")
	fdd := filepath.Join(dir, "gen-fastdds")
	for _, d := range []string{cyc, fdd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("peertest: %w", err)
		}
	}
	// fastddsgen compares identifiers case-insensitively and rejects the member gid_ of
	// ParticipantEntitiesInfo_ next to the type Gid_; member names never reach the wire, so its
	// copy of the IDL calls the member gid.
	idl, err := os.ReadFile(filepath.Join(src, "idl", "ros2.idl"))
	if err != nil {
		return fmt.Errorf("peertest: %w", err)
	}
	fixed := bytes.Replace(idl, []byte("Gid_ gid_;"), []byte("Gid_ gid;"), 1)
	if bytes.Equal(fixed, idl) {
		return errors.New("peertest: idl/ros2.idl no longer has the member \"Gid_ gid_;\" the fastddsgen rename expects")
	}
	if err := os.WriteFile(filepath.Join(fdd, "ros2.idl"), fixed, 0o644); err != nil {
		return fmt.Errorf("peertest: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		// idlc takes one file per call.
		errs[0] = run(cyc, "idlc", "-l", "c", filepath.Join(src, "idl", "ros2.idl"))
		if errs[0] == nil {
			errs[0] = run(cyc, "idlc", "-l", "c", filepath.Join(src, "idl", "srv_cyclone.idl"))
		}
		if errs[0] == nil {
			errs[0] = run(cyc, "cc", "-O2", "-std=gnu11", "-Wall", "-I.", "-I"+filepath.Join(src, "peers"),
				"-o", filepath.Join(dir, "cyclone-peer"), filepath.Join(src, "peers", "cyclone_peer.c"),
				"ros2.c", "srv_cyclone.c", "-lddsc", "-lpthread", "-lm")
		}
	}()
	go func() {
		defer wg.Done()
		errs[1] = run(fdd, "fastddsgen", "-replace", "-d", ".", "ros2.idl", filepath.Join(src, "idl", "srv_fastdds.idl"))
		if errs[1] == nil {
			errs[1] = run(fdd, "c++", "-O1", "-std=c++14", "-Wall", "-I.", "-I"+filepath.Join(src, "peers"),
				"-o", filepath.Join(dir, "fastdds-peer"), filepath.Join(src, "peers", "fastdds_peer.cpp"),
				"ros2.cxx", "ros2PubSubTypes.cxx", "srv_fastdds.cxx", "srv_fastddsPubSubTypes.cxx",
				"-lfastrtps", "-lfastcdr", "-lpthread")
		}
	}()
	wg.Wait()
	return errors.Join(errs...)
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("peertest: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	// fastddsgen exits 0 after some parse errors; an empty output dir is the tell.
	if name == "fastddsgen" && !fileExists(filepath.Join(dir, "ros2PubSubTypes.cxx")) {
		return fmt.Errorf("peertest: fastddsgen generated nothing:\n%s", out)
	}
	return nil
}
