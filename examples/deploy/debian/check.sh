#!/usr/bin/env bash
# CI: builds the Debian package with cargo-deb (installed from crates.io when missing) and
# checks what a school gets from `apt install ./unicas_*.deb`: the files and their modes, the
# conffile, the unicas user and the enabled unit in the maintainer scripts, units that start
# what the package holds, and a packaged binary that runs and ships the documented defaults.
set -euo pipefail
cd "$(dirname "$0")/../../.."
command -v cargo-deb >/dev/null || cargo install -q --locked cargo-deb --version 3.8.0
started=$(date +%s)
deb=$(cargo deb -q -o target/debian/ | tail -n 1)
echo "package: $deb ($(du -h "$deb" | cut -f1), built in $(($(date +%s) - started)) s)"
fail() { echo "package check: $*" >&2; exit 1; }

contents=$(dpkg-deb --contents "$deb")
for expected in \
  "-rwxr-xr-x ./usr/bin/unicas" \
  "-rw-r----- ./etc/unicas/unicas.toml" \
  "-rw-r--r-- ./usr/lib/systemd/system/unicas.service" \
  "-rw-r--r-- ./usr/lib/systemd/system/unicas-backup.service" \
  "-rw-r--r-- ./usr/lib/systemd/system/unicas-backup.timer" \
  "-rw-r--r-- ./usr/lib/sysusers.d/unicas.conf" \
  "-rwxr-xr-x ./usr/lib/unicas/backup-nightly.sh" \
  "-rw-r--r-- ./usr/share/doc/unicas/copyright" \
  "-rw-r--r-- ./usr/share/doc/unicas/docs/operations.md"; do
  mode=${expected%% *} path=${expected#* }
  awk -v m="$mode" -v p="$path" '$1 == m && $NF == p { found = 1 } END { exit !found }' \
    <<<"$contents" || fail "no $path with mode $mode"
done
[ "$(dpkg-deb --field "$deb" Package)" = unicas ] || fail "package name"
dpkg-deb --field "$deb" Depends | grep -q systemd || fail "Depends lacks systemd"

control=$(mktemp -d) root=$(mktemp -d)
trap 'rm -rf "$control" "$root"' EXIT
dpkg-deb -e "$deb" "$control"
dpkg-deb -x "$deb" "$root"
[ "$(cat "$control/conffiles")" = /etc/unicas/unicas.toml ] || fail "conffiles"
sh -n "$control/postinst" && sh -n "$control/prerm" && sh -n "$control/postrm"
for step in "systemd-sysusers" "deb-systemd-helper enable unicas.service" \
  "chown root:unicas /etc/unicas" "install -d -m 0700 -o unicas -g unicas /var/backups/unicas"; do
  grep -qF "$step" "$control/postinst" || fail "postinst does not run: $step"
done
grep -q '^u unicas ' "$root/usr/lib/sysusers.d/unicas.conf" || fail "no unicas user"
for unit in unicas.service unicas-backup.service; do
  exec=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$root/usr/lib/systemd/system/$unit")
  [ -x "$root$exec" ] || fail "$unit starts $exec, which the package lacks"
done
"$root/usr/bin/unicas" --version
"$root/usr/bin/unicas" config example | cmp - "$root/etc/unicas/unicas.toml" \
  || fail "/etc/unicas/unicas.toml is not the documented default configuration"
echo "package check: ok"
