# comet's entry points. A new user needs two: `make run` and `make test` (see README.md).
# Everything else is a shortcut for development. PRESET picks the CMake preset (CMakePresets.json).
PRESET ?= dev

.PHONY: all run test deps build unit lint format check clean help
all: build

run: ## install deps, build comet, run a two-app busybox pod (a server and its client), show it, remove it
	scripts/demo.sh $(PRESET)

test: ## install deps, check format and layers, build dev + asan, run every test, clang-tidy
	scripts/test.sh

deps: ## install the Debian packages comet needs (root, or sudo)
	scripts/install-deps.sh

build: deps ## configure and build the $(PRESET) preset (build/$(PRESET))
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET)

unit: build ## the unit tests only (quick; needs no root)
	ctest --preset unit

check: ## format and layer checks only (seconds)
	scripts/check-format.sh
	scripts/check-layers.sh

lint: ## clang-tidy-14 over src/ (FILES="a.cc b.cc" to lint some files)
	scripts/lint.sh -p build/dev $(FILES)

format: ## reformat the C/C++ files in place with clang-format-14
	scripts/check-format.sh --fix

clean: ## remove every build directory
	rm -rf build

help: ## this list
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  make \1\t/' | expand -t 16
