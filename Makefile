# rssmd — what a developer does. `make help` lists the targets; CI calls the same ones.
GO       ?= go
BIN      ?= bin
PY       ?= /usr/bin/python3
PREFIX   ?= /usr/local
SHARED   ?= ../shared
DEMO_DURATION ?= 60s
DEMO_ADDR     ?= 127.0.0.1:8080
# A small committed model and sequence for the offline filter example and the soak run.
DEMO_MODEL ?= model/testdata/golden/cnnha-actions
DEMO_SEQ   ?= model/testdata/golden/cnnha-actions/seq.npz

.PHONY: help build test test-unit test-peers test-race test-arm64 generate check-generate test-v4l2 vet bench bench-peers fuzz build-arm64 \
        goldens demo filter-example install soak clean dist test-arm64-system

# help expands the $(VARIABLES) a target's text names and sizes the name column to the
# longest target (POSIX awk: no printf %*s).
HELP_VARS = GO BIN PY PREFIX SHARED DEMO_DURATION DEMO_ADDR DEMO_MODEL DEMO_SEQ
help: ## list the targets
	@$(foreach v,$(HELP_VARS),$(v)='$($(v))') awk -F':.*## ' ' \
	  /^[a-zA-Z0-9_-]+:.*## / { n++; name[n] = $$1; text[n] = $$2; if (length($$1) > w) w = length($$1) } \
	  END { for (i = 1; i <= n; i++) { t = text[i]; out = ""; \
	    while (match(t, /\$$\([A-Za-z_][A-Za-z0-9_]*\)/)) { v = substr(t, RSTART + 2, RLENGTH - 3); \
	      out = out substr(t, 1, RSTART - 1) ((v in ENVIRON) ? ENVIRON[v] : substr(t, RSTART, RLENGTH)); t = substr(t, RSTART + RLENGTH) } \
	    printf("  %-" w "s  %s\n", name[i], out t) } }' $(MAKEFILE_LIST)

build: ## build bin/rssmd for this machine
	$(GO) build -o $(BIN)/rssmd ./nodes/rssmd

demo: build ## the main job: simulated camera → int8 filter → monitor, live dashboard on $(DEMO_ADDR)
	$(BIN)/rssmd demo --duration $(DEMO_DURATION) --addr $(DEMO_ADDR) --headless

filter-example: build ## offline: inspect a committed model and filter a committed sequence
	$(BIN)/rssmd inspect $(DEMO_MODEL)
	$(BIN)/rssmd filter --model $(DEMO_MODEL) --in $(DEMO_SEQ) --out $(BIN)/filter-out.npz --rollout-start 8 --rollout-horizon 4

vet: check-generate ## go vet, gofmt check, and the arm64/no-cgo cross builds
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	CGO_ENABLED=0 GOARCH=arm64 $(GO) build ./...
	CGO_ENABLED=0 GOARCH=amd64 $(GO) build ./...
	$(MAKE) deadcode

# x/tools' deadcode, pinned; findings we accept are listed, with why, in tools/deadcode.allow.
DEADCODE ?= golang.org/x/tools/cmd/deadcode@v0.53.0
.PHONY: deadcode
deadcode: ## fail on unreachable functions (deadcode -test ./...) not in tools/deadcode.allow
	@out=$$($(GO) run $(DEADCODE) -test ./... 2>&1) || { printf '%s\n' "$$out"; exit 1; }; \
	new=$$(printf '%s\n' "$$out" | awk 'NR == FNR { if ($$0 !~ /^(#|$$)/) ok[$$1 " " $$2] = 1; next } \
	  $$0 != "" { split($$1, f, ":"); if (!((f[1] " " $$NF) in ok)) print }' tools/deadcode.allow -); \
	test -z "$$new" || { printf 'unreachable (remove it, use it, or allow-list it in tools/deadcode.allow):\n%s\n' "$$new"; exit 1; }

test-unit: ## unit and golden tests (uses $(SHARED)/testdata when present; CI=1 makes it required)
	$(GO) test -count=1 ./...

test-peers: ## the ROS 2 test harness's own check: Cyclone DDS and Fast DDS peers with each other (root; not in CI)
	RSSMD_PEER_SELFTEST=1 $(GO) test -count=1 -run 'TestPeers' -v ./nodes/ros2/peertest

test-race: ## race detector on the concurrent packages (-short: the slow numeric tests run in test-unit)
	$(GO) test -count=1 -race -short $$($(GO) list ./runtime/... ./nodes/... ./systemd/...)

generate: ## regenerate the armkernels block kernels (asm + Go dispatch) from armkernels/_asm/gen.go
	cd armkernels && $(GO) run ./_asm/gen.go

check-generate: ## fail if the committed armkernels generated code differs from what _asm/gen.go writes
	sh armkernels/_asm/check-generate.sh

test-arm64: ## armkernels (GEMMs + NEON helpers) under qemu-user for cortex-a57, cortex-a76 and max (fails if the wrong kernel is picked)
	sh armkernels/test-arm64.sh

test-v4l2: ## real V4L2 capture from the vivid driver in a qemu-booted Debian kernel
	sh runtime/capture/v4l2test/run.sh

test: vet test-unit test-race fuzz-smoke test-arm64 test-v4l2 test-arm64-system ## everything CI runs

bench: ## benchmarks (model load/step, kernels, preprocessing)
	$(GO) test -run XXX -bench . -benchtime 20x ./model/ ./armkernels/ ./runtime/...

bench-peers: ## rssmd int8 vs ONNX Runtime fp32/int8 on every model variant, one table (needs python3-torch, python3-onnx, npm; not in CI)
	tools/peers/run.sh

fuzz: ## run every fuzz target for a short while each
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$p 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run XXX -fuzz "^$$f$$" -fuzztime 20s -fuzzminimizetime 5s $$p || exit 1; \
	  done; done

FUZZ_SMOKE_TIME ?= 3s
.PHONY: fuzz-smoke
fuzz-smoke: ## every fuzz target for ~3 s on its seeds and testdata/fuzz corpus (part of make test)
	GO=$(GO) FUZZ_SMOKE_TIME=$(FUZZ_SMOKE_TIME) sh tools/fuzz-smoke.sh

build-arm64: ## static arm64 rssmd for the robot: bin/rssmd-arm64 (cgo, V4L2; gcc-aarch64-linux-gnu) and bin/rssmd-arm64-nocgo
	CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=$${CC_ARM64:-aarch64-linux-gnu-gcc} $(GO) build -tags osusergo,netgo \
	  -ldflags '-extldflags -static' -o $(BIN)/rssmd-arm64 ./nodes/rssmd
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -o $(BIN)/rssmd-arm64-nocgo ./nodes/rssmd

dist: build-arm64 ## release archives for linux/arm64 and linux/amd64 (binary, units, messages, README, SHA256SUMS) in dist/
	CGO_ENABLED=1 GOOS=linux GOARCH=amd64 $(GO) build -tags osusergo,netgo -ldflags '-extldflags -static' \
	  -o $(BIN)/rssmd-amd64 ./nodes/rssmd
	sh tools/arm64vm/dist.sh dist $(BIN)/rssmd-arm64 $(BIN)/rssmd-amd64

test-arm64-system: build build-arm64 ## rssmd run (vivid camera) + filter on Debian's arm64 kernel in qemu-system-aarch64, per CPU kernel path
	sh tools/arm64vm/run.sh $(BIN)/rssmd $(BIN)/rssmd-arm64

goldens: ## regenerate the PyTorch reference goldens (needs Debian python3-torch)
	$(PY) tools/reference/make_goldens.py
	$(PY) tools/reference/check_shared.py

install: build ## install the binary, the systemd units and the example environment file
	install -D -m 0755 $(BIN)/rssmd $(DESTDIR)$(PREFIX)/bin/rssmd
	install -D -m 0644 systemd/rssmd.service $(DESTDIR)/etc/systemd/system/rssmd.service
	install -D -m 0644 systemd/roscore.service $(DESTDIR)/etc/systemd/system/roscore.service
	test -e $(DESTDIR)/etc/default/rssmd || install -D -m 0644 systemd/rssmd.env $(DESTDIR)/etc/default/rssmd
	install -D -m 0644 systemd/rssmd-ros2.service $(DESTDIR)/etc/systemd/system/rssmd-ros2.service
	test -e $(DESTDIR)/etc/default/rssmd-ros2 || install -D -m 0644 systemd/rssmd-ros2.env $(DESTDIR)/etc/default/rssmd-ros2

soak: build ## 20 min at 50 Hz on replay (not in CI): watch heap/RSS and p99 on :9108/metrics
	$(BIN)/rssmd run --model $(DEMO_MODEL) --source replay:$(DEMO_SEQ) --loop --rate 50 --duration 20m \
	  --metrics-addr 127.0.0.1:9108 --decode-every 5

clean:
	rm -rf $(BIN)
