#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages loopspec needs that are missing. Idempotent.
set -euo pipefail

packages=(
  g++ cmake ninja-build git pkg-config ca-certificates
  libgtest-dev libgmock-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libyaml-cpp-dev
  libssl-dev openssl libuv1-dev libboost-dev
  clang-14 libclang-rt-14-dev  # the sanitized test tree (a third faster to build than with g++)
  python3 python3-uvloop
  chromium fonts-liberation libxml2-utils  # the HTML report's browser test; xmllint for the JUnit schema check
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
