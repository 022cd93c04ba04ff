#!/usr/bin/env bash
# Packs installable tarballs of pd-router's packages into a folder (default: ./packs). Nothing is
# published to a registry yet: install from these files (docs/deployment.md, "Install from
# tarballs"). Run from a clone after `pnpm install`. `--no-build` packs what is already built.
set -euo pipefail
build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$PWD/packs}" && cd "${1:-$PWD/packs}" && pwd)"
cd "$root"
if [ "$build" = 1 ]; then
  pnpm --filter @pd-router/core --filter @pd-router/server --filter @pd-router/mock-vllm --filter @pd-router/bench build >&2
fi
# pnpm, not npm, packs: it rewrites the workspace:^ dependencies into real versions.
for package in core server mock-vllm bench; do
  (cd "packages/$package" && pnpm pack --pack-destination "$out" >&2)
done
ls "$out"/*.tgz
