#!/usr/bin/env bash
# Installs the kiosk into a root file system: the image build runs it on the
# Raspberry Pi OS root it is making, and the tests run it on a Debian 12 root
# made with debootstrap. One script, so what the tests check is what ships.
#
#   image-build/install-kiosk.sh [--apt] [--wheels DIR] ROOT
#
#   --apt         first install the Debian packages the kiosk needs (in ROOT,
#                 with apt-get; the image build uses this)
#   --wheels DIR  install the kiosk and its pinned wheels from DIR only
#                 (pip --no-index); without it pip builds the kiosk from this
#                 source tree and fetches the wheels from PyPI
#   --print-apt   print the Debian package list and exit
#
# ROOT must hold Debian's python3 and python3-venv (Bookworm: Python 3.11).
# Commands that must run inside ROOT run through chroot, so the venv's paths
# are those of the running kiosk. Layout: docs/deployment.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source_tree="$(cd "$here/.." && pwd)"

prefix=/opt/kiosk
venv="$prefix/.venv"

# apt's picamera2 and pygame (Debian's SDL2 has kmsdrm; pip's wheels often
# lack it), the CJK font for the screens, the read-only root's overlay, the
# pedal's GPIO library, the GL and GLib libraries OpenCV links against,
# and systemd (repart, sysusers) and udev.
apt_packages="python3 python3-venv libgl1 libglib2.0-0 python3-picamera2 python3-pygame python3-gpiozero python3-lgpio fonts-wqy-zenhei overlayroot systemd udev"

use_apt=0
wheels=""
while [ $# -gt 0 ]; do
  case "$1" in
    --apt) use_apt=1 ;;
    --wheels) wheels="$(cd "$2" && pwd)"; shift ;;
    --print-apt) echo "$apt_packages"; exit 0 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "install-kiosk.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
if [ $# -ne 1 ]; then
  echo "usage: install-kiosk.sh [--apt] [--wheels DIR] ROOT" >&2
  exit 2
fi
root="$(cd "$1" && pwd)"
if [ "$root" = / ]; then
  echo "install-kiosk.sh: refusing to install into / (give the image's root folder)" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-kiosk.sh: needs root (chroot, file ownership)" >&2
  exit 2
fi

log() { echo "install-kiosk.sh: $*"; }

# /proc, /sys and /dev inside ROOT for pip and apt; only what we mounted is
# unmounted again (mmdebstrap's hooks already have them).
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[$i]}" || true
  done
  rm -rf "$root/tmp/kiosk-install"
}
trap cleanup EXIT
for fs in proc sys dev; do
  mkdir -p "$root/$fs"
  if ! mountpoint -q "$root/$fs"; then
    mount --rbind "/$fs" "$root/$fs"
    mount --make-rslave "$root/$fs"
    mounted+=("$root/$fs")
  fi
done
if [ ! -s "$root/etc/resolv.conf" ] && [ -e /etc/resolv.conf ]; then
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
fi

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

if [ "$use_apt" = 1 ]; then
  log "installing Debian packages: $apt_packages"
  in_root apt-get update -qq
  # shellcheck disable=SC2086  # the list is meant to split into words
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $apt_packages
fi
if [ ! -x "$root/usr/bin/python3" ]; then
  echo "install-kiosk.sh: $root has no /usr/bin/python3; install python3 and python3-venv there (or pass --apt)" >&2
  exit 1
fi

# -- the program: a venv that also sees apt's picamera2 and pygame ----------
log "venv at $venv (system site packages visible)"
install -d -m 0755 "$root$prefix"
in_root python3 -m venv --system-site-packages "$venv"
# apt's picamera2 and simplejpeg are built against numpy 1.
printf 'numpy<2\n' > "$root$prefix/constraints.txt"
stage="$root/tmp/kiosk-install"
rm -rf "$stage"
mkdir -p "$stage"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location -c "$prefix/constraints.txt")
if [ -n "$wheels" ]; then
  cp -a "$wheels" "$stage/wheels"
  in_root "${pip[@]}" --no-index --find-links /tmp/kiosk-install/wheels kiosk
else
  mkdir -p "$stage/src"
  (cd "$source_tree" && tar -cf - --exclude=.venv --exclude=.git --exclude=.cache --exclude='*.egg-info' \
      --exclude=__pycache__ pyproject.toml README.md kiosk central) | tar -xf - -C "$stage/src"
  in_root "${pip[@]}" /tmp/kiosk-install/src
fi
# pip's pygame wheel bundles an SDL2 built without kmsdrm; Debian's has it.
# With apt's python3-pygame in ROOT, the venv uses that one.
if [ -d "$root/usr/lib/python3/dist-packages/pygame" ]; then
  log "using apt's pygame (Debian's SDL2 has kmsdrm): removing pip's copy from the venv"
  in_root "$venv/bin/python" -m pip uninstall --quiet --yes pygame
fi
install -d "$root$prefix/docs"
install -m 0644 "$source_tree"/docs/*.md "$source_tree/systemd/central-tls.conf.example" "$root$prefix/docs/"

# -- users, folders, config -------------------------------------------------
files="$here/files"
install -D -m 0644 "$files/sysusers-kiosk.conf" "$root/usr/lib/sysusers.d/kiosk.conf"
install -D -m 0644 "$files/tmpfiles-kiosk.conf" "$root/usr/lib/tmpfiles.d/kiosk.conf"
in_root systemd-sysusers /usr/lib/sysusers.d/kiosk.conf
install -d -m 0750 "$root/var/lib/kiosk"
in_root chown kiosk:kiosk /var/lib/kiosk
install -d -m 0755 "$root/etc/kiosk"
if [ ! -e "$root/etc/kiosk/kiosk.toml" ]; then
  # Readable by the kiosk only: it holds the crew PIN and the sync token.
  install -m 0640 "$files/kiosk.toml" "$root/etc/kiosk/kiosk.toml"
  in_root chgrp kiosk /etc/kiosk/kiosk.toml
fi

# -- units, udev rules, journal, data partition -----------------------------
for unit in kiosk.service kiosk-sync.service kiosk-sync.timer central.service; do
  install -D -m 0644 "$source_tree/systemd/$unit" "$root/usr/lib/systemd/system/$unit"
done
install -D -m 0644 "$source_tree/hardware/70-kiosk.rules" "$root/etc/udev/rules.d/70-kiosk.rules"
install -D -m 0644 "$files/journald-kiosk.conf" "$root/etc/systemd/journald.conf.d/50-kiosk.conf"
install -D -m 0644 "$files/journal-flush-kiosk.conf" \
  "$root/etc/systemd/system/systemd-journal-flush.service.d/50-kiosk.conf"
install -D -m 0644 "$files/repart-kiosk-data.conf" "$root/usr/lib/repart.d/50-kiosk-data.conf"
if [ -d "$root/var/log/journal" ] && [ ! -L "$root/var/log/journal" ]; then
  rm -rf "$root/var/log/journal"
fi
ln -sfn /var/lib/kiosk/journal "$root/var/log/journal"
touch "$root/etc/fstab"
if ! grep -q 'LABEL=kioskdata' "$root/etc/fstab"; then
  cat "$files/fstab-kiosk" >> "$root/etc/fstab"
fi

# The station on tty1 and the sync timer start at boot; the receiver is for
# the central server and stays off on a kiosk.
systemctl --root="$root" enable kiosk.service kiosk-sync.timer
systemctl --root="$root" set-default multi-user.target
log "done: $venv/bin/kiosk, units in /usr/lib/systemd/system, config /etc/kiosk/kiosk.toml"
