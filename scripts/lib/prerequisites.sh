# Installs what Cocoon needs when it is missing (Debian 12). Sourced by scripts/run and scripts/test.

_apt_updated=""
_apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "cocoon: need root (or sudo) to install: $*" >&2; exit 1; }
    sudo="sudo"
  fi
  if [ -z "$_apt_updated" ]; then
    $sudo apt-get update -qq
    _apt_updated=1
  fi
  echo "cocoon: installing $* (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

require_dotnet() {
  command -v dotnet >/dev/null || { echo "cocoon: the .NET 10 SDK is required: https://dotnet.microsoft.com/download (or apt-get install dotnet-sdk-10.0)" >&2; exit 1; }
}

ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null || _apt_install nodejs npm
}

ensure_postgres() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then return; fi
  if compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then return; fi
  _apt_install postgresql
}

ensure_chromium() {
  [ -x /usr/lib/chromium/chromium ] || _apt_install chromium
}
