#!/usr/bin/env bash
# Install what the test suite needs outside the Python venv: system packages (apt) and
# axe-core (npm, into tests/node_modules). `make test` runs this (and so does .ci/run, through
# `make test`). This is the one list of system packages the tests need.
#
# Idempotent and quick when everything is present: it only asks dpkg and looks at files, and
# runs apt-get update only when something is missing.
#
# Where it cannot install (not root, or no apt-get/npm) it prints the exact commands to stderr
# and exits 0; the tests that need the missing tool then skip with that command as the reason,
# or fail when CI=true.
#
# `--runtime`: only what building guides needs (Pango, HarfBuzz subsetting, fonts); `make demo`
# runs it that way. Without it: that plus what the tests need (Chromium, poppler, axe-core).
#
# Environment:
#   GUIDEGEN_SETUP_DRY_RUN=1  print the commands it would run ("would run: ...") and run none
#   CI=true                   an install that was tried and failed ends the script with status 1
#   PYTHON                    the interpreter the Makefile makes the venv with (default python3)
#
# Only bash builtins are used besides dpkg-query, apt-get, npm, mkdir and $PYTHON, so a test can
# run it with a PATH of stand-ins (tests/test_setup_env.py).
set -euo pipefail

script_dir=${BASH_SOURCE[0]%/*}
[[ $script_dir == "${BASH_SOURCE[0]}" ]] && script_dir=.
cd "$script_dir/.."
export DEBIAN_FRONTEND=noninteractive

# Pango for WeasyPrint; HarfBuzz subsetting (fast font subsets); DejaVu for the brand fonts,
# WenQuanYi for CJK/Korean names and Noto Color Emoji for emoji in names (a character no font
# draws refuses that runner's guide); fontconfig for fc-list (the font coverage check, doctor);
# Chromium for the browser tests; poppler-utils for pdftotext/pdffonts/pdftoppm in PDF checks.
APT_PACKAGES=(
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
  fontconfig fonts-dejavu-core fonts-wqy-microhei fonts-noto-color-emoji
  chromium poppler-utils
)
TEST_ONLY=" chromium poppler-utils "  # left out with --runtime
AXE_FILE=tests/node_modules/axe-core/axe.min.js
AXE_CMD="mkdir -p tests/node_modules && cd tests && npm install --no-save --no-audit --no-fund axe-core@4"

runtime=false
[[ ${1:-} == --runtime ]] && runtime=true
dry_run=false
[[ ${GUIDEGEN_SETUP_DRY_RUN:-} == 1 ]] && dry_run=true
in_ci=false
[[ ${CI:-} == [Tt][Rr][Uu][Ee] || ${CI:-} == 1 ]] && in_ci=true

say() { printf 'setup-test-env: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- what is missing
missing=()
declare -A installed=()
if command -v dpkg-query >/dev/null 2>&1; then
  # one dpkg-query for the whole list; unknown packages only make it exit 1
  while read -r name status; do
    [[ $status == *" ok installed" ]] && installed[$name]=1
  done < <(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true)
fi
for pkg in "${APT_PACKAGES[@]}"; do
  $runtime && [[ $TEST_ONLY == *" $pkg "* ]] && continue
  [[ -n ${installed[$pkg]:-} ]] || missing+=("$pkg")
done

# make creates .venv with $PYTHON; a fresh Debian has no venv module (python3-venv)
if [[ ! -x .venv/bin/python ]]; then
  py=${PYTHON:-python3}
  if ! command -v "$py" >/dev/null 2>&1; then
    missing+=(python3 python3-venv)
  elif ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
  fi
fi

need_npm=false
need_axe=false
if ! $runtime; then
  command -v npm >/dev/null 2>&1 || need_npm=true
  $need_npm && missing+=(nodejs npm)
  [[ -f $AXE_FILE ]] || need_axe=true
fi

if (( ${#missing[@]} == 0 )) && ! $need_axe; then
  exit 0  # everything is here
fi

apt_cmd="apt-get install -y --no-install-recommends ${missing[*]}"

# ---------------------------------------------------------------- install or explain
can_apt=false
[[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1 && can_apt=true
failed=false
todo=()  # commands the user has to run themselves

if (( ${#missing[@]} > 0 )); then
  if $dry_run; then
    say "would run: apt-get update -qq"
    say "would run: $apt_cmd"
  elif $can_apt; then
    say "installing: ${missing[*]}"
    if apt-get update -qq &&
       apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
      need_npm=false
      hash -r
    else
      say "apt-get failed"
      failed=true
      todo+=("apt-get update && $apt_cmd")
    fi
  else
    sudo=""
    [[ $EUID -ne 0 ]] && sudo="sudo "
    todo+=("${sudo}apt-get update && ${sudo}$apt_cmd")
  fi
fi

if $need_axe; then
  if $dry_run; then
    say "would run: ($AXE_CMD)"
  elif ! $need_npm && command -v npm >/dev/null 2>&1; then
    say "installing axe-core into tests/node_modules"
    if ! (mkdir -p tests/node_modules && cd tests &&
          npm install --no-save --silent --no-audit --no-fund axe-core@4 >&2); then
      say "npm install failed"
      failed=true
      todo+=("($AXE_CMD)")
    fi
  else
    todo+=("($AXE_CMD)")
  fi
fi

if (( ${#todo[@]} > 0 )); then
  say "cannot install everything the tests need (needs root with apt-get on Debian/Ubuntu)."
  say "run these commands from $PWD, then run the tests again:"
  for cmd in "${todo[@]}"; do
    printf '    %s\n' "$cmd" >&2
  done
  if $in_ci; then
    say "CI=true: the tests that need them will fail, not skip"
  else
    say "until then the tests that need them are skipped"
  fi
fi

if $failed && $in_ci; then
  exit 1
fi
exit 0
