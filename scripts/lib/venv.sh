# Shared by the scripts: a git-ignored virtualenv holding exactly the pinned requirements.
# ensure_venv DIR REQUIREMENTS [PYTHON]: (re)installs when the requirements file changed. The
# file is hash-pinned (scripts/lock-requirements): pip refuses any package whose hash differs.
# PYTHON is the interpreter the venv is made from (python3 unless given).
ensure_venv() {
  local dir="$1" requirements="$2" python="${3:-python3}"
  local stamp="$dir/.requirements.sha" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "installing $(grep -cE '^[a-z0-9]' "$requirements") hash-pinned packages from ${requirements#"$PWD/"} into ${dir#"$PWD/"}" >&2
  "$python" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$requirements"
  echo "$want" > "$stamp"
}
