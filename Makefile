# MailMover — see README.md. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     := bin
FYNE    := $(shell $(GO) env GOPATH)/bin/fyne
FYNE_VERSION := v1.7.4

.PHONY: all build run demo test setup provider testenv-up testenv-down bench soak package windows clean

all: build

## build: the mailmover binary in bin/ (installs Fyne's C headers first when missing)
build:
	@scripts/setup.sh --build
	$(GO) build -o $(BIN)/mailmover .

## run: build and open the window
run: build
	./$(BIN)/mailmover

## demo: build and open the window on the built-in demo servers
demo: build
	./$(BIN)/mailmover demo

## setup: install what the tests need (apt, npm, go tools); idempotent
setup:
	scripts/setup.sh

## provider: the test OpenID provider
provider:
	$(GO) build -o $(BIN)/mm-testprovider ./cmd/mm-testprovider

## test: setup, then inside a private D-Bus session: keyring, Xvfb, Dovecot + provider,
## gofmt, go vet, staticcheck, go test -race; the servers are always stopped.
## One run at a time per working tree (flock). PKGS=./internal/... limits vet/staticcheck/test.
## TESTFLAGS=-v (or -run X) goes to go test.
PKGS ?= ./...
TESTFLAGS ?=
test: export MM_TEST_PKGS = $(PKGS)
test: export MM_TEST_FLAGS = $(TESTFLAGS)
test: setup provider
	@mkdir -p $(BIN)
	MM_TESTENV_LOCKED=1 flock -o -w 3600 $(BIN)/.test.lock dbus-run-session -- scripts/test-in-session.sh

## testenv-up / testenv-down: the real servers by hand (then: . testenv/run/env.sh)
testenv-up: provider
	scripts/testenv-up.sh

testenv-down:
	scripts/testenv-down.sh

## bench: MailMover side by side with mbsync, offlineimap, fetchmail and an upper bound on
## a seeded private Dovecot; prints the table and writes docs/benchmarks.md. Also the Go
## micro-benchmarks (go test -bench). Not part of `make test`.
bench: build provider
	bash scripts/bench.sh
	$(GO) test -run NONE -bench . -benchtime 1x ./imapsrc/ ./mover/
	scripts/testenv-up.sh && . testenv/run/env.sh && $(GO) test -run NONE -bench Fleet -benchtime 1x ./fleet/; \
	  rc=$$?; scripts/testenv-down.sh; exit $$rc

## soak: the long fault suite (cut connections, kill -9, server restarts, full disk, an access
## token ended early, a revoked refresh token; an XOAUTH2 profile at the test provider)
soak: build
	bash scripts/soak.sh

## package: a Linux desktop package in dist/ (fyne package; FyneApp.toml is left unchanged)
package: build
	@[ -x "$(FYNE)" ] || $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_VERSION)
	@mkdir -p dist
	cp FyneApp.toml $(BIN)/FyneApp.toml.keep
	$(FYNE) package -os linux --exe $(BIN)/mailmover; rc=$$?; \
	  cp $(BIN)/FyneApp.toml.keep FyneApp.toml; exit $$rc
	mv -f *.tar.xz dist/
	@ls -l dist/

## windows: cross-compile bin/mailmover.exe (the window; GUI subsystem) and
## bin/mailmover-cli.exe (the commands; console subsystem), with icon and version info,
## and the installer dist/mailmover-VERSION-x64.msi (mingw-w64, go-winres, wixl)
windows:
	@scripts/setup.sh --windows
	scripts/build-windows.sh

clean:
	rm -rf $(BIN) dist testenv/run
