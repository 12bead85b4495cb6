# wxmedia — one entry point for building, running and testing. See README.md.
SHELL := bash
.DEFAULT_GOAL := help

CARGO_HOME ?= $(HOME)/.cargo
# A network-free build: point worker-build and wasm-pack at locally installed tools
# (../shared/toolchain.md). Without these they would try to download their own.
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_HOME)/bin:$(PATH)
export WASM_BINDGEN_BIN := $(CARGO_HOME)/bin/wasm-bindgen
export ESBUILD_BIN := $(CURDIR)/node_modules/@esbuild/linux-x64/bin/esbuild
export WASM_OPT_BIN := $(CURDIR)/node_modules/.bin/wasm-opt
export CLOUDFLARE_CF_FETCH_ENABLED := false
export WRANGLER_SEND_METRICS := false

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

# The voice codecs' wasm (codecs/wasm/: the npm package's voice_bg.wasm, and the console's) with
# wasm SIMD, which every runtime the package supports has (Node 20, Deno 2, Bun 1, workerd,
# current browsers): AMR-NB encoding is the codecs' hot loop (bench/voice.mjs times it). Built in a target directory
# of its own, so its RUSTFLAGS do not rebuild the other wasm builds' dependencies.
VOICE_WASM_BUILD := CARGO_TARGET_DIR=$(CURDIR)/target/voice-simd RUSTFLAGS="-C target-feature=+simd128" wasm-pack --log-level warn build codecs/wasm --profile voice --no-opt --target web

.PHONY: help setup dev test lint fmt emulator worker www pkg package bench clean

help:
	@echo "make dev      run the Worker locally (127.0.0.1:8787) with the emulator as its upstream"
	@echo "make test     run every test suite; ends with 'N passed, N failed'"
	@echo "make package  write the npm tarball to dist/wxmedia-$(VERSION).tgz"
	@echo "make worker   build worker/build/index.js (and the console's wasm, make www)"
	@echo "make emulator build target/debug/wxmedia-emulator"
	@echo "make lint     rustfmt --check and clippy -D warnings (native and wasm32)"
	@echo "make bench    run the benchmarks in bench/"

setup:
	@scripts/setup

emulator: setup
	cargo build -p wxmedia-emulator

worker: setup www
	cd worker && worker-build --release

# The console's copy of the core crate (www/pkg/): wasm-pack's browser build, so the page checks
# files with the same rules as the Worker. The Worker serves it with the rest of www/. Built in
# target/ and moved into place, so a running `wrangler dev` never serves a half-built copy;
# wasm-opt runs separately because wasm-pack's own pass lists the directory while writing to it
# and sometimes picks up its own temporary file. Beside it the voice codecs (codecs/wasm/, the
# npm package's voice_bg.wasm, built the same way as `make pkg` builds it), which the page loads
# only when it first records a voice reply: the core wasm does not carry the encoders.
www: setup
	rm -rf target/www-pkg target/www-voice-pkg
	wasm-pack --log-level warn build --release --no-opt --target web --out-dir target/www-pkg --out-name wxmedia
	wasm-opt -Oz target/www-pkg/wxmedia_bg.wasm -o target/www-pkg/wxmedia_bg.opt.wasm
	mv target/www-pkg/wxmedia_bg.opt.wasm target/www-pkg/wxmedia_bg.wasm
	$(VOICE_WASM_BUILD) --out-dir ../../target/www-voice-pkg --out-name voice
	wasm-opt -O3 --enable-simd target/www-voice-pkg/voice_bg.wasm -o target/www-pkg/voice_bg.wasm
	mv target/www-voice-pkg/voice.js target/www-pkg/
	mkdir -p www/pkg
	mv -f target/www-pkg/wxmedia_bg.wasm target/www-pkg/wxmedia.js target/www-pkg/voice_bg.wasm target/www-pkg/voice.js www/pkg/

# The npm package in pkg/: wasm-pack's web build of the core crate's JS API (`js` feature: one
# wasm file and its ES module glue), with the per-runtime entry points, the glue as CommonJS for
# Node, the Node helpers, CLI and README from npm/ (see npm/assemble.mjs). The voice decoders
# (codecs/wasm/) are a second wasm file, voice_bg.wasm, which the entries load on first use; built for
# speed (Cargo's `voice` profile, wasm-opt -O3: ~2x faster than -Oz for ~10 KB more gzipped).
pkg: setup
	wasm-pack build --release --target web --out-dir pkg --out-name wxmedia
	$(VOICE_WASM_BUILD) --out-dir ../../target/voice-pkg --out-name voice
	wasm-opt -O3 --enable-simd target/voice-pkg/voice_bg.wasm -o pkg/voice_bg.wasm
	cp target/voice-pkg/voice.js pkg/
	wasm-pack --log-level warn build push --release --target web --out-dir ../target/push-pkg --out-name push -- --features js
	cp target/push-pkg/push_bg.wasm target/push-pkg/push.js pkg/
	node npm/assemble.mjs pkg $(VERSION)

package: pkg
	mkdir -p dist
	rm -f dist/wxmedia-$(VERSION).tgz
	npm pack ./pkg --pack-destination dist --loglevel=warn >/dev/null
	@test -f dist/wxmedia-$(VERSION).tgz || { echo "npm pack did not write dist/wxmedia-$(VERSION).tgz" >&2; exit 1; }
	@echo "wrote dist/wxmedia-$(VERSION).tgz"

dev: emulator worker
	@scripts/dev

test: setup
	@scripts/test-all

lint: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p wxmedia -p wxmedia-worker -p wxmedia-voice -p wxmedia-push --features wxmedia-push/js --target wasm32-unknown-unknown --all-targets -- -D warnings

fmt:
	cargo fmt --all

bench: setup
	@scripts/bench

clean:
	cargo clean
	rm -rf pkg dist worker/build www/pkg
