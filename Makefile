# Two commands matter on a fresh machine with only Go: `make dev` runs the
# whole sign-in flow locally, `make test` tests it. Everything else is here
# for the team: benchmarks, fuzzing, the load run, the integration run against
# independent peers, cold-start figures and deployment.

SHELL := /bin/bash
GO ?= go
PORT ?= 8080
BUILD := build
LAMBDA_ARCH ?= arm64
FUZZTIME ?= 30s

.PHONY: dev test unit e2e bench fuzz load integration coldstart lint-terraform build build-local deploy destroy clean

## dev: run the product on http://127.0.0.1:$(PORT) with local Cognito and SES stand-ins (TEMPLATES_DIR=dir: your mail templates)
dev:
	@PORT=$(PORT) SIGN_UP=$${SIGN_UP:-auto} $(GO) run .

## test: every test: unit, golden events, terraform (offline plans), local-stack flows, browser (skips loudly without Chromium or Terraform)
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	@# go test shows a skipped test's message only with -v: say it here too.
	@command -v terraform >/dev/null && find / -maxdepth 7 -path '*/registry.terraform.io/hashicorp/aws' -print -quit 2>/dev/null | grep -q . || printf '\n%s\n!!! TERRAFORM CHECKS SKIPPED: terraform or its local hashicorp/aws mirror is missing.\n!!! fmt, init, validate and the offline plans of terraform/ did not run (see DESIGN.md "Terraform on these machines").\n%s\n\n' "$$(printf '!%.0s' $$(seq 78))" "$$(printf '!%.0s' $$(seq 78))" >&2
	@[ -x /usr/bin/chromium ] || printf '\n%s\n!!! BROWSER TEST SKIPPED: /usr/bin/chromium is missing.\n!!! Install it with: bash scripts/install-chromium.sh (Debian apt-get), then run make test again.\n%s\n\n' "$$(printf '!%.0s' $$(seq 78))" "$$(printf '!%.0s' $$(seq 78))" >&2

## bench: end-to-end benchmarks of every event kind through the dispatcher
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 .

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	@set -e; for t in $$(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' . | cut -d' ' -f2 | sort -u); do \
		pkg=$$(grep -rlE "^func $$t\(" --include='*_test.go' . | head -1 | xargs dirname); \
		echo "== $$t in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

## load: N concurrent full sign-in cycles against the local stack
load:
	$(GO) run ./cmd/load -n $${N:-1000} -c $${C:-16}

## integration: the real bootstrap under the Lambda Runtime Interface Emulator, against cognito-local and aws-ses-v2-local
integration:
	bash scripts/integration.sh

## coldstart: cold-start time and peak memory under the Runtime Interface Emulator
coldstart:
	bash scripts/coldstart.sh

## lint-terraform: tflint with its Terraform rules
lint-terraform:
	bash scripts/tflint.sh

## build: the Lambda bootstrap for provided.al2023 and its zip (LAMBDA_ARCH=arm64 or x86_64; TEMPLATES_DIR=dir ships mail template overrides)
# The zip's manifest (build/bootstrap.json) names the binary's architecture,
# read from its ELF header; Terraform takes the function's architecture from
# it, so LAMBDA_ARCH is the only setting. TEMPLATES_DIR's templates are
# checked as the function checks them at start, go into the zip under
# templates/, and the manifest lists their hashes: Terraform refuses to deploy
# a zip whose templates are not those of its templates_dir.
build:
	@case "$(LAMBDA_ARCH)" in arm64|x86_64) ;; *) echo "LAMBDA_ARCH must be arm64 or x86_64, not $(LAMBDA_ARCH)" >&2; exit 2;; esac
	CGO_ENABLED=0 GOOS=linux GOARCH=$(if $(filter x86_64,$(LAMBDA_ARCH)),amd64,$(LAMBDA_ARCH)) $(GO) build -tags lambda.norpc,lambdaonly -trimpath -ldflags='-s -w' -o $(BUILD)/bootstrap .
	$(GO) run ./cmd/lambdazip -o $(BUILD)/bootstrap.zip $(if $(TEMPLATES_DIR),-templates '$(TEMPLATES_DIR)') $(BUILD)/bootstrap

## build-local: the same bootstrap for this machine's architecture
build-local:
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc,lambdaonly -trimpath -ldflags='-s -w' -o $(BUILD)/bootstrap .

# TEMPLATES_DIR, when given, reaches Terraform as templates_dir (absolute:
# Terraform runs in terraform/).
TF_TEMPLATES = $(if $(TEMPLATES_DIR),TF_VAR_templates_dir='$(abspath $(TEMPLATES_DIR))')

## deploy: build for LAMBDA_ARCH (and TEMPLATES_DIR) and apply the Terraform in terraform/
deploy: build
	terraform -chdir=terraform init -input=false
	$(TF_TEMPLATES) terraform -chdir=terraform apply

## destroy: tear the deployment down (Terraform reads the zip's source even then)
destroy: build
	terraform -chdir=terraform init -input=false
	$(TF_TEMPLATES) terraform -chdir=terraform destroy

clean:
	rm -rf $(BUILD)
