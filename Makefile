# `sam build` (BuildMethod: makefile) calls one `build-<LogicalId>` target per
# function, each in its own make process. All of them share ONE workspace build:
# the first target runs `cargo lambda build --release` for every function crate
# at once (one dependency graph, one target/ directory); the others find the
# stamp up to date, or cargo finds nothing to do, and only copy their binary.
#
#   make lambdas      build every function into target/lambda/<name>/bootstrap
#   make sizes        zip each built bootstrap and print its size
#
# The tools come from scripts/tools.sh (.local/venv-tools): cargo-lambda links
# with zig against an old glibc, so the binaries run on provided.al2023.

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
export PATH := $(ROOT)/.local/venv-tools/bin:$(PATH)

# x86_64 (the template's Architectures); set LAMBDA_ARCH=--arm64 together with the template for Graviton.
LAMBDA_ARCH ?= --x86-64
LAMBDA_DIR := $(ROOT)/target/lambda
STAMP := $(LAMBDA_DIR)/.workspace-build.stamp

# The function crates: every directory under functions/ (the template test checks that each
# route's function has its build target below).
FUNCTIONS := $(sort $(notdir $(patsubst %/,%,$(wildcard $(ROOT)/functions/*/))))

# Anything that can change a function binary.
SOURCES := $(ROOT)/Cargo.toml $(ROOT)/Cargo.lock \
	$(shell find $(ROOT)/shared $(ROOT)/functions -type f \( -name '*.rs' -o -name Cargo.toml \) 2>/dev/null)

.PHONY: lambdas sizes
lambdas: $(STAMP)

# The stamp takes the build's start time, so a source saved while cargo runs is still newer than it.
$(STAMP): $(SOURCES)
	@command -v cargo-lambda >/dev/null || { echo "cargo-lambda not found: run scripts/tools.sh" >&2; exit 1; }
	@mkdir -p $(LAMBDA_DIR) && touch $@.started
	cd $(ROOT) && cargo lambda build --release --locked $(LAMBDA_ARCH) --lambda-dir $(LAMBDA_DIR) \
		$(addprefix --package ,$(FUNCTIONS))
	@mv $@.started $@

# $(call install,<binary name>): copy that function's bootstrap into SAM's artifact directory.
define install
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (this target is for sam build)" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp "$(LAMBDA_DIR)/$(1)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
endef

build-CustomerAnonymousFunction: $(STAMP)
	$(call install,customer-anonymous)
build-CustomerLinkFunction: $(STAMP)
	$(call install,customer-link)
build-ClientAuthVerifyFunction: $(STAMP)
	$(call install,client-auth-verify)
build-MitraAuthVerifyFunction: $(STAMP)
	$(call install,mitra-auth-verify)
build-PublicAnonymityGetFunction: $(STAMP)
	$(call install,public-anonymity-get)
build-InternalAuthVerifyFunction: $(STAMP)
	$(call install,internal-auth-verify)
build-MitrasCreateFunction: $(STAMP)
	$(call install,mitras-create)
build-MitrasListFunction: $(STAMP)
	$(call install,mitras-list)
build-MitrasStatusFunction: $(STAMP)
	$(call install,mitras-status)
build-ControlCenterUsersCreateFunction: $(STAMP)
	$(call install,control-center-users-create)
build-ControlCenterUsersListFunction: $(STAMP)
	$(call install,control-center-users-list)
build-RolesListFunction: $(STAMP)
	$(call install,roles-list)
build-AnonymityGetFunction: $(STAMP)
	$(call install,anonymity-get)
build-AnonymityPatchFunction: $(STAMP)
	$(call install,anonymity-patch)

# Sizes of what is there (run after `sam build` or `make lambdas`); zipped as SAM zips (deflate).
sizes:
	@for f in $(FUNCTIONS); do \
		z=$$(mktemp -u --suffix=.zip); \
		python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED).write(sys.argv[2], "bootstrap")' $$z $(LAMBDA_DIR)/$$f/bootstrap; \
		printf '%-30s bootstrap %6d KiB   zip %6d KiB\n' $$f $$(( $$(stat -c %s $(LAMBDA_DIR)/$$f/bootstrap) / 1024 )) $$(( $$(stat -c %s $$z) / 1024 )); \
		rm -f $$z; \
	done
